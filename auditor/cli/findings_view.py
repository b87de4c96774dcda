"""Showing findings: a rich table for people, and the JSON shape every check family shares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.cli.common import out, plain
from auditor.findings.view import FindingView
from auditor.i18n import _
from auditor.labels import label
from auditor.textformat import moment
from auditor.vocabulary import Severity, finding_fails_audit

if TYPE_CHECKING:  # listing findings as JSON needs neither the catalogue nor rich's tables
    from rich.table import Table

    from auditor.catalogue.checks import Catalogue


def sort_findings(views: list[FindingView]) -> list[FindingView]:
    return sorted(views, key=lambda v: (-v.severity.rank, v.system, v.target, v.check))


def findings_table(views: list[FindingView], catalogue: Catalogue, title: str, width: int | None = None) -> Table:
    """The findings as a table that fits the terminal: at 80 columns the check's id stands for its title and the
    last-seen time is left out; a target is folded onto a second line, never cut."""
    from rich.table import Table

    narrow = (width or out.width) < 120
    t = Table(title=title)
    t.add_column("#", no_wrap=True)
    t.add_column(_("Severity"))
    if not narrow:
        t.add_column(_("Status"))
    t.add_column(_("System"), overflow="fold")
    t.add_column(_("Target"), overflow="fold", min_width=12)
    t.add_column(_("Check"), overflow="fold")
    if not narrow:
        t.add_column(_("Last seen"), no_wrap=True)
    for v in sort_findings(views):
        severity = label(v.severity) + ("" if not narrow or v.status.value == "open" else f" ({label(v.status)})")
        if narrow:
            t.add_row(str(v.id), severity, v.system, plain(v.target), v.check)
        else:
            t.add_row(str(v.id), severity, label(v.status), v.system, plain(v.target),
                      f"{plain(catalogue.title(v.check))} [dim]({v.check})[/dim]", moment(v.last_seen))
    return t


def failing(views: list[FindingView], fail_from: Severity) -> list[FindingView]:
    """The findings that fail the audit (exit code 1): the one rule of auditor.vocabulary."""
    return [v for v in views if finding_fails_audit(v.status, v.severity, fail_from)]
