"""auditor demo."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from auditor.catalogue.checks import load_catalogue
from auditor.cli.common import LangOpt, handle_errors, out, plain, say, scan_progress
from auditor.cli.findings_view import findings_table
from auditor.cli.report_cmd import print_published
from auditor.demo.dossier import DemoConsole, DemoDossier
from auditor.demo.reports import DemoReports
from auditor.demo.run import demo as run_demo
from auditor.i18n import _
from auditor.labels import label
from auditor.obligations.model import summary_line
from auditor.problems import display_path


def _print_dossier(dd: DemoDossier, workspace: Path) -> None:
    determined = [p for p in dd.proposals if p.level is not None]
    say(_("Levels proposed for {n} of {total} systems ({regime}).").format(
        n=len(determined), total=len(dd.proposals), regime=dd.proposals[0].regime if dd.proposals else ""))
    d = dd.dossier
    appraiser = d.parties["appraisal"]["decision"]["officer"]
    approver = d.parties["approval"]["decision"]["officer"]
    say(_("Dossier {id} for {system}: level {level}, appraised ({opinion}) by {appraiser} and approved by {approver} "
          "by decision {decision}; both signed with certificates of the DEMO CA (not for real use), in the ledger "
          "and in the PDF.").format(id=d.id, system=d.system_id, level=d.approved_level,
                                    opinion=label(d.appraisal_opinion), appraiser=appraiser["name"],
                                    approver=approver["name"], decision=d.decision_number))
    for f in dd.files:
        say(_("Written: {file}").format(file=display_path(f)))
    v = dd.verify
    if v.ok:
        say(_("Ledger intact: {entries} entries, {signatures} signatures and {dossiers} dossiers verified.")
                  .format(entries=v.entries, signatures=v.signatures, dossiers=v.dossiers))
    else:
        say(_("The ledger does not verify"))


def _print_console(console: DemoConsole, workspace: Path, port: int, serving: bool) -> None:
    """The demo accounts and certificates, then the console's address (the last thing the demo says)."""
    t = Table(title=_("Demo accounts (password: {password})").format(password=console.password))
    for column in (_("Account"), _("Role"), _("Organisation"), _("Name")):
        t.add_column(column)
    for name, role, org, person in console.accounts:
        t.add_row(name, label(role), org, plain(person))
    out.print(t)
    for org, path in console.certificates.items():
        say(_("Demo certificate of {org}: {file} (passphrase {passphrase})").format(
            org=org, file=display_path(path), passphrase=console.passphrase))
    if console.awaiting is not None:
        say(_("Dossier {id} awaits appraisal: sign in as canbo, open it and appraise it with the certificate of "
              "so-khcn.").format(id=console.awaiting))
    url = f"http://127.0.0.1:{port}/"
    if serving:
        say(_("Web console: {url}").format(url=url))
    else:
        say(_("Web console: cd {dir} && auditor serve, then open {url} (or run the demo with --serve)").format(
            dir=display_path(workspace), url=url))


def _print_agent_tasks(tasks: list[tuple[str, str, str, int, str]]) -> None:
    t = Table(title=_("Tasks sent to the zones' agents"))
    for col in (_("Zone"), _("Check"), _("Agent"), _("Targets"), _("State")):
        t.add_column(col)
    for zone, family, agent, targets, state in tasks:
        t.add_row(zone, family, agent, str(targets), state)
    out.print(t)


def _print_reports(reports: DemoReports, workspace: Path) -> None:
    for published in (reports.annual, reports.drill):
        if published is not None:
            print_published(published)
    pdf = next(f for f in reports.annual.files if f.suffix == ".pdf")
    say(_("Annual report {year}: open {file}").format(year=reports.year, file=display_path(pdf)))
    out.print(summary_line(reports.obligations))
    say(_("Next: cd {dir} && auditor status").format(dir=display_path(workspace)))


@handle_errors
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where to write the demo workspace.")] = Path(
        "demo-workspace"),
    serve: Annotated[bool, typer.Option("--serve", help="Keep the services and the web console up until Ctrl+C.")]
    = False,
    serve_for: Annotated[float | None, typer.Option("--serve-for", help="Keep them up this many seconds.")] = None,
    port: Annotated[int, typer.Option("--port", help="The console's port (on 127.0.0.1).")] = 8080,
    zones: Annotated[bool, typer.Option("--zones", help="Two network zones, each scanned by its own agent through "
                                                        "a Redis of the demo's own.")] = False,
    lang: LangOpt = None,
) -> None:
    """`auditor demo` (its help text is in auditor/cli/__init__.py, LAZY)."""
    started = time.monotonic()
    with scan_progress() as advance:
        ctx = run_demo(directory, progress=advance, zones=zones)
        run = ctx.__enter__()
    try:
        t = Table(title=_("Services started on loopback"))
        for col in (_("System"), _("Host"), _("Listening on"), _("Declared port"), _("Service")):
            t.add_column(col)
        for s in run.served + run.stray:
            t.add_row(s.system, s.host, f"{s.address}:{s.port}", str(s.declared_port or "—"), plain(s.what))
        out.print(t)
        say(_("Workspace written: {dir}").format(dir=display_path(run.workspace)))
        assert run.sync is not None
        say(_("Inventory valid: {n} systems; loaded into {store} ({added} added, {changed} changed).").format(
            n=run.systems, store=run.store_url, added=run.sync.added, changed=run.sync.changed))
        for r in run.scans:
            say(_("{family} scan: {targets} targets in {s:.1f} s, {opened} findings opened.").format(
                family=r.family.upper(), targets=r.targets, s=r.seconds, opened=r.applied.opened if r.applied else 0))
        if run.agent_tasks:
            _print_agent_tasks(run.agent_tasks)
        catalogue = load_catalogue(run.workspace / "checks")
        out.print(findings_table(run.findings, catalogue, _("Findings")))
        if run.dossier is not None:
            _print_dossier(run.dossier, run.workspace)
        if run.reports is not None:
            _print_reports(run.reports, run.workspace)
        if run.dossier is not None:
            _print_console(run.dossier.console, run.workspace, port, serve or serve_for is not None)
        if serve or serve_for is not None:
            from auditor.web.server import run_console

            say(_("The services and the console stay up{until}; in another terminal: cd {dir} && auditor scan")
                .format(until=_(" until Ctrl+C") if serve_for is None else _(" for {s:.0f} s").format(s=serve_for),
                        dir=display_path(run.workspace)))
            run_console(run.workspace.resolve(), "127.0.0.1", port, seconds=serve_for)
    finally:
        ctx.__exit__(None, None, None)
    say(_("Demo finished in {s:.1f} s.").format(s=time.monotonic() - started))
