"""auditor scan."""

from __future__ import annotations

from typing import Annotated

import typer

from auditor import clock
from auditor.catalogue.checks import load_catalogue
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
from auditor.cli.findings_view import failing, findings_table
from auditor.findings.lifecycle import list_findings
from auditor.i18n import _
from auditor.obligations.model import audit_fail_from, load_rules
from auditor.scan import FAMILIES, run_scan
from auditor.scheduler import scan_lock
from auditor.vocabulary import Verdict


@handle_errors
def scan(
    system: Annotated[list[str] | None, typer.Option("--system", "-s", help="Only this system (repeatable).")] = None,
    check: Annotated[list[str] | None, typer.Option("--check", "-c",
                                                    help="Check family: tls, ports, patch (repeatable).")] = None,
    workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False,
) -> None:
    """Run the technical checks on the declared targets, store the findings and show them."""
    families = set(check or FAMILIES)
    unknown = families - set(FAMILIES)
    if unknown:
        err.print(_("unknown check family: {names}; known: {known}").format(
            names=", ".join(sorted(unknown)), known=", ".join(FAMILIES)))
        raise typer.Exit(EXIT_INPUT)
    with workspace_context(workspace) as ctx:
        systems = ctx.check_systems(system)
        catalogue = load_catalogue(ctx.ws.content("checks"))
        fail_from = audit_fail_from(load_rules(ctx.ws.content("profiles")))
        with scan_progress(disable=as_json, elapsed=True) as advance, scan_lock(ctx.ws):
            reports = run_scan(ctx.ws, ctx.store, ctx.loaded.inventory, families, systems, progress=advance)
        judged = {(o.check, o.system, o.target) for r in reports for o in r.outcomes}
        with ctx.store.session() as s:
            views = [v for v in list_findings(s, clock.today(), systems=systems)
                     if (v.check, v.system, v.target) in judged]
    if as_json:
        print_json({
            "runs": [{"family": r.family, "run_id": r.run_id, "targets": r.targets, "seconds": round(r.seconds, 2),
                      "opened": r.applied.opened if r.applied else 0,
                      "resolved": r.applied.resolved if r.applied else 0,
                      "indeterminate": [{"check": o.check, "system": o.system, "target": o.target, "detail": o.detail}
                                        for o in r.outcomes if o.verdict is Verdict.INDETERMINATE],
                      "policies": r.policy_by_system} for r in reports],
            "findings": [v.as_json() for v in views],
        })
    else:
        for r in reports:
            a = r.applied
            say(_("{family}: {targets} targets in {s:.1f} s; {opened} opened, {resolved} resolved, "
                        "{ind} checks indeterminate.").format(
                family=r.family.upper(), targets=r.targets, s=r.seconds, opened=a.opened if a else 0,
                resolved=a.resolved if a else 0, ind=sum(1 for o in r.outcomes if o.verdict is Verdict.INDETERMINATE)))
        if views:
            out.print(findings_table(views, catalogue, _("Findings on the scanned targets")))
        else:
            say(_("No findings on the scanned targets."))
    if failing(views, fail_from):
        raise typer.Exit(EXIT_FAIL)
