"""Who may do what in the console: every route names one action, and the server checks it on every request (a
button hidden from a role is a courtesy, not the control)."""

from __future__ import annotations

from enum import StrEnum

from auditor.vocabulary import AccountRole


class Action(StrEnum):
    DASHBOARD = "dashboard.view"
    SYSTEMS = "systems.view"
    FINDINGS = "findings.view"
    START_SCAN = "scans.start"
    ACCEPT_RISK = "findings.accept"
    ASSIGN_FINDING = "findings.assign"
    DOSSIERS = "dossiers.view"
    CREATE_DOSSIER = "dossiers.create"
    SUBMIT_DOSSIER = "dossiers.submit"
    APPRAISE_DOSSIER = "dossiers.appraise"
    APPROVE_DOSSIER = "dossiers.approve"
    RETURN_DOSSIER = "dossiers.return"
    RECORDS = "records.view"
    ADD_RECORD = "records.add"
    REPORTS = "reports.view"
    PUBLISH_REPORT = "reports.publish"
    VERIFY_FILE = "reports.verify"
    ACCOUNTS = "accounts.manage"


_O, _S, _L, _A = AccountRole.OPERATOR, AccountRole.OFFICER, AccountRole.LEADER, AccountRole.ADMIN

ALLOWED: dict[Action, frozenset[AccountRole]] = {
    Action.DASHBOARD: frozenset({_O, _S, _L}),
    Action.SYSTEMS: frozenset({_O, _S, _L}),
    Action.FINDINGS: frozenset({_O, _S, _L}),
    Action.START_SCAN: frozenset({_O}),
    Action.ACCEPT_RISK: frozenset({_S}),
    Action.ASSIGN_FINDING: frozenset({_O, _S}),
    Action.DOSSIERS: frozenset({_O, _S, _L}),
    Action.CREATE_DOSSIER: frozenset({_O}),
    Action.SUBMIT_DOSSIER: frozenset({_O}),
    Action.APPRAISE_DOSSIER: frozenset({_S}),
    # the approver is who the law names (NĐ 85/2016 Điều 12, NĐ 331/2026): the owner's head for levels 1–3, the
    # provincial leader above; the certificate decides which organisation signs, the role only lets them try
    Action.APPROVE_DOSSIER: frozenset({_S, _L}),
    Action.RETURN_DOSSIER: frozenset({_S, _L}),
    Action.RECORDS: frozenset({_O, _S, _L}),
    Action.ADD_RECORD: frozenset({_S}),
    Action.REPORTS: frozenset({_S, _L}),
    Action.PUBLISH_REPORT: frozenset({_S, _L}),
    Action.VERIFY_FILE: frozenset({_O, _S, _L}),
    Action.ACCOUNTS: frozenset({_A}),
}


def allowed(role: AccountRole, action: Action) -> bool:
    return role in ALLOWED[action]


def home(role: AccountRole) -> str:
    """Where an account lands after signing in."""
    return "/accounts" if role is AccountRole.ADMIN else "/"
