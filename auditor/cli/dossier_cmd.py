"""auditor dossier create | list | show | submit | appraise | approve | return | render."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from auditor import clock
from auditor.cli.common import JsonOpt, LangOpt, OnOpt, WorkspaceOpt, handle_errors, out, parse_day, print_json, say
from auditor.cli.context import workspace_context
from auditor.cli.signer_opts import (
    KeyLabelOpt,
    LibOpt,
    P12Opt,
    PassphraseFileOpt,
    PinFileOpt,
    SignerChoice,
    TokenOpt,
    chosen_signer,
)
from auditor.i18n import _
from auditor.labels import label
from auditor.obligations.levels import deadline_label
from auditor.problems import display_path
from auditor.services import dossiers
from auditor.store.tables import DossierRow
from auditor.textformat import day

app = typer.Typer(add_completion=False, no_args_is_help=True)
SignerOpt = Annotated[str, typer.Option("--signer", help="Name and title of the person acting.")]


@app.command("create")
@handle_errors
def create(system: Annotated[str, typer.Argument(help="The system.")],
           regime: Annotated[str | None, typer.Option("--regime", help="r85 or r331 (default: in force on --on).")] = None,
           on: OnOpt = None, workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Build the level dossier of a system from the inventory and the level proposal (state: draft)."""
    day = parse_day(on, "--on")
    with workspace_context(workspace) as ctx:
        row = dossiers.create_dossier(ctx, system, on=day, regime=regime)
    if as_json:
        print_json(_summary(row))
    else:
        say(_("Dossier {id} (version {version}) for {system}: proposed level {level} under {regime}; "
                    "state: draft.").format(id=row.id, version=row.version, system=system, level=row.proposed_level,
                                            regime=row.regime))


def _summary(d: DossierRow) -> dict[str, object]:
    data = dossiers.DossierView(d, []).as_json()
    del data["deadlines"]
    return data


@app.command("list")
@handle_errors
def list_(workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Dossiers, their state and their time limits."""
    with workspace_context(workspace) as ctx:
        views = dossiers.list_dossiers(ctx, clock.today())
    if as_json:
        print_json({"dossiers": [v.as_json() for v in views]})
        return
    t = Table(title=_("Level dossiers"))
    for column in ("#", _("System"), _("Version"), _("State"), _("Level"), _("Regime"), _("Time limits")):
        t.add_column(column)
    for v in views:
        d = v.row
        limits = "; ".join(f"{label(x.step)} {day(x.due)} {deadline_label(x.status)}" for x in v.deadlines)
        t.add_row(str(d.id), d.system_id, str(d.version), label(d.state),
                  str(d.approved_level or d.proposed_level), d.regime, limits)
    out.print(t)


@app.command("show")
@handle_errors
def show(dossier_id: int, workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = True) -> None:
    """The dossier with its frozen snapshot and the parties to each step (JSON)."""
    with workspace_context(workspace) as ctx:
        view = dossiers.get_dossier(ctx, dossier_id, clock.today())
    data = view.as_json(full=True)
    del data["deadlines"]
    print_json(data)


@app.command("submit")
@handle_errors
def submit(dossier_id: int, by: Annotated[str, typer.Option("--by", help="The submitting organisation (operator).")],
           signer: SignerOpt, on: OnOpt = None, workspace: WorkspaceOpt = None, lang: LangOpt = None,
           as_json: JsonOpt = False) -> None:
    """Submit the dossier for appraisal (draft → submitted)."""
    day = parse_day(on, "--on")
    with workspace_context(workspace) as ctx:
        d = dossiers.submit_dossier(ctx, dossier_id, org=by, signer=signer, on=day)
    _done(d, as_json)


def _done(d: DossierRow, as_json: bool) -> None:
    if as_json:
        print_json(_summary(d))
    else:
        say(_("Dossier {id}: {state}.").format(id=d.id, state=label(d.state)))


@app.command("appraise")
@handle_errors
def appraise(dossier_id: int,
             opinion: Annotated[str, typer.Option("--opinion", help="agree, agree_with_conditions or disagree.")],
             conditions: Annotated[str | None, typer.Option("--conditions", help="The conditions, if any.")] = None,
             p12: P12Opt = None, passphrase_file: PassphraseFileOpt = None, pkcs11_lib: LibOpt = None,
             token: TokenOpt = None, key_label: KeyLabelOpt = None, pin_file: PinFileOpt = None, on: OnOpt = None,
             workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Record the appraisal opinion, signed with the appraiser's certificate (submitted → appraised, or returned
    when the opinion is disagree); the dossier's PDF is signed too."""
    day = parse_day(on, "--on")
    choice = SignerChoice(p12, passphrase_file, pkcs11_lib, token, key_label, pin_file)
    with workspace_context(workspace) as ctx, chosen_signer(choice) as signer:
        d = dossiers.appraise_dossier(ctx, dossier_id, signer, opinion=opinion, conditions=conditions, on=day)
    _done(d, as_json)


@app.command("approve")
@handle_errors
def approve(dossier_id: int,
            decision: Annotated[str, typer.Option("--decision", help="Number of the approval decision.")],
            level: Annotated[int | None, typer.Option("--level", help="The level approved (default: proposed).")] = None,
            p12: P12Opt = None, passphrase_file: PassphraseFileOpt = None, pkcs11_lib: LibOpt = None,
            token: TokenOpt = None, key_label: KeyLabelOpt = None, pin_file: PinFileOpt = None, on: OnOpt = None,
            workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Record the approval decision, signed with the approver's certificate (appraised → approved); the approver's
    signature is added to the PDF the appraiser signed."""
    day = parse_day(on, "--on")
    choice = SignerChoice(p12, passphrase_file, pkcs11_lib, token, key_label, pin_file)
    with workspace_context(workspace) as ctx, chosen_signer(choice) as signer:
        d = dossiers.approve_dossier(ctx, dossier_id, signer, decision_number=decision, level=level, on=day)
    _done(d, as_json)


@app.command("return")
@handle_errors
def return_cmd(dossier_id: int, reason: Annotated[str, typer.Option("--reason", help="Why it is returned.")],
               by: Annotated[str, typer.Option("--by", help="The organisation returning it.")], signer: SignerOpt,
               on: OnOpt = None, workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Return the dossier to the operator (submitted or appraised → returned)."""
    day = parse_day(on, "--on")
    with workspace_context(workspace) as ctx:
        d = dossiers.return_dossier(ctx, dossier_id, org=by, signer=signer, reason=reason, on=day)
    _done(d, as_json)


@app.command("render")
@handle_errors
def render(dossier_id: int,
           out_dir: Annotated[Path, typer.Option("--out", help="Folder for the HTML and PDF.")] = Path("reports-out"),
           workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Write the dossier as HTML and PDF (Vietnamese by default)."""
    with workspace_context(workspace) as ctx:
        files = dossiers.render_dossier(ctx, dossier_id, out_dir)
    if as_json:
        print_json({"dossier": dossier_id, "files": [str(f) for f in files]})
    else:
        for f in files:
            say(_("Written: {file}").format(file=display_path(f)))
