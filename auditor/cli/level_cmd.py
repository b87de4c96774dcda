"""auditor level propose."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

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
from auditor.levels.propose import LevelRules

app = typer.Typer(add_completion=False, no_args_is_help=True)


@app.command("propose")
@handle_errors
def propose_cmd(
    system: Annotated[str | None, typer.Argument(help="The system (all systems when left out).")] = None,
    regime: Annotated[str | None, typer.Option("--regime", help="r85 or r331 (default: in force on --on).")] = None,
    on: OnOpt = None, workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False,
) -> None:
    """Propose the security level from the declared facts, with every criterion that matched."""
    day = parse_day(on, "--on")
    with workspace_context(workspace) as ctx:
        ids = ctx.check_systems([system] if system else None)
        rules = LevelRules(ctx.ws.content("profiles"))
        proposals = [rules.propose(s, day, regime) for s in ctx.loaded.inventory.systems if ids is None or s.id in ids]
    if as_json:
        print_json(proposals[0].as_json() if system else {"proposals": [p.as_json() for p in proposals]})
    else:
        for p in proposals:
            head = _("{system}: level {level} ({regime})").format(system=p.system, level=p.level, regime=p.regime_title) \
                if p.level else f"{p.system}: {p.reason}"
            out.print(f"[bold]{plain(head)}[/bold]")
            if p.matched:
                t = Table(show_header=True, box=None, pad_edge=False)
                for col in (_("Level"), _("Article"), _("Criterion"), _("Component")):
                    t.add_column(col)
                for m in p.matched:
                    t.add_row(str(m.level), plain(m.article), plain(m.title), plain(m.component or ""))
                out.print(t)
    if any(p.level is None for p in proposals):
        raise typer.Exit(EXIT_FAIL)
