"""Level dossiers: create, list, submit, appraise, approve, return, render."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from auditor import clock
from auditor.catalogue.checks import load_catalogue
from auditor.context import Context
from auditor.dossier import workflow
from auditor.dossier.build import build_snapshot
from auditor.dossier.document import sign_step, write_dossier
from auditor.findings.lifecycle import list_findings
from auditor.i18n import _
from auditor.identity.signer import CertSigner
from auditor.identity.trust import validate
from auditor.inventory.model import System
from auditor.levels.propose import LevelRules
from auditor.levels.regimes import load_calendar
from auditor.levels.requirements import load_requirements
from auditor.services.accounts import Account, acting_for, own_certificate
from auditor.store.tables import DossierRow, ScanRunRow
from auditor.vocabulary import RunStatus

WorkflowError = workflow.WorkflowError


def scanned_families(s: Session, system_id: str) -> set[str]:
    """The check families a completed scan run has judged this system with."""
    runs = s.exec(select(ScanRunRow).where(col(ScanRunRow.status) == RunStatus.COMPLETED))
    return {r.family for r in runs if system_id in r.systems}


def create_dossier(ctx: Context, system_id: str, *, on: dt.date, regime: str | None = None,
                   families: set[str] | None = None, account: Account | None = None) -> DossierRow:
    """Build the level dossier of a system from the inventory, the level proposal on ``on`` and the findings
    (state: draft). ``families``: the check families that judged it (default: those of its completed scans).
    Through the console, only an account of the system's operator builds it."""
    if on > clock.today():
        raise WorkflowError(_("the date {date} is in the future").format(date=on.isoformat()))
    ctx.check_systems([system_id])
    sysdef = ctx.loaded.inventory.system(system_id)
    assert sysdef is not None
    if account is not None:
        acting_for(account, sysdef.operator)
    rules = LevelRules(ctx.ws.content("profiles"))
    proposal = rules.propose(sysdef, on, regime)
    if proposal.level is None:
        raise WorkflowError(_("{system}: no dossier without a level: {reason}").format(
            system=system_id, reason=proposal.reason))
    regime_spec = rules.regime(on, regime)
    requirements = load_requirements(ctx.ws.content("profiles"), load_catalogue(ctx.ws.content("checks")))
    with ctx.store.session() as s:
        judged = families if families is not None else scanned_families(s, system_id)
        snapshot = build_snapshot(ctx.loaded.inventory, sysdef, proposal, regime_spec, requirements,
                                  list_findings(s, on, systems={system_id}), judged, 1, on)
        return workflow.create(s, sysdef, snapshot, regime_spec.id, proposal.level, regimes=rules.regimes, on=on)


@dataclass(frozen=True)
class DeadlineView:
    step: str
    due: dt.date
    status: str
    reference: str

    def as_json(self) -> dict[str, str]:
        return {"step": self.step, "due": self.due.isoformat(), "status": self.status, "reference": self.reference}


@dataclass(frozen=True)
class DossierView:
    row: DossierRow
    deadlines: list[DeadlineView]
    regime_name: str | None = None  # as a sentence names the regime (Nghị định 331/2026/NĐ-CP)

    def as_json(self, *, full: bool = False) -> dict[str, Any]:
        d = self.row
        data: dict[str, Any] = {
                "id": d.id, "system": d.system_id, "version": d.version, "state": d.state, "regime": d.regime,
                "proposed_level": d.proposed_level, "approved_level": d.approved_level,
                "decision_number": d.decision_number, "submitted_on": d.submitted_on,
                "appraised_on": d.appraised_on, "appraisal_opinion": d.appraisal_opinion,
                "approved_on": d.approved_on, "returned_on": d.returned_on, "snapshot_sha256": d.snapshot_sha256,
                "deadlines": [x.as_json() for x in self.deadlines]}
        if full:
            data |= {"parties": d.parties, "snapshot": d.snapshot}
        return data


def _views(ctx: Context, rows: list[DossierRow], today: dt.date) -> list[DossierView]:
    rules = LevelRules(ctx.ws.content("profiles"))
    calendar = load_calendar(ctx.ws.content("profiles"))
    return [DossierView(d, [DeadlineView(x.step, x.due, x.status(today), x.reference)
                            for x in workflow.deadlines(d, rules.regimes.get(d.regime), calendar)],
                        rules.regimes.get(d.regime).display_name()) for d in rows]


def list_dossiers(ctx: Context, today: dt.date, *, system: str | None = None) -> list[DossierView]:
    """Dossiers (of one system, when given), with the time limits running for each."""
    with ctx.store.session() as s:
        query = select(DossierRow).order_by(col(DossierRow.id))
        if system is not None:
            query = query.where(DossierRow.system_id == system)
        rows = list(s.exec(query).all())
    return _views(ctx, rows, today)


