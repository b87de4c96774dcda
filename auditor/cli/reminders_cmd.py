"""auditor reminders."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from auditor import clock
from auditor.cli.common import JsonOpt, LangOpt, OnOpt, WorkspaceOpt, handle_errors, out, parse_day, plain, print_json, say
from auditor.cli.context import workspace_context
from auditor.i18n import _
from auditor.labels import label
from auditor.services.notify import send_reminders
from auditor.services.reminders import by_unit, reminders
from auditor.textformat import day


@handle_errors
def reminders_cmd(
    days: Annotated[int, typer.Option("--days", help="What falls due within this many days (and what is overdue).")]
    = 30,
    send: Annotated[bool, typer.Option("--send", help="E-mail each unit its list (notifications.yaml names the SMTP "
                                                      "server).")] = False,
    on: OnOpt = None, workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False,
) -> None:
    """`auditor reminders` (its help text is in auditor/cli/__init__.py, LAZY)."""
    today = parse_day(on, "--on") if on else clock.today()
    if not 0 <= days <= 3660:
        raise typer.BadParameter(_("between 0 and 3660"), param_hint="--days")
    with workspace_context(workspace) as ctx:
        if send:
            report = send_reminders(ctx, today, days)
            if as_json:
                print_json({"sent": report.sent, "no_address": report.no_address})
            else:
                for org, n in report.sent.items():
                    say(_("Sent to {org}: {n} items.").format(org=org, n=n))
                for org in report.no_address:
                    say(_("{org} has no e-mail address in the inventory: not sent.").format(org=org))
            return
        items = reminders(ctx, today, days)
        names = {o.id: o.name for o in ctx.loaded.inventory.organisations}
    if as_json:
        print_json({"on": today.isoformat(), "days": days, "reminders": [r.as_json(today) for r in items]})
        return
    if not items:
        say(_("Nothing falls due within {days} days.").format(days=days))
        return
    for org, group in by_unit(items).items():
        t = Table(title=plain(names.get(org, org)), title_justify="left")
        for column in (_("Due"), _("Kind"), _("Subject"), _("What")):
            t.add_column(column)
        for r in group:
            due = day(r.due) + (" " + _("(overdue)") if r.overdue(today) else "")
            t.add_row(due, label(r.kind), plain(r.subject), plain(r.what))
        out.print(t)
