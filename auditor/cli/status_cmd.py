"""auditor status."""

from __future__ import annotations

from typing import Annotated

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
from auditor.obligations.model import Result, summary_line
from auditor.vocabulary import Verdict, verdict_counts

# rows a table shows in the terminal unless --all: a province of 10,000 systems has 90,000 results, which no one
# reads on a screen and which took the terminal renderer 20 s; what does not pass is shown first
ROWS_SHOWN = 200

VERDICT_STYLE = {Verdict.PASS: "green", Verdict.FAIL: "red", Verdict.INDETERMINATE: "yellow", Verdict.NOT_APPLICABLE: "dim"}


@handle_errors
def status(on: OnOpt = None,
           system: Annotated[list[str] | None, typer.Option("--system", "-s", help="Only this system (repeatable).")]
           = None,
           by: Annotated[str, typer.Option("--by", help="Group the tables by obligation or by system.")] = "obligation",
           show_all: Annotated[bool, typer.Option("--all", help=f"Every row; otherwise at most {ROWS_SHOWN} per table, "
                                                  "those that do not pass first.")] = False,
           workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """`auditor status` (its help text is in auditor/cli/__init__.py, LAZY)."""
    today = parse_day(on, "--on") if on else clock.today()
    if by not in ("obligation", "system"):
        raise typer.BadParameter(_("obligation or system"), param_hint="--by")
    with workspace_context(workspace) as ctx:
        chosen = ctx.check_systems(system)
        evaluation = evaluate_obligations(ctx, today)
    rules, results = evaluation.rules, evaluation.results
    if chosen is not None:
        results = [r for r in results if r.subject.split(" ")[0] in chosen]
    if as_json:
        print_json({"on": today.isoformat(), "obligations": [r.as_json(rules) for r in results],
                    "summary": {v.value: n for v, n in verdict_counts(r.verdict for r in results).items()}})
    elif by == "system":
        subjects: dict[str, list[Result]] = {}
        for r in results:
            subjects.setdefault(r.subject.split(" ")[0], []).append(r)
        for subject, rows in subjects.items():
            t = Table(title=plain(subject), title_justify="left")
            for column in (_("Obligation"), _("Verdict"), _("Evidence")):
                t.add_column(column, overflow="fold")
            rows, hidden = _shown(rows, show_all)
            for r in rows:
                style = VERDICT_STYLE[r.verdict]
                rule = rules[r.rule]
                t.add_row(f"{plain(rule.display_title())} [dim]({plain(rule.reference)})[/dim]",
                          f"[{style}]{label(r.verdict)}[/{style}]", plain(r.evidence))
            out.print(t)
            _more(hidden)
        out.print(summary_line(results))
    else:
        for rule_id, rule in rules.items():
            rows = [r for r in results if r.rule == rule_id]
            if not rows:
                continue
            t = Table(title=f"{plain(rule.display_title())} [dim]({plain(rule.reference)})[/dim]", title_justify="left")
            for column in (_("Subject"), _("Verdict"), _("Evidence")):
                t.add_column(column)
            rows, hidden = _shown(rows, show_all)
            for r in rows:
                style = VERDICT_STYLE[r.verdict]
                t.add_row(plain(r.subject), f"[{style}]{label(r.verdict)}[/{style}]", plain(r.evidence))
            out.print(t)
            _more(hidden)
        out.print(summary_line(results))
    if any(r.verdict.fails_audit for r in results):
        raise typer.Exit(EXIT_FAIL)


def _shown(rows: list[Result], show_all: bool) -> tuple[list[Result], list[Result]]:
    """The rows a table shows and those it leaves out: all of them with --all or when they are few; else the
    first ROWS_SHOWN, those that do not pass first (in their order)."""
    if show_all or len(rows) <= ROWS_SHOWN:
        return rows, []
    ordered = [r for r in rows if r.verdict is not Verdict.PASS] + [r for r in rows if r.verdict is Verdict.PASS]
    return ordered[:ROWS_SHOWN], ordered[ROWS_SHOWN:]


def _more(hidden: list[Result]) -> None:
    if hidden:
        counts = verdict_counts(r.verdict for r in hidden)
        out.print(_("… and {n} more rows not shown ({counts}): --all shows them, --system one system, --json all "
                    "of them for a program.").format(
            n=len(hidden), counts=", ".join(f"{n} {label(v)}" for v, n in counts.items() if n)))
