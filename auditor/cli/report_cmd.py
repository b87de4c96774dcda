"""auditor report annual | drill."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from auditor import clock
from auditor.cli.common import (
    EXIT_INPUT,
    JsonOpt,
    LangOpt,
    OnOpt,
    WorkspaceOpt,
    err,
    handle_errors,
    parse_day,
    print_json,
    say,
)
from auditor.cli.context import Context, workspace_context
from auditor.cli.signer_opts import (
    KeyLabelOpt,
    LibOpt,
    P12Opt,
    PassphraseFileOpt,
    PinFileOpt,
    SignerChoice,
    TokenOpt,
    officer_signer,
)
from auditor.i18n import _
from auditor.problems import display_path
from auditor.reporting.publish import Issuer, Published

app = typer.Typer(add_completion=False, no_args_is_help=True)

OutOpt = Annotated[Path | None, typer.Option("--out", help="Folder for the files (default: reports-out/ in the "
                                                            "workspace).")]


@contextmanager
def issuer_of(choice: SignerChoice, ctx: Context) -> Iterator[Issuer | None]:
    """The leader who signs the report, when a certificate was given."""
    if not choice.given:
        yield None
        return
    with ctx.store.session() as s, officer_signer(choice, s) as (signer, officer):
        yield Issuer.of(ctx.loaded.inventory, signer, officer)


def print_published(published: Published) -> None:
    """The files written and the ledger entry that records them."""
    for f in published.files:
        say(_("Written: {file}").format(file=display_path(f)))
    say(_("Recorded in ledger entry #{seq}; snapshot SHA-256 {digest}.").format(seq=published.ledger_seq,
                                                                                    digest=published.snapshot_sha256))


def _report(published: Published, as_json: bool, extra: dict[str, Any]) -> None:
    if as_json:
        print_json({**extra, "report": published.report_id, "ledger_entry": published.ledger_seq,
                    "snapshot_sha256": published.snapshot_sha256, "files": [str(f) for f in published.files]})
    else:
        print_published(published)


@app.command("annual")
@handle_errors
def annual(year: Annotated[int, typer.Option("--year", help="The year reported on (period 15/12 of the year before "
                                                           "to 14/12).")],
           out_dir: OutOpt = None, on: OnOpt = None, p12: P12Opt = None, passphrase_file: PassphraseFileOpt = None,
           pkcs11_lib: LibOpt = None, token: TokenOpt = None, key_label: KeyLabelOpt = None,
           pin_file: PinFileOpt = None, workspace: WorkspaceOpt = None, lang: LangOpt = None,
           as_json: JsonOpt = False) -> None:
    """Write the annual compliance report: KPIs against targets, charts, the form 08 table, gaps, budget, drills;
    with a certificate (--p12 or --token), the leader who issues it signs the PDF."""
    from auditor.reporting.annual import publish_annual

    today = parse_day(on, "--on") if on else clock.today()
    if not 2000 <= year <= today.year + 1:
        err.print(_("--year: {year} is not a year this report can cover").format(year=year))
        raise typer.Exit(EXIT_INPUT)
    choice = SignerChoice(p12, passphrase_file, pkcs11_lib, token, key_label, pin_file)
    with workspace_context(workspace) as ctx, issuer_of(choice, ctx) as issuer:
        snapshot, published = publish_annual(ctx, year, today, out_dir or ctx.ws.root / "reports-out", issuer)
    _report(published, as_json, {"year": year, "period": snapshot["period"], "kpis": snapshot["kpis"]})


@app.command("drill")
@handle_errors
def drill(drill_id: Annotated[str, typer.Argument(help="The drill's id in the records.")], out_dir: OutOpt = None,
          on: OnOpt = None, p12: P12Opt = None, passphrase_file: PassphraseFileOpt = None, pkcs11_lib: LibOpt = None,
          token: TokenOpt = None, key_label: KeyLabelOpt = None, pin_file: PinFileOpt = None,
          workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Write the report of one drill: objectives, scope, team, timeline with response times, findings, follow-up;
    with a certificate, signed by who issues it."""
    from auditor.reporting.drill import publish_drill

    today = parse_day(on, "--on") if on else clock.today()
    choice = SignerChoice(p12, passphrase_file, pkcs11_lib, token, key_label, pin_file)
    with workspace_context(workspace) as ctx, issuer_of(choice, ctx) as issuer:
        snapshot, published = publish_drill(ctx, drill_id, today, out_dir or ctx.ws.root / "reports-out", issuer)
    _report(published, as_json, {"drill": drill_id, "times": snapshot["times"]})
