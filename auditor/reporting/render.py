"""Render a template of the workspace's reports/ folder to HTML and PDF."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from auditor.i18n import _, get_language, pick
from auditor.labels import label
from auditor.problems import InputError, Problem, display_path
from auditor.workspace import Workspace


def vnd(value: object) -> str:
    """Đồng with dots between thousands, as Vietnamese documents write them."""
    return f"{int(str(value)):,}".replace(",", ".")


def pct(value: object) -> str:
    """A percentage as the language writes it: 66,7% in Vietnamese, 66.7% in English."""
    if value is None:
        return "—"
    text = str(value)
    return (text.replace(".", ",") if get_language() == "vi" else text) + "%"


def duration(minutes: object) -> str:
    if minutes is None:
        return "—"
    hours, rest = divmod(int(str(minutes)), 60)
    if hours == 0:
        return _("{minutes} min").format(minutes=rest)
    return _("{hours} h {minutes} min").format(hours=hours, minutes=rest)


def environment(ws: Workspace) -> Environment:
    env = Environment(loader=FileSystemLoader(str(ws.content("reports"))), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(_=_, pick=pick, lang=get_language)
    env.filters["label"] = label
    env.filters["labels"] = lambda values: ", ".join(label(v) for v in values or [])
    env.filters["vnd"] = vnd
    env.filters["pct"] = pct
    env.filters["duration"] = duration
    env.filters["date"] = lambda v: dt.date.fromisoformat(str(v)[:10]).strftime("%d/%m/%Y") if v else "—"
    return env


def render_html(ws: Workspace, template: str, context: dict[str, Any]) -> str:
    return environment(ws).get_template(template).render(**context)


def output_dir(out_dir: Path) -> Path:
    """The folder reports go to, made if missing; a path that cannot be one is a usage error (exit 2)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".auditor-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InputError([Problem(display_path(out_dir), 1, 1, "--out", _("cannot write reports here: {error}")
                                  .format(error=exc.strerror or exc))]) from None
    return out_dir


def write_html_pdf(ws: Workspace, template: str, context: dict[str, Any], out_dir: Path, stem: str) -> list[Path]:
    from weasyprint import HTML

    output_dir(out_dir)
    html = render_html(ws, template, context)
    html_path = out_dir / f"{stem}.html"
    html_path.write_text(html, encoding="utf-8")
    pdf_path = out_dir / f"{stem}.pdf"
    HTML(string=html, base_url=str(ws.content("reports"))).write_pdf(pdf_path)
    return [html_path, pdf_path]
