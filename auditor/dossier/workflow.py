"""The dossier workflow: draft → submitted → appraised → approved, or returned; who may act, when, signed.

Each transition updates the dossier and appends its ledger entry in one transaction. Appraisal and approval
are signed by an officer with the key of an X.509 certificate the workspace trusts, over the SHA-256 of the
canonical snapshot plus the decision; the entry keeps the certificate chain. (Dossiers signed with the Ed25519
keys of earlier versions stay verifiable.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from auditor.dossier import authority
from auditor.i18n import _
from auditor.identity.officer import Officer
from auditor.identity.signer import CertSigner, signature_block
from auditor.inventory.model import Inventory, System
from auditor.ledger.chain import append, canonical, sha256_hex
from auditor.levels.regimes import Calendar, Regimes, RegimeSpec
from auditor.problems import UserError
from auditor.signing import decision_digest
from auditor.store.tables import DossierRow
from auditor.vocabulary import DossierState

OPEN_STATES = tuple(s for s in DossierState if s.in_progress)
OPINIONS = ("agree", "agree_with_conditions", "disagree")


class WorkflowError(UserError):
    """A transition that is not allowed; the message says why (exit code 2)."""


def check_regime(regimes: Regimes, regime_id: str, system: System, on: dt.date) -> None:
    """A dossier step on ``on`` is taken under a regime in force then, or one a transitional provision still allows
    for this system (NĐ 331/2026 Điều 39.1)."""
    if regimes.usable(regime_id, system.investment_decided_on, on):
        return
    spec = regimes.get(regime_id)
    raise WorkflowError(_("{regime} is not in force on {date} (in force {start} – {end}), and no transitional provision "
                          "lets {system} use it then").format(
        regime=regime_id, date=on.isoformat(), start=spec.effective_from.isoformat(),
        end=spec.effective_until.isoformat() if spec.effective_until else "…", system=system.id))


def create(session: Session, system: System, snapshot: dict[str, Any], regime: str, level: int, *,
           regimes: Regimes, on: dt.date) -> DossierRow:
    check_regime(regimes, regime, system, on)
    pending = session.exec(select(DossierRow).where(DossierRow.system_id == system.id,
                                                    col(DossierRow.state).in_(OPEN_STATES))).first()
    if pending is not None:
        raise WorkflowError(_("system {system} already has dossier {id} in state {state}; finish or return it first")
                            .format(system=system.id, id=pending.id, state=pending.state))
    version = len(session.exec(select(DossierRow).where(DossierRow.system_id == system.id)).all()) + 1
    snapshot = {**snapshot, "version": version}
    row = DossierRow(system_id=system.id, version=version, state=DossierState.DRAFT, regime=regime, proposed_level=level,
                     snapshot=snapshot, snapshot_sha256=sha256_hex(canonical(snapshot)))
    session.add(row)
    session.flush()
    append(session, "dossier.created", f"dossier/{row.id}", {
        "dossier": row.id, "system": system.id, "version": version, "regime": regime, "proposed_level": level,
        "snapshot_sha256": row.snapshot_sha256})
    return row


def get(session: Session, dossier_id: int) -> DossierRow:
    row = session.get(DossierRow, dossier_id)
    if row is None:
        raise WorkflowError(_("no dossier has the id {id}").format(id=dossier_id))
    return row


def _check_date(on: dt.date, today: dt.date, after: dt.date | None) -> None:
    if on > today:
        raise WorkflowError(_("the date {date} is in the future").format(date=on.isoformat()))
    if after is not None and on < after:
        raise WorkflowError(_("the date {date} is before the previous step ({prev})")
                            .format(date=on.isoformat(), prev=after.isoformat()))


def _state(row: DossierRow, allowed: tuple[str, ...], action: str) -> None:
    if row.state not in allowed:
        raise WorkflowError(_("dossier {id} is {state}; it cannot be {action}")
                            .format(id=row.id, state=row.state, action=action))


def _by(account: str | None) -> dict[str, str]:
    """The console account a step was taken through, for its ledger entry (none from the command line)."""
    return {"account": account} if account else {}


def submit(session: Session, row: DossierRow, *, inventory: Inventory, system: System, org: str, signer: str,
           on: dt.date, today: dt.date, account: str | None = None) -> None:
    """The operator submits; the organisations that may appraise and approve are frozen into the dossier."""
    _state(row, (DossierState.DRAFT,), _("submitted"))
    if org != system.operator:
        raise WorkflowError(_("the operator ({operator}) submits the dossier, not {org}")
                            .format(operator=system.operator, org=org))
    _check_date(on, today, created_on(row))
    organisations = authority.freeze(inventory, system)
    row.state, row.submitted_on = DossierState.SUBMITTED, on
    row.parties = {**row.parties, "submission": {"organisation": org, "signer": signer, "on": on.isoformat()},
                   "organisations": organisations}
    session.add(row)
    append(session, "dossier.submitted", f"dossier/{row.id}", {"dossier": row.id, "organisation": org,
                                                                "signer": signer, "on": on.isoformat(),
                                                                "organisations": organisations, **_by(account)})


@dataclass(frozen=True)
class SignedStep:
    """Who signs a step of a dossier (an officer, by their validated certificate and its key), on which day,
    under which inventory and regime."""

    inventory: Inventory
    system: System
    regimes: Regimes
    signer: CertSigner
    officer: Officer
    on: dt.date
    today: dt.date
    account: str | None = None  # the console account, when taken through the web console


def _frozen(row: DossierRow, step: SignedStep) -> dict[str, Any]:
    """The organisations frozen at submission (a dossier submitted by an earlier version: frozen now)."""
    frozen = row.parties.get("organisations")
    return frozen if isinstance(frozen, dict) else authority.freeze(step.inventory, step.system)


def _signed_step(session: Session, row: DossierRow, step: SignedStep, kind: str,
                 decision: dict[str, Any]) -> dict[str, Any]:
    signature = signature_block(step.signer, decision_digest(row.snapshot, decision))
    entry = {"dossier": row.id, "snapshot_sha256": row.snapshot_sha256, "decision": decision, "signature": signature,
             **_by(step.account)}
    append(session, kind, f"dossier/{row.id}", entry)
    return entry


def appraise(session: Session, row: DossierRow, step: SignedStep, *, opinion: str, conditions: str | None) -> None:
    _state(row, (DossierState.SUBMITTED,), _("appraised"))
    if opinion not in OPINIONS:
        raise WorkflowError(_("the opinion is one of: {options}").format(options=", ".join(OPINIONS)))
    if opinion == "agree_with_conditions" and not conditions:
        raise WorkflowError(_("an opinion 'agree with conditions' needs the conditions"))
    check_regime(step.regimes, row.regime, step.system, step.on)
    org = authority.signing_org(step.officer, _frozen(row, step), step.regimes.get(row.regime), row.proposed_level,
                                "appraise")
    assert row.submitted_on is not None
    _check_date(step.on, step.today, row.submitted_on)
    decision = {"step": "appraisal", "dossier": row.id, "opinion": opinion, "conditions": conditions,
                "organisation": org["id"], "officer": step.officer.as_json(), "signer": step.officer.name,
                "on": step.on.isoformat()}
    entry = _signed_step(session, row, step, "dossier.appraised", decision)
    row.appraised_on, row.appraisal_opinion = step.on, opinion
    row.state = DossierState.RETURNED if opinion == "disagree" else DossierState.APPRAISED
    if opinion == "disagree":
        row.returned_on = step.on
    row.parties = {**row.parties, "appraisal": entry}
    session.add(row)


def approve(session: Session, row: DossierRow, step: SignedStep, *, decision_number: str, level: int | None) -> None:
    _state(row, (DossierState.APPRAISED,), _("approved"))
    if not decision_number.strip():
        raise WorkflowError(_("the approval needs the number of the decision"))
    approved_level = level or row.proposed_level
    if not 1 <= approved_level <= 5:
        raise WorkflowError(_("a level is between 1 and 5"))
    check_regime(step.regimes, row.regime, step.system, step.on)
    regime, level = step.regimes.get(row.regime), max(approved_level, row.proposed_level)
    org = authority.signing_org(step.officer, _frozen(row, step), regime, level, "approve")
    authority.separate(step.officer, org, row.parties.get("appraisal") or {}, regime, level)
    assert row.appraised_on is not None
    _check_date(step.on, step.today, row.appraised_on)
    decision = {"step": "approval", "dossier": row.id, "decision_number": decision_number.strip(),
                "approved_level": approved_level, "organisation": org["id"], "officer": step.officer.as_json(),
                "signer": step.officer.name, "on": step.on.isoformat()}
    entry = _signed_step(session, row, step, "dossier.approved", decision)
    row.state, row.approved_on, row.approved_level = DossierState.APPROVED, step.on, approved_level
    row.decision_number = decision_number.strip()
    row.parties = {**row.parties, "approval": entry}
    session.add(row)


def return_(session: Session, row: DossierRow, *, org: str, signer: str, reason: str, on: dt.date,
            today: dt.date, account: str | None = None) -> None:
    _state(row, (DossierState.SUBMITTED, DossierState.APPRAISED), _("returned"))
    if not reason.strip():
        raise WorkflowError(_("a returned dossier needs the reason"))
    _check_date(on, today, row.appraised_on or row.submitted_on)
    row.state, row.returned_on = DossierState.RETURNED, on
    row.parties = {**row.parties, "return": {"organisation": org, "signer": signer, "reason": reason,
                                             "on": on.isoformat()}}
    session.add(row)
    append(session, "dossier.returned", f"dossier/{row.id}", {"dossier": row.id, "organisation": org,
                                                               "signer": signer, "reason": reason, "on": on.isoformat(),
                                                               **_by(account)})


@dataclass(frozen=True)
class Deadline:
    step: str
    due: dt.date
    done_on: dt.date | None
    reference: str

    def done_by(self, day: dt.date) -> dt.date | None:
        """When the step was done, if it was done by ``day``."""
        return self.done_on if self.done_on is not None and self.done_on <= day else None

    def status(self, today: dt.date) -> str:
        done = self.done_by(today)
        if done is not None:
            return "late" if done > self.due else "on_time"
        return "overdue" if today > self.due else "pending"


def created_on(row: DossierRow) -> dt.date:
    """The dossier's business date: the day it was built (its snapshot says so), not when the row was written."""
    return dt.date.fromisoformat(str(row.snapshot["created_on"]))


