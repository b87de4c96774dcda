"""Showing findings: a rich table for people, and the JSON shape every check family shares."""

from __future__ import annotations

from rich.table import Table

from auditor.catalogue.checks import SEVERITY_ORDER, Catalogue
from auditor.findings.lifecycle import FindingView
from auditor.i18n import _


def severity_label(severity: str) -> str:
    labels = {"critical": _("critical"), "high": _("high"), "medium": _("medium"), "low": _("low"), "info": _("info")}
    return labels.get(severity, severity)


def status_label(status: str) -> str:
    labels = {"open": _("open"), "accepted": _("accepted risk"), "resolved": _("resolved")}
    return labels.get(status, status)


def sort_findings(views: list[FindingView]) -> list[FindingView]:
    return sorted(views, key=lambda v: (-SEVERITY_ORDER.get(v.severity, 0), v.system, v.target, v.check))


def findings_table(views: list[FindingView], catalogue: Catalogue, title: str) -> Table:
    t = Table(title=title)
    for col in ("#", _("Severity"), _("Status"), _("System"), _("Target"), _("Check"), _("Last seen")):
        t.add_column(col)
    for v in sort_findings(views):
        t.add_row(str(v.id), severity_label(v.severity), status_label(v.status), v.system, v.target,
                  f"{catalogue.title(v.check)} [dim]({v.check})[/dim]", v.last_seen.strftime("%Y-%m-%d %H:%M"))
    return t


def blocking(views: list[FindingView]) -> list[FindingView]:
    """Open, unaccepted findings above 'info': what makes an audit fail (exit code 1)."""
    return [v for v in views if v.status == "open" and SEVERITY_ORDER.get(v.severity, 0) > 0]
