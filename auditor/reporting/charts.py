"""The annual report's charts (matplotlib, SVG), drawn from the snapshot only."""

from __future__ import annotations

import base64
import io
from typing import Any

from auditor.i18n import _
from auditor.labels import label
from auditor.textformat import pct
from auditor.vocabulary import SEVERITIES, Severity, Verdict

COLOURS = {Severity.CRITICAL: "#7f0000", Severity.HIGH: "#d7301f", Severity.MEDIUM: "#fc8d59", Severity.LOW: "#fdcc8a",
           Severity.INFO: "#bdbdbd"}
PASS, FAIL, NEUTRAL = "#2b8a3e", "#c92a2a", "#4c6ef5"


def _figure(width: float = 6.4, height: float = 2.6) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 8, "svg.hashsalt": "auditor",
                         "axes.spines.top": False, "axes.spines.right": False})
    return plt.subplots(figsize=(width, height))


def _svg(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.tight_layout()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


def data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def levels_chart(levels: dict[str, int]) -> str:
    fig, ax = _figure(3.1, 2.4)
    keys = [k for k in ("1", "2", "3", "4", "5", "?") if k in levels]
    bars = ax.bar([_("level {level}").format(level=k) if k != "?" else _("undetermined") for k in keys],
                  [levels[k] for k in keys], color=NEUTRAL)
    ax.bar_label(bars)
    ax.set_title(_("Systems by proposed level"))
    ax.set_yticks([])
    return _svg(fig)


def approval_chart(counts: dict[str, int]) -> str:
    fig, ax = _figure(3.3, 2.4)
    steps = [("total", _("systems")), ("classified", _("classified")), ("dossier_built", _("dossier built")),
             ("appraised", _("appraised")), ("approved", _("approved")),
             ("approved_and_inspected", _("approved and inspected"))]
    values = [counts[k] for k, _l in steps][::-1]
    bars = ax.barh([name for _k, name in steps][::-1], values,
                   color=[PASS if k.startswith("approved") else NEUTRAL for k, _l in steps][::-1])
    ax.bar_label(bars, padding=2)
    ax.set_title(_("Approval coverage"))
    ax.set_xticks([])
    return _svg(fig)


def findings_chart(monthly: dict[str, dict[str, int]]) -> str:
    fig, ax = _figure(6.4, 2.4)
    months = list(monthly)
    bottom = [0] * len(months)
    for sev in SEVERITIES:
        values = [monthly[m].get(sev, 0) for m in months]
        ax.bar([m[5:] + "/" + m[2:4] for m in months], values, bottom=bottom, color=COLOURS[sev], label=label(sev))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_title(_("Technical findings first seen, by month and severity"))
    ax.legend(ncols=5, fontsize=7, frameon=False, loc="upper left")
    ax.set_ylim(0, max([*bottom, 1]) * 1.3)
    return _svg(fig)


def budget_chart(budget: list[dict[str, Any]]) -> str:
    fig, ax = _figure(6.4, max(1.4, 0.45 * len(budget) + 0.8))
    names = [b["id"] for b in budget][::-1]
    shares = [float(b["share_percent"]) for b in budget][::-1]
    colours = [PASS if b["verdict"] == Verdict.PASS else FAIL if b["verdict"] == Verdict.FAIL else NEUTRAL
               for b in budget][::-1]
    bars = ax.barh(names, shares, color=colours)
    ax.bar_label(bars, labels=[pct(f"{s:.2f}") for s in shares], padding=2)
    for i, b in enumerate(budget[::-1]):
        if b["threshold_percent"] is not None:
            t = float(b["threshold_percent"])
            ax.plot([t, t], [i - 0.4, i + 0.4], color="black", linewidth=1.2)
    ax.set_title(_("Security share of each plan and project (line: the threshold in force)"))
    ax.set_xlim(0, max([*shares, 20]) * 1.25)
    return _svg(fig)


def annual_charts(snapshot: dict[str, Any]) -> dict[str, str]:
    charts = {"levels": levels_chart(snapshot["levels"]), "approval": approval_chart(snapshot["counts"]),
              "findings": findings_chart(snapshot["findings"]["opened_by_month"])}
    if snapshot["budget"]:
        charts["budget"] = budget_chart(snapshot["budget"])
    return {k: data_uri(v) for k, v in charts.items()}
