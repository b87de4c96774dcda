"""auditor status."""

from __future__ import annotations

import typer
from rich.table import Table

from auditor import clock
from auditor.cli.common import (
    EXIT_FAIL,
    JsonOpt,
    LangOpt,
    OnOpt,
    WorkspaceOpt,
    handle_errors,
    out,
    parse_day,
    plain,
    print_json,
)
from auditor.cli.context import workspace_context
from auditor.i18n import _
from auditor.labels import label
from auditor.obligations.evaluate import evaluate_obligations
from auditor.obligations.model import summary_line
from auditor.vocabulary import Verdict, verdict_counts

VERDICT_STYLE = {Verdict.PASS: "green", Verdict.FAIL: "red", Verdict.INDETERMINATE: "yellow", Verdict.NOT_APPLICABLE: "dim"}


@handle_errors
def status(on: OnOpt = None, workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Every obligation as pass / fail / cannot be judged / not applicable, with its legal reference and evidence
    (exit 1 when one fails or cannot be judged)."""
    today = parse_day(on, "--on") if on else clock.today()
    with workspace_context(workspace) as ctx:
        evaluation = evaluate_obligations(ctx, today)
    rules, results = evaluation.rules, evaluation.results
    if as_json:
        print_json({"on": today.isoformat(), "obligations": [r.as_json(rules) for r in results],
                    "summary": {v.value: n for v, n in verdict_counts(r.verdict for r in results).items()}})
    else:
        for rule_id, rule in rules.items():
            rows = [r for r in results if r.rule == rule_id]
            if not rows:
                continue
            t = Table(title=f"{plain(rule.display_title())} [dim]({plain(rule.reference)})[/dim]", title_justify="left")
            for column in (_("Subject"), _("Verdict"), _("Evidence")):
                t.add_column(column)
            for r in rows:
                style = VERDICT_STYLE[r.verdict]
                t.add_row(plain(r.subject), f"[{style}]{label(r.verdict)}[/{style}]", plain(r.evidence))
            out.print(t)
        out.print(summary_line(results))
    if any(r.verdict.fails_audit for r in results):
        raise typer.Exit(EXIT_FAIL)
