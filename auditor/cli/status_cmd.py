"""auditor status."""

from __future__ import annotations

import datetime as dt

import typer
from rich.table import Table
from sqlmodel import select

from auditor.budget.check import BUDGET, check_budget, load_budget
from auditor.cli.common import EXIT_FAIL, JsonOpt, LangOpt, OnOpt, WorkspaceOpt, handle_errors, out, parse_day, print_json
from auditor.cli.context import workspace_context
from auditor.i18n import _
from auditor.levels.propose import LevelRules
from auditor.levels.regimes import load_calendar, load_regimes
from auditor.obligations.budget import budget_results
from auditor.obligations.levels import evaluate_levels
from auditor.obligations.model import load_rules
from auditor.store.tables import DossierRow


def verdict_label(verdict: str) -> str:
    return {"pass": _("pass"), "fail": _("fail"), "not_applicable": _("not applicable")}.get(verdict, verdict)


@handle_errors
def status(on: OnOpt = None, workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Every obligation as pass / fail / not applicable, with its legal reference and evidence (exit 1 on a fail)."""
    today = parse_day(on, "--on") if on else dt.date.today()
    with workspace_context(workspace) as ctx:
        profiles = ctx.ws.content("profiles")
        rules = load_rules(profiles)
        with ctx.store.session() as s:
            dossiers = list(s.exec(select(DossierRow).order_by(DossierRow.id)))
        results = evaluate_levels(ctx.loaded.inventory, dossiers, LevelRules(profiles), load_calendar(profiles), today)
        plans = load_budget(ctx.ws.root / BUDGET, ctx.loaded.inventory)
        results += budget_results(check_budget(plans, load_regimes(profiles)))
    if as_json:
        print_json({"on": today.isoformat(), "obligations": [r.as_json(rules) for r in results],
                    "summary": {v: sum(1 for r in results if r.verdict == v) for v in ("pass", "fail", "not_applicable")}})
    else:
        for rule_id, rule in rules.items():
            rows = [r for r in results if r.rule == rule_id]
            if not rows:
                continue
            t = Table(title=f"{rule.display_title()} [dim]({rule.reference})[/dim]", title_justify="left")
            for col in (_("Subject"), _("Verdict"), _("Evidence")):
                t.add_column(col)
            for r in rows:
                style = {"pass": "green", "fail": "red"}.get(r.verdict, "dim")
                t.add_row(r.subject, f"[{style}]{verdict_label(r.verdict)}[/{style}]", r.evidence)
            out.print(t)
        fails = sum(1 for r in results if r.verdict == "fail")
        out.print(_("{fails} obligations fail, {passes} pass, {na} not applicable.").format(
            fails=fails, passes=sum(1 for r in results if r.verdict == "pass"),
            na=sum(1 for r in results if r.verdict == "not_applicable")))
    if any(r.verdict == "fail" for r in results):
        raise typer.Exit(EXIT_FAIL)
