"""auditor schedule run | status."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from auditor import clock
from auditor.cli.common import JsonOpt, LangOpt, WorkspaceOpt, err, handle_errors, out, print_json, say
from auditor.cli.context import workspace_context
from auditor.i18n import _
from auditor.levels.current import current_levels
from auditor.scheduler import Scheduler, file_lock, jobs, load_schedule, mark_interrupted, scan_lock
from auditor.services.notify import load_notifications, send_reminders
from auditor.textformat import moment

app = typer.Typer(add_completion=False, no_args_is_help=True)


@app.command("run")
@handle_errors
def run(once: Annotated[bool, typer.Option("--once", help="Run what is due now, then exit (for cron).")] = False,
        workspace: WorkspaceOpt = None, lang: LangOpt = None) -> None:
    """Run each check family for each system at the interval of its level; SIGTERM stops after the current job."""
    with workspace_context(workspace) as ctx, file_lock(ctx.ws.state_dir / "schedule.lock", _("the scheduler")):
        with scan_lock(ctx.ws), ctx.store.session() as s:
            interrupted = ctx.interrupted + mark_interrupted(s)
        if interrupted:
            err.print(_("{n} run(s) interrupted earlier were marked as such").format(n=interrupted))

        def log(message: str) -> None:
            err.print(f"{clock.now().isoformat()} {message}", markup=False)

        remind = None
        if load_notifications(ctx.ws.root) is not None:  # the workspace names an SMTP server: remind daily

            def remind() -> str:
                report = send_reminders(ctx, clock.today())
                return _("reminders sent to {units}; no address for {missing}").format(
                    units=", ".join(f"{org} ({n})" for org, n in report.sent.items()) or "—",
                    missing=", ".join(report.no_address) or "—")

        scheduler = Scheduler(ctx.ws, ctx.store, ctx.loaded.inventory, log, remind)
        if once:
            done = scheduler.tick(survive=False)
            say(_("{n} job(s) run.").format(n=done))
        else:
            log(_("scheduler started; press Ctrl-C or send SIGTERM to stop"))
            scheduler.run_forever()
            log(_("scheduler stopped"))


@app.command("status")
@handle_errors
def status(workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """The last and next run of each check family for each system."""
    with workspace_context(workspace) as ctx, ctx.store.session() as s:
        spec = load_schedule(ctx.ws.content("profiles"))
        levels = current_levels(s, ctx.loaded.inventory, ctx.ws.content("profiles"), clock.today())
        items = jobs(s, ctx.loaded.inventory, spec, levels)
    now = clock.now()
    if as_json:
        print_json({"jobs": [{"family": j.family, "system": j.system, "interval_hours": j.interval.total_seconds() / 3600,
                              "last_started": j.last_started, "last_status": j.last_status,
                              "next_due": j.next_due() or now, "due_now": j.due(now)} for j in items]})
        return
    t = Table(title=_("Schedule"))
    for col in (_("Check"), _("System"), _("Every"), _("Last run"), _("Result"), _("Next run")):
        t.add_column(col)
    for j in items:
        nd = j.next_due()
        t.add_row(j.family, j.system, f"{j.interval.total_seconds() / 3600:g} h",
                  moment(j.last_started), j.last_status or "—",
                  _("now") if j.due(now) else moment(nd))
    out.print(t)