def get_dossier(ctx: Context, dossier_id: int, today: dt.date) -> DossierView:
    with ctx.store.session() as s:
        row = workflow.get(s, dossier_id)
    return _views(ctx, [row], today)[0]


def _system(ctx: Context, d: DossierRow) -> System:
    system = ctx.loaded.inventory.system(d.system_id)
    if system is None:
        raise WorkflowError(_("system {system} is no longer in the inventory").format(system=d.system_id))
    return system


def _acting(account: Account | None, org: str) -> str | None:
    """The account's name for the ledger; an account acts only for its own organisation."""
    if account is None:
        return None
    acting_for(account, org)
    return account.name


def submit_dossier(ctx: Context, dossier_id: int, *, org: str, signer: str, on: dt.date,
                   account: Account | None = None) -> DossierRow:
    """The operator submits the dossier for appraisal (draft → submitted)."""
    with ctx.store.session() as s:
        d = workflow.get(s, dossier_id)
        workflow.submit(s, d, inventory=ctx.loaded.inventory, system=_system(ctx, d), org=org, signer=signer, on=on,
                        today=clock.today(), account=_acting(account, org))
        return d


def _signed(ctx: Context, dossier_id: int, signer: CertSigner, on: dt.date, kind: str, account: Account | None,
            act: Callable[[Session, DossierRow, workflow.SignedStep], None]) -> DossierRow:
    """Validate the officer's certificate against the trust list, run the signed step and sign the dossier's PDF
    with the same key, all in one transaction."""
    with ctx.store.session() as s:
        d = workflow.get(s, dossier_id)
        officer = validate(s, signer.certificate, signer.chain, clock.now())
        if account is not None:
            own_certificate(ctx.loaded.inventory, account, officer)
        step = workflow.SignedStep(inventory=ctx.loaded.inventory, system=_system(ctx, d),
                                   regimes=LevelRules(ctx.ws.content("profiles")).regimes, signer=signer,
                                   officer=officer, on=on, today=clock.today(),
                                   account=account.name if account else None)
        act(s, d, step)
        sign_step(s, ctx.ws, d, signer, officer, kind)
        return d


def appraise_dossier(ctx: Context, dossier_id: int, signer: CertSigner, *, opinion: str, conditions: str | None,
                     on: dt.date, account: Account | None = None) -> DossierRow:
    """The appraisal opinion, signed with the appraiser's certificate (submitted → appraised, or returned when the
    opinion is disagree); the dossier's PDF is signed too."""
    def act(s: Session, d: DossierRow, step: workflow.SignedStep) -> None:
        workflow.appraise(s, d, step, opinion=opinion, conditions=conditions)

    return _signed(ctx, dossier_id, signer, on, "appraise", account, act)


def approve_dossier(ctx: Context, dossier_id: int, signer: CertSigner, *, decision_number: str, level: int | None,
                    on: dt.date, account: Account | None = None) -> DossierRow:
    """The approval decision, signed with the approver's certificate (appraised → approved); the approver's
    signature is added to the PDF the appraiser signed."""
    def act(s: Session, d: DossierRow, step: workflow.SignedStep) -> None:
        workflow.approve(s, d, step, decision_number=decision_number, level=level)

    return _signed(ctx, dossier_id, signer, on, "approve", account, act)


def return_dossier(ctx: Context, dossier_id: int, *, org: str, signer: str, reason: str, on: dt.date,
                   account: Account | None = None) -> DossierRow:
    """Return the dossier to the operator (submitted or appraised → returned)."""
    with ctx.store.session() as s:
        d = workflow.get(s, dossier_id)
        workflow.return_(s, d, org=org, signer=signer, reason=reason, on=on, today=clock.today(),
                         account=_acting(account, org))
        return d


def render_dossier(ctx: Context, dossier_id: int, out_dir: Path) -> list[Path]:
    """The dossier as HTML and PDF (the signed PDF when there is one)."""
    with ctx.store.session() as s:
        return write_dossier(s, ctx.ws, workflow.get(s, dossier_id), out_dir)


def document_html(ctx: Context, dossier_id: int) -> str:
    """The dossier as a document (HTML, in the current language), as it is rendered for signing."""
    from auditor.identity.trust import trust_list
    from auditor.ledger.anchor import head
    from auditor.reporting.dossier import render_dossier_html

    with ctx.store.session() as s:
        row = workflow.get(s, dossier_id)
        return render_dossier_html(ctx.ws, row, head(s), trust_list(s))


def signed_pdf(ctx: Context, dossier_id: int) -> tuple[str, bytes] | None:
    """The dossier's signed PDF (its file name and bytes), if it has been signed."""
    import base64

    from auditor.dossier.document import signed_dossier

    with ctx.store.session() as s:
        workflow.get(s, dossier_id)
        doc = signed_dossier(s, dossier_id)
        return None if doc is None else (doc.name, base64.b64decode(doc.pdf_b64))
