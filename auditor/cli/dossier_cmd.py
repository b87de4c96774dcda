"""auditor dossier create | list | show | submit | appraise | approve | return | render."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlmodel import Session, col, select

from auditor import clock
from auditor.catalogue.checks import load_catalogue
from auditor.cli.common import JsonOpt, LangOpt, OnOpt, WorkspaceOpt, handle_errors, out, parse_day, print_json, say
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
from auditor.dossier import workflow
from auditor.dossier.build import build_snapshot
from auditor.dossier.document import sign_step, write_dossier
from auditor.findings.lifecycle import list_findings
from auditor.i18n import _
from auditor.inventory.model import System
from auditor.labels import label
from auditor.levels.propose import LevelRules
from auditor.levels.regimes import load_calendar
from auditor.levels.requirements import load_requirements
from auditor.obligations.levels import deadline_label
from auditor.problems import display_path
from auditor.store.tables import DossierRow, ScanRunRow
from auditor.vocabulary import RunStatus

app = typer.Typer(help="Level dossiers and their appraisal and approval.", no_args_is_help=True)
SignerOpt = Annotated[str, typer.Option("--signer", help="Name and title of the person acting.")]

def _scanned_families(s: Session, system_id: str) -> set[str]:
    """The check families a completed scan run has judged this system with."""
    runs = s.exec(select(ScanRunRow).where(col(ScanRunRow.status) == RunStatus.COMPLETED))
    return {r.family for r in runs if system_id in r.systems}


@app.command("create")
@handle_errors
def create(system: Annotated[str, typer.Argument(help="The system.")],
           regime: Annotated[str | None, typer.Option("--regime", help="r85 or r331 (default: in force on --on).")] = None,
           on: OnOpt = None, workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Build the level dossier of a system from the inventory and the level proposal (state: draft)."""
    today = parse_day(on, "--on")
    if today > clock.today():
        raise workflow.WorkflowError(_("the date {date} is in the future").format(date=today.isoformat()))
    with workspace_context(workspace) as ctx:
        ctx.check_systems([system])
        sysdef = ctx.loaded.inventory.system(system)
        assert sysdef is not None
        rules = LevelRules(ctx.ws.content("profiles"))
        proposal = rules.propose(sysdef, today, regime)
        if proposal.level is None:
            raise workflow.WorkflowError(_("{system}: no dossier without a level: {reason}").format(
                system=system, reason=proposal.reason))
        regime_spec = rules.regime(today, regime)
        requirements = load_requirements(ctx.ws.content("profiles"), load_catalogue(ctx.ws.content("checks")))
        with ctx.store.session() as s:
            snapshot = build_snapshot(ctx.loaded.inventory, sysdef, proposal, regime_spec, requirements,
                                      list_findings(s, today, systems={system}), _scanned_families(s, system),
                                      1, today)
            row = workflow.create(s, sysdef, snapshot, regime_spec.id, proposal.level, regimes=rules.regimes, on=today)
    if as_json:
        print_json(_summary(row))
    else:
        say(_("Dossier {id} (version {version}) for {system}: proposed level {level} under {regime}; "
                    "state: draft.").format(id=row.id, version=row.version, system=system, level=row.proposed_level,
                                            regime=row.regime))


def _summary(d: DossierRow, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": d.id, "system": d.system_id, "version": d.version, "state": d.state, "regime": d.regime,
            "proposed_level": d.proposed_level, "approved_level": d.approved_level,
            "decision_number": d.decision_number, "submitted_on": d.submitted_on, "appraised_on": d.appraised_on,
            "appraisal_opinion": d.appraisal_opinion, "approved_on": d.approved_on, "returned_on": d.returned_on,
            "snapshot_sha256": d.snapshot_sha256, **(extra or {})}


