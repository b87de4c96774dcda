"""Findings: list them, and accept a risk (a signed decision with an expiry)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from auditor import clock
from auditor.context import Context
from auditor.findings.lifecycle import AcceptanceError, accept_risk, list_findings
from auditor.findings.policy import load_acceptance_policy
from auditor.findings.remediation import ASSIGNABLE
from auditor.findings.view import FindingView
from auditor.i18n import _
from auditor.identity.signer import CertSigner
from auditor.identity.trust import validate
from auditor.labels import label
from auditor.ledger.chain import append
from auditor.problems import UserError
from auditor.services.accounts import Account, own_certificate
from auditor.store.tables import FindingAssignmentRow, FindingRow, RiskAcceptanceRow
from auditor.vocabulary import FindingStatus


def list_for(session: Session, today: dt.date, system: str | None = None) -> list[FindingView]:
    """Open and accepted findings (of one system, when given), most serious first."""
    views = list_findings(session, today, systems={system} if system else None)
    return sorted(views, key=lambda f: (-f.severity.rank, f.system, f.target, f.check))


def accept_finding(ctx: Context, finding_id: int, signer: CertSigner, *, justification: str, until: dt.date,
                   account: Account | None = None) -> RiskAcceptanceRow:
    """Accept the risk of an open finding until ``until``, signed with the accepting officer's certificate (who
    accepts is who the certificate names; through the console, of the account's own organisation)."""
    if not justification.strip():
        raise AcceptanceError(_("a justification is required"))
    with ctx.store.session() as s:
        officer = validate(s, signer.certificate, signer.chain, clock.now())
        if account is not None:
            own_certificate(ctx.loaded.inventory, account, officer)
        return accept_risk(s, finding_id, justification.strip(), until, clock.today(),
                           inventory=ctx.loaded.inventory, signer=signer, officer=officer,
                           policy=load_acceptance_policy(ctx.ws.content("profiles")),
                           account=account.name if account else None)


class AssignmentError(UserError):
    pass


def assign_finding(ctx: Context, finding_id: int, *, organisation: str, due_on: dt.date | None, state: str,
                   note: str | None, by: str) -> FindingAssignmentRow:
    """Give an open finding to a unit, with a due date and a state (open, in progress, fixed); the earlier
    assignments stay as its history, and each is in the ledger."""
    if ctx.loaded.inventory.organisation(organisation) is None:
        raise AssignmentError(_("unknown organisation {org!r}").format(org=organisation[:80]))
    if state not in {s.value for s in ASSIGNABLE}:
        raise AssignmentError(_("the state is one of: {options}").format(
            options=", ".join(s.value for s in ASSIGNABLE)))
    if not by.strip():
        raise AssignmentError(_("say who assigns it"))
    with ctx.store.session() as s:
        row = s.get(FindingRow, finding_id)
        if row is None:
            raise AssignmentError(_("no finding has the id {id}").format(id=finding_id))
        if row.status != FindingStatus.OPEN:
            raise AssignmentError(_("only an open finding can be assigned; this one is {status}").format(
                status=label(row.status)))
        if due_on is not None and due_on < clock.in_vietnam(row.first_seen).date():
            raise AssignmentError(_("the due date {date} is before the finding was first seen").format(
                date=due_on.isoformat()))
        assignment = FindingAssignmentRow(finding_id=finding_id, organisation_id=organisation, due_on=due_on,
                                          state=state, note=(note or "").strip()[:2000] or None,
                                          assigned_by=by.strip()[:255])
        s.add(assignment)
        s.flush()
        append(s, "finding.assigned", f"finding/{finding_id}", {
            "assignment": assignment.id, "finding": finding_id, "check": row.check_id, "system": row.system_id,
            "target": row.target, "organisation": organisation,
            "due_on": due_on.isoformat() if due_on else None, "state": state, "note": assignment.note,
            "by": assignment.assigned_by})
        return assignment
