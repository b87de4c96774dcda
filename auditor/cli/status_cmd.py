"""auditor status."""

from __future__ import annotations

import typer
from rich.table import Table

from auditor import clock
from auditor.cli.common import EXIT_FAIL, JsonOpt, LangOpt, OnOpt, WorkspaceOpt, handle_errors, out, parse_day, print_json
from auditor.cli.context import workspace_context
from auditor.i18n import _
from auditor.obligations.evaluate import evaluate_obligations


def verdict_label(verdict: str) -> str:
    return {"pass": _("pass"), "fail": _("fail"), "not_applicable": _("not applicable")}.get(verdict, verdict)


@handle_errors
def status(on: OnOpt = None, workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Every obligation as pass / fail / not applicable, with its legal reference and evidence (exit 1 on a fail)."""
    today = parse_day(on, "--on") if on else clock.today()
    with workspace_context(workspace) as ctx:
        evaluation = evaluate_obligations(ctx, today)
    rules, results = evaluation.rules, evaluation.results
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