@app.command("list")
@handle_errors
def list_(workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Dossiers, their state and their time limits."""
    today = clock.today()
    with workspace_context(workspace) as ctx:
        rules = LevelRules(ctx.ws.content("profiles"))
        calendar = load_calendar(ctx.ws.content("profiles"))
        with ctx.store.session() as s:
            rows = s.exec(select(DossierRow).order_by(col(DossierRow.id))).all()
    items = []
    for d in rows:
        dls = workflow.deadlines(d, rules.regimes.get(d.regime), calendar)
        items.append((d, [{"step": x.step, "due": x.due.isoformat(), "status": x.status(today),
                           "reference": x.reference} for x in dls]))
    if as_json:
        print_json({"dossiers": [_summary(d, {"deadlines": dl}) for d, dl in items]})
        return
    t = Table(title=_("Level dossiers"))
    for column in ("#", _("System"), _("Version"), _("State"), _("Level"), _("Regime"), _("Time limits")):
        t.add_column(column)
    for d, dl in items:
        limits = "; ".join(f"{x['step']} {x['due']} {deadline_label(x['status'])}" for x in dl)
        t.add_row(str(d.id), d.system_id, str(d.version), label(d.state),
                  str(d.approved_level or d.proposed_level), d.regime, limits)
    out.print(t)


@app.command("show")
@handle_errors
def show(dossier_id: int, workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = True) -> None:
    """The dossier with its frozen snapshot and the parties to each step (JSON)."""
    with workspace_context(workspace) as ctx, ctx.store.session() as s:
        d = workflow.get(s, dossier_id)
        print_json(_summary(d, {"parties": d.parties, "snapshot": d.snapshot}))


@app.command("submit")
@handle_errors
def submit(dossier_id: int, by: Annotated[str, typer.Option("--by", help="The submitting organisation (operator).")],
           signer: SignerOpt, on: OnOpt = None, workspace: WorkspaceOpt = None, lang: LangOpt = None,
           as_json: JsonOpt = False) -> None:
    """Submit the dossier for appraisal (draft → submitted)."""
    day = parse_day(on, "--on")
    with workspace_context(workspace) as ctx, ctx.store.session() as s:
        d = workflow.get(s, dossier_id)
        workflow.submit(s, d, inventory=ctx.loaded.inventory, system=_system(ctx, d), org=by, signer=signer, on=day,
                        today=clock.today())
    _done(d, as_json)


def _system(ctx: Context, d: DossierRow) -> System:
    system = ctx.loaded.inventory.system(d.system_id)
    if system is None:
        raise workflow.WorkflowError(_("system {system} is no longer in the inventory").format(system=d.system_id))
    return system


def _signed(workspace: Path | None, dossier_id: int, choice: SignerChoice, on: dt.date, kind: str,
            act: Callable[[Session, DossierRow, workflow.SignedStep], None]) -> DossierRow:
    """Open the dossier, its system, its regime and the officer's certificate, run the signed step and sign the
    dossier's PDF with the same key, all in one transaction."""
    with workspace_context(workspace) as ctx, ctx.store.session() as s:
        d = workflow.get(s, dossier_id)
        with officer_signer(choice, s) as (signer, officer):
            step = workflow.SignedStep(
                inventory=ctx.loaded.inventory, system=_system(ctx, d),
                regimes=LevelRules(ctx.ws.content("profiles")).regimes, signer=signer, officer=officer, on=on,
                today=clock.today())
            act(s, d, step)
            sign_step(s, ctx.ws, d, signer, officer, kind)
    return d


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

    def act(s: Session, d: DossierRow, step: workflow.SignedStep) -> None:
        workflow.appraise(s, d, step, opinion=opinion, conditions=conditions)

    _done(_signed(workspace, dossier_id, choice, day, "appraise", act), as_json)


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

    def act(s: Session, d: DossierRow, step: workflow.SignedStep) -> None:
        workflow.approve(s, d, step, decision_number=decision, level=level)

    _done(_signed(workspace, dossier_id, choice, day, "approve", act), as_json)


@app.command("return")
@handle_errors
def return_cmd(dossier_id: int, reason: Annotated[str, typer.Option("--reason", help="Why it is returned.")],
               by: Annotated[str, typer.Option("--by", help="The organisation returning it.")], signer: SignerOpt,
               on: OnOpt = None, workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Return the dossier to the operator (submitted or appraised → returned)."""
    day = parse_day(on, "--on")
    with workspace_context(workspace) as ctx, ctx.store.session() as s:
        d = workflow.get(s, dossier_id)
        workflow.return_(s, d, org=by, signer=signer, reason=reason, on=day, today=clock.today())
    _done(d, as_json)


@app.command("render")
@handle_errors
def render(dossier_id: int,
           out_dir: Annotated[Path, typer.Option("--out", help="Folder for the HTML and PDF.")] = Path("reports-out"),
           workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Write the dossier as HTML and PDF (Vietnamese by default)."""
    with workspace_context(workspace) as ctx, ctx.store.session() as s:
        files = write_dossier(s, ctx.ws, workflow.get(s, dossier_id), out_dir)
    if as_json:
        print_json({"dossier": dossier_id, "files": [str(f) for f in files]})
    else:
        for f in files:
            say(_("Written: {file}").format(file=display_path(f)))
