"""Findings: list them, and accept a risk (a signed decision with an expiry)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from auditor import clock
from auditor.context import Context
from auditor.findings.lifecycle import AcceptanceError, FindingView, accept_risk, list_findings
from auditor.findings.policy import load_acceptance_policy
from auditor.i18n import _
from auditor.identity.signer import CertSigner
from auditor.identity.trust import validate
from auditor.services.accounts import Account
from auditor.services.dossiers import own_certificate
from auditor.store.tables import RiskAcceptanceRow


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
            own_certificate(ctx, account, officer)
        return accept_risk(s, finding_id, justification.strip(), until, clock.today(),
                           inventory=ctx.loaded.inventory, signer=signer, officer=officer,
                           policy=load_acceptance_policy(ctx.ws.content("profiles")),
                           account=account.name if account else None)
