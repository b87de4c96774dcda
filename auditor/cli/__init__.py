"""The auditor command line (typer)."""

from __future__ import annotations

import gc
import importlib
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from auditor import __version__
from auditor.cli.common import LangOpt, handle_errors, out, say
from auditor.cli.help_text import help_language, translate_help, without_lang_for_help
from auditor.i18n import _
from auditor.problems import display_path
from auditor.workspace import init_workspace


@dataclass(frozen=True)
class Lazy:
    """A command whose module is imported only when it runs or its own help is asked for. Its help text is here,
    so `auditor --help` lists every command without importing any of them."""

    module: str
    attribute: str  # a typer.Typer (a group of commands) or a function (one command)
    help: str

    def load(self, name: str) -> TyperCommand | TyperGroup:
        target = getattr(importlib.import_module(self.module), self.attribute)
        command: Any
        if isinstance(target, typer.Typer):
            target.info.help = self.help
            command = typer.main.get_group(target)  # a group even when it holds one command ('advisories import')
        else:
            single = typer.Typer(add_completion=False)
            single.command(name, help=self.help)(target)
            command = typer.main.get_command(single)
        assert isinstance(command, TyperCommand | TyperGroup)
        command.name = name
        return command


LAZY: dict[str, Lazy] = {
    "demo": Lazy("auditor.cli.demo_cmd", "demo", "Start services on loopback, write a demo workspace that declares "
                 "them, run the auditor on it, and say how\nto open the web console (with --serve, keep it up)."),
    "scan": Lazy("auditor.cli.scan_cmd", "scan",
                 "Run the technical checks on the declared targets, store the findings and show them."),
    "verify": Lazy("auditor.cli.verify_cmd", "verify", "Check the whole ledger: hash chain, signatures, and every "
                   "row the verdicts read against the state the chain\nrecords; with FILE, also that the file is a "
                   "report this workspace wrote, unchanged; with --anchor, that the\nledger still holds the head a "
                   "published file names (exit 1 on a break or no match)."),
    "anchor": Lazy("auditor.cli.verify_cmd", "anchor", "The ledger's head now (sequence number and hash): keep a "
                   "copy away from the server, and check it later with\n'auditor verify --anchor FILE'."),
    "status": Lazy("auditor.cli.status_cmd", "status", "Every obligation as pass / fail / cannot be judged / not "
                   "applicable, with its legal reference and evidence\n(exit 1 when one fails or cannot be "
                   "judged)."),
    "serve": Lazy("auditor.cli.console_cmd", "serve",
                  "Run the web console for officers and leaders (sign in with an account of 'auditor users add')."),
    "reminders": Lazy("auditor.cli.reminders_cmd", "reminders_cmd", "What falls due, unit by unit: remediation due "
                      "dates, acceptances about to lapse, certificates about to\nexpire, dossier time limits, "
                      "inspections and drills."),
    "inventory": Lazy("auditor.cli.inventory_cmd", "app", "Validate, load and list the inventory."),
    "findings": Lazy("auditor.cli.findings_cmd", "app", "Show findings and accept risks."),
    "level": Lazy("auditor.cli.level_cmd", "app", "Security levels."),
    "dossier": Lazy("auditor.cli.dossier_cmd", "app", "Level dossiers and their appraisal and approval."),
    "keys": Lazy("auditor.cli.keys_cmd", "app", "The Ed25519 keys of earlier versions, kept to verify what they "
                 "signed (officers now sign with certificates: see 'auditor trust')."),
    "trust": Lazy("auditor.cli.trust_cmd", "app",
                  "Trust anchors (the CAs that certify officers) and revocation lists, imported offline."),
    "budget": Lazy("auditor.cli.budget_cmd", "app", "The cybersecurity share of IT plans and projects."),
    "records": Lazy("auditor.cli.records_cmd", "app",
                    "Inspections, drills, incident-response plans and deployment status."),
    "report": Lazy("auditor.cli.report_cmd", "app", "The annual compliance report and drill reports (HTML, PDF, "
                   "JSON, CSV; recorded in the ledger)."),
    "advisories": Lazy("auditor.cli.patch_cmd", "advisories_app",
                       "Offline advisory data (OSV, Debian security tracker)."),
    "agent": Lazy("auditor.cli.agent_cmd", "app", "Scanning agents in network zones the auditor cannot reach, and "
                  "package collection\non such hosts."),
    "discover": Lazy("auditor.cli.scan_cmd", "discover", "Find hosts and services in the organisations' declared "
                     "networks that the inventory does not\ndeclare (nmap host discovery and top ports)."),
    "schedule": Lazy("auditor.cli.schedule_cmd", "app", "Run the checks on their schedule."),
    "users": Lazy("auditor.cli.console_cmd", "app", "Accounts of the web console."),
}
# the order of `auditor --help`: single commands first, then the groups
_ORDER = ("demo", "scan", "discover", "verify", "anchor", "status", "serve", "reminders", "init", "version", "inventory",
          "findings", "level", "dossier", "keys", "trust", "budget", "records", "report", "advisories", "agent",
          "schedule", "users")


class _AuditorGroup(TyperGroup):
    """The root command. Sub-commands are imported when used (a command pays only for what it needs: `findings`
    does not load the scanners or the report's PDF engine), and --help comes in the language of the messages."""

    _listing = False

    def main(self, args: Sequence[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        given = list(sys.argv[1:] if args is None else args)
        help_language(given)
        translate_help(self)
        return super().main(without_lang_for_help(given), *rest, **kwargs)

    def list_commands(self, ctx: Any) -> list[str]:
        return [name for name in _ORDER if name in self.commands or name in LAZY]

    def get_command(self, ctx: Any, cmd_name: str) -> TyperCommand | TyperGroup | None:
        if cmd_name in self.commands:
            loaded = self.commands[cmd_name]
            assert isinstance(loaded, TyperCommand | TyperGroup)
            return loaded
        lazy = LAZY.get(cmd_name)
        if lazy is None:
            return None
        if self._listing:  # the root's help lists the command by its help text alone
            return TyperCommand(cmd_name, help=_(lazy.help))
        command = lazy.load(cmd_name)
        translate_help(command)
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in self.list_commands(ctx):
            matches = get_close_matches(name, self.list_commands(ctx))
            hint = f" Did you mean {', '.join(map(repr, matches))}?" if matches else ""
            ctx.fail(f"No such command {name!r}.{hint}")
        return super().resolve_command(ctx, args)

    def load_all(self) -> TyperGroup:
        """Every command imported (tools/i18n_update.py extracts the help texts of the whole tree)."""
        for name in self.list_commands(typer.Context(self)):
            self.get_command(typer.Context(self), name)
        return self


app = typer.Typer(
    name="auditor",
    cls=_AuditorGroup,
    help="Information-security compliance auditor for Vietnamese state bodies.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(lang: LangOpt = None) -> None:
    # --lang before the command too ('auditor --lang en --help'); help_language has read it already
    pass


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
    # SIGTERM (kill, systemd stopping the unit) unwinds like Ctrl-C: transactions roll back, a report's staged
    # files are removed, its PDF layout process is stopped; nothing is left half-written
    signal.signal(signal.SIGTERM, _terminated)
    app()


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)
