"""auditor scan."""

from __future__ import annotations

from typing import Annotated

import typer

from auditor.catalogue.checks import Catalogue, load_catalogue
from auditor.cli.common import (
    EXIT_FAIL,
    EXIT_INPUT,
    JsonOpt,
    LangOpt,
    WorkspaceOpt,
    err,
    handle_errors,
    out,
    print_json,
    say,
    scan_progress,
)
from auditor.cli.context import workspace_context
from auditor.cli.findings_view import findings_table
from auditor.i18n import _
from auditor.scan import FAMILIES
from auditor.services.scans import ScanRequestError, ScanResult, check_families
from auditor.services.scans import discover as discover_networks
from auditor.services.scans import scan as scan_systems


@handle_errors
def scan(
    system: Annotated[list[str] | None, typer.Option("--system", "-s", help="Only this system (repeatable).")] = None,
    check: Annotated[list[str] | None, typer.Option("--check", "-c",
                                                    help="Check family: tls, ports, patch (repeatable).")] = None,
    workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False,
) -> None:
    """`auditor scan` (its help text is in auditor/cli/__init__.py, LAZY)."""
    families = set(check or FAMILIES)
    try:
        check_families(families)
    except ScanRequestError as exc:
        err.print(str(exc))
        raise typer.Exit(EXIT_INPUT) from None
    with workspace_context(workspace) as ctx:
        catalogue = load_catalogue(ctx.ws.content("checks"))
        with scan_progress(disable=as_json, elapsed=True) as advance:
            result = scan_systems(ctx, families, system, progress=advance)
    _show(result, catalogue, as_json)


@handle_errors
def discover(
    zone: Annotated[str | None, typer.Option("--zone", "-z", help="Only this network zone's networks.")] = None,
    workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False,
) -> None:
    """`auditor discover` (its help text is in auditor/cli/__init__.py, LAZY)."""
    with workspace_context(workspace) as ctx:
        catalogue = load_catalogue(ctx.ws.content("checks"))
        with scan_progress(disable=as_json, elapsed=True) as advance:
            result = discover_networks(ctx, zone, progress=advance)
    if not as_json:
        for v in result.findings:
            proposed = v.detail.get("proposed") if v.status.value == "open" else None
            if isinstance(proposed, str):
                say(_("{target}: proposed inventory entry:").format(target=v.target))
                out.print(proposed, markup=False, highlight=False)
    _show(result, catalogue, as_json)


def _show(result: ScanResult, catalogue: Catalogue, as_json: bool) -> None:
    if as_json:
        print_json(result.as_json())
    else:
        for r in result.reports:
            a = r.applied
            say(_("{family}: {targets} targets in {s:.1f} s; {opened} opened, {resolved} resolved, "
                        "{ind} checks indeterminate.").format(
                family=r.family.upper(), targets=r.targets, s=r.seconds, opened=a.opened if a else 0,
                resolved=a.resolved if a else 0, ind=len(r.indeterminate)))
        if result.findings:
            out.print(findings_table(result.findings, catalogue, _("Findings on the scanned targets")))
        else:
            say(_("No findings on the scanned targets."))
    if result.failing:
        raise typer.Exit(EXIT_FAIL)
