"""The auditor command line (typer)."""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from auditor import __version__
from auditor.cli import (
    budget_cmd,
    console_cmd,
    demo_cmd,
    dossier_cmd,
    findings_cmd,
    inventory_cmd,
    keys_cmd,
    level_cmd,
    patch_cmd,
    records_cmd,
    reminders_cmd,
    report_cmd,
    scan_cmd,
    schedule_cmd,
    status_cmd,
    trust_cmd,
    verify_cmd,
)
from auditor.cli.common import LangOpt, handle_errors, out, say
from auditor.cli.help_text import help_language, translate_help
from auditor.i18n import _
from auditor.problems import display_path
from auditor.workspace import init_workspace


class _AuditorGroup(TyperGroup):
    """The root command: --help comes in the language of the messages."""

    def main(self, args: Sequence[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        help_language(sys.argv[1:] if args is None else args)
        translate_help(self)
        return super().main(args, *rest, **kwargs)


app = typer.Typer(
    name="auditor",
    cls=_AuditorGroup,
    help="Information-security compliance auditor for Vietnamese state bodies.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(inventory_cmd.app, name="inventory")
app.command("demo")(demo_cmd.demo)
app.command("scan")(scan_cmd.scan)
app.add_typer(findings_cmd.app, name="findings")
app.add_typer(level_cmd.app, name="level")
app.add_typer(dossier_cmd.app, name="dossier")
app.add_typer(keys_cmd.app, name="keys")
app.add_typer(trust_cmd.app, name="trust")
app.add_typer(budget_cmd.app, name="budget")
app.add_typer(records_cmd.app, name="records")
app.add_typer(report_cmd.app, name="report")
app.add_typer(patch_cmd.advisories_app, name="advisories")
app.add_typer(patch_cmd.agent_app, name="agent")
app.add_typer(schedule_cmd.app, name="schedule")
app.command("verify")(verify_cmd.verify)
app.command("anchor")(verify_cmd.anchor)
app.command("status")(status_cmd.status)
app.command("serve")(console_cmd.serve)
app.command("reminders")(reminders_cmd.reminders_cmd)
app.add_typer(console_cmd.app, name="users")


@app.command("init")
@handle_errors
def init(directory: Annotated[Path, typer.Argument(help="Folder for the new workspace.")],
         lang: LangOpt = None) -> None:
    """Create a workspace: inventory.yaml with commented examples, and checks/, profiles/, reports/."""
    written = init_workspace(directory)
    say(_("Workspace created in {dir}:").format(dir=display_path(directory)))
    for p in written:
        out.print(f"  {display_path(p)}")
    say(_("Next: edit inventory.yaml, then run 'auditor inventory check'."))


@app.command("version")
def version() -> None:
    """Print the version."""
    out.print(__version__)


def main() -> None:
    # A command is one short process that builds large tables (a province's report: 200,000 findings, each a
    # dict); the collector's default thresholds make it sweep them again and again for cycles that hardly exist.
    gc.set_threshold(100_000, 50, 50)
    app()