def state_on(row: DossierRow, day: dt.date) -> DossierState | None:
    """Where the dossier stood at the end of ``day`` (None: it did not exist yet), from its step dates."""
    if created_on(row) > day:
        return None
    if row.approved_on is not None and row.approved_on <= day:
        return DossierState.APPROVED
    if row.returned_on is not None and row.returned_on <= day:
        return DossierState.RETURNED
    if row.appraised_on is not None and row.appraised_on <= day:
        return DossierState.APPRAISED
    if row.submitted_on is not None and row.submitted_on <= day:
        return DossierState.SUBMITTED
    return DossierState.DRAFT


def deadlines(row: DossierRow, regime: RegimeSpec, calendar: Calendar, on: dt.date | None = None) -> list[Deadline]:
    """The time limits running for the dossier (as it stood on ``on``, when given): appraisal from submission,
    approval from a favourable appraisal. A return ends the step it interrupts."""
    def started(day: dt.date | None) -> bool:
        return day is not None and (on is None or day <= on)

    out = []
    if started(row.submitted_on) and row.proposed_level in regime.appraisal_days:
        assert row.submitted_on is not None
        out.append(Deadline("appraisal", calendar.add(row.submitted_on, regime.appraisal_days[row.proposed_level]),
                            row.appraised_on or row.returned_on, regime.references.get("appraisal_time_limit", "")))
    if started(row.appraised_on) and row.appraisal_opinion != "disagree":
        assert row.appraised_on is not None
        out.append(Deadline("approval", calendar.add(row.appraised_on, regime.approval_days),
                            row.approved_on or row.returned_on, regime.references.get("approval_time_limit", "")))
    return out
