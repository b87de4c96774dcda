"""auditor budget check."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from auditor.budget.check import BUDGET, check_budget, load_budget
from auditor.cli.common import EXIT_FAIL, JsonOpt, LangOpt, WorkspaceOpt, handle_errors, out, plain, print_json, say
from auditor.cli.context import workspace_context
from auditor.cli.status_cmd import VERDICT_STYLE
from auditor.i18n import _
from auditor.labels import label
from auditor.levels.regimes import load_regimes
from auditor.textformat import day, vnd
from auditor.vocabulary import Verdict

app = typer.Typer(add_completion=False, no_args_is_help=True)


@app.command("check")
@handle_errors
def check(year: Annotated[int | None, typer.Option("--year", help="Only plans approved in this year.")] = None,
          workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Per plan and project: total, security amount, share, the threshold in force on its approval date, verdict."""
    with workspace_context(workspace) as ctx:
        plans = load_budget(ctx.ws.root / BUDGET, ctx.loaded.inventory)
        verdicts = check_budget(plans, load_regimes(ctx.ws.content("profiles")), year)
    nothing = None
    if not plans:
        nothing = _("{file} declares no plan or project: the share cannot be judged").format(file=BUDGET)
    elif not verdicts:
        nothing = _("no plan or project was approved in {year}: the share cannot be judged").format(year=year)
    if as_json:
        print_json({"plans": [v.as_json() for v in verdicts], "verdict": Verdict.INDETERMINATE if nothing else None,
                    "reason": nothing})
    elif nothing:
        say(nothing)
    else:
        t = Table(title=_("Cybersecurity share of IT plans and projects"))
        for col in (_("Plan or project"), _("Approved on"), _("Total (VND)"), _("Security (VND)"), _("Share"),
                    _("Threshold"), _("Verdict")):
            t.add_column(col)
        for v in verdicts:
            threshold = f"{v.threshold_percent}%" if v.threshold_percent is not None else (
                _("a line") if v.rule else "—")
            style = VERDICT_STYLE[v.verdict]
            t.add_row(f"{plain(v.plan.title)} [dim]({v.plan.id})[/dim]", day(v.plan.approved_on), vnd(v.plan.total),
                      vnd(v.security), f"{v.share_percent}%", f"{threshold} [dim]{plain(v.reference or '')}[/dim]",
                      f"[{style}]{label(v.verdict)}[/{style}]")
        out.print(t)
    if nothing or any(v.verdict.fails_audit for v in verdicts):
        raise typer.Exit(EXIT_FAIL)
