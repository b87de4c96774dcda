"""Showing findings: a rich table for people, and the JSON shape every check family shares."""

from __future__ import annotations

from rich.table import Table

from auditor.catalogue.checks import Catalogue
from auditor.cli.common import plain
from auditor.findings.lifecycle import FindingView
from auditor.i18n import _
from auditor.labels import label
from auditor.vocabulary import Severity, finding_fails_audit


def sort_findings(views: list[FindingView]) -> list[FindingView]:
    return sorted(views, key=lambda v: (-v.severity.rank, v.system, v.target, v.check))


def findings_table(views: list[FindingView], catalogue: Catalogue, title: str) -> Table:
    t = Table(title=title)
    for column in ("#", _("Severity"), _("Status"), _("System"), _("Target"), _("Check"), _("Last seen")):
        t.add_column(column)
    for v in sort_findings(views):
        t.add_row(str(v.id), label(v.severity), label(v.status), v.system, plain(v.target),
                  f"{plain(catalogue.title(v.check))} [dim]({v.check})[/dim]", v.last_seen.strftime("%Y-%m-%d %H:%M"))
    return t


def failing(views: list[FindingView], fail_from: Severity) -> list[FindingView]:
    """The findings that fail the audit (exit code 1): the one rule of auditor.vocabulary."""
    return [v for v in views if finding_fails_audit(v.status, v.severity, fail_from)]
