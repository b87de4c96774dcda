"""Console accounts: add one, change its password, sign in (Argon2id, lockout after repeated failures), sessions
and API tokens. The role, organisation, password hash (as its SHA-256) and disabled flag of every account are in
the ledger; an account whose row disagrees with its latest entry cannot sign in."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, select

from auditor import clock
from auditor.i18n import _
from auditor.identity.mandate import organisation_for
from auditor.identity.officer import Officer
from auditor.inventory.model import Inventory
from auditor.ledger.chain import append
from auditor.ledger.state import ACCOUNT_FIELDS
from auditor.problems import UserError
from auditor.store.tables import AccountRow, ApiTokenRow, LedgerRow, WebSessionRow
from auditor.vocabulary import AccountRole

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 12
MAX_FAILURES = 5  # wrong passwords in a row before the account is locked
LOCKOUT = dt.timedelta(minutes=15)
IDLE = dt.timedelta(minutes=30)  # a session unused this long is over
LIFETIME = dt.timedelta(hours=8)  # and none lasts longer than a working day

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Checked for unknown names, so timing does not tell them apart (made on first sign-in: hashing takes
    0.1 s, which every command importing this module paid before)."""
    return _hasher.hash("not a password anyone has")


def prepare_sign_in() -> None:
    """Make the dummy hash before the first sign-in, so that one takes no longer for an unknown name either."""
    _dummy_hash()


class AccountError(UserError):
    """A refused account operation or sign-in; the message says why (for a sign-in, never which part was wrong)."""


@dataclass(frozen=True)
class Account:
    """Who is signed in: what the console and the services need to know of them."""

    id: int
    name: str
    role: AccountRole
    organisation: str
    full_name: str
    lang: str

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role.value, "organisation": self.organisation,
                "full_name": self.full_name, "lang": self.lang}


def own_certificate(inventory: Inventory, account: Account, officer: Officer) -> None:
    """Through the console, an account signs only with a certificate of its own organisation."""
    org = inventory.organisation(account.organisation)
    organisation_for(officer, [org] if org else [],
                     _("signing as the console account {name}").format(name=account.name))


def acting_for(account: Account, org: str) -> None:
    """An account acts only for its own organisation."""
    if account.organisation != org:
        raise AccountError(_("the account {name} acts for {own}, not for {org}").format(
            name=account.name, own=account.organisation, org=org))


def _account(row: AccountRow) -> Account:
    assert row.id is not None
    return Account(row.id, row.name, AccountRole(row.role), row.organisation_id, row.full_name, row.lang)


def _ledger_state(row: AccountRow) -> dict[str, Any]:
    return {"name": row.name, "role": row.role, "organisation": row.organisation_id,
            "password_sha256": hashlib.sha256(row.password_hash.encode()).hexdigest(), "disabled": row.disabled}


def _record(session: Session, kind: str, row: AccountRow, by: str | None) -> None:
    append(session, kind, f"account/{row.name}", {**_ledger_state(row), **({"by": by} if by else {})})


def add_account(session: Session, inventory: Inventory, *, name: str, role: str, organisation: str, password: str,
                full_name: str = "", lang: str = "vi", by: str | None = None) -> Account:
    if not NAME.match(name):
        raise AccountError(_("an account name is 2–64 lower-case letters, digits, '.', '_' or '-': {name!r}")
                           .format(name=name[:80]))
    try:
        chosen = AccountRole(role)
    except ValueError:
        options = ", ".join(r.value for r in AccountRole)
        raise AccountError(_("the role is one of: {options}").format(options=options)) from None
    if inventory.organisation(organisation) is None:
        raise AccountError(_("unknown organisation {org!r}").format(org=organisation[:80]))
    if lang not in ("vi", "en"):
        raise AccountError(_("the language is vi or en"))
    _check_password(password)
    if session.exec(select(AccountRow).where(AccountRow.name == name)).first() is not None:
        raise AccountError(_("an account named {name} already exists").format(name=name))
    row = AccountRow(name=name, role=chosen.value, organisation_id=organisation, full_name=full_name.strip()[:255],
                     password_hash=_hasher.hash(password), lang=lang)
    session.add(row)
    session.flush()
    _record(session, "account.added", row, by)
    return _account(row)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(_("a password has at least {n} characters").format(n=MIN_PASSWORD))
    if len(password) > 1024:
        raise AccountError(_("a password has at most 1024 characters"))


def _row(session: Session, name: str) -> AccountRow:
    row = session.exec(select(AccountRow).where(AccountRow.name == name)).first()
    if row is None:
        raise AccountError(_("no account is named {name!r}").format(name=name[:80]))
    return row


def set_password(session: Session, name: str, password: str, *, by: str | None = None) -> None:
    _check_password(password)
    row = _row(session, name)
    row.password_hash, row.failed_logins, row.locked_until = _hasher.hash(password), 0, None
    session.add(row)
    _record(session, "account.changed", row, by)
    for s in session.exec(select(WebSessionRow).where(WebSessionRow.account_id == row.id)):
        session.delete(s)


def set_disabled(session: Session, name: str, disabled: bool, *, by: str | None = None) -> None:
    row = _row(session, name)
    row.disabled = disabled
    session.add(row)
    _record(session, "account.changed", row, by)
    if disabled:
        for s in session.exec(select(WebSessionRow).where(WebSessionRow.account_id == row.id)):
            session.delete(s)


def set_language(session: Session, name: str, lang: str) -> None:
    """The account's language for the console (not a security property: not in the ledger)."""
    if lang not in ("vi", "en"):
        raise AccountError(_("the language is vi or en"))
    row = _row(session, name)
    row.lang = lang
    session.add(row)


def list_accounts(session: Session) -> list[tuple[Account, bool, bool]]:
    """Every account, whether it is disabled, and whether its row agrees with the ledger."""
    rows = session.exec(select(AccountRow).order_by(col(AccountRow.name))).all()
    return [(_account(r), r.disabled, matches_ledger(session, r)) for r in rows]


def matches_ledger(session: Session, row: AccountRow) -> bool:
    """The row says what its latest ledger entry says (role, organisation, password hash, disabled)."""
    entry = session.exec(select(LedgerRow).where(LedgerRow.subject == f"account/{row.name}",
                                                 col(LedgerRow.kind).in_(("account.added", "account.changed")))
                         .order_by(col(LedgerRow.seq).desc())).first()
    if entry is None:
        return False
    recorded = {k: entry.payload.get(k) for k in ACCOUNT_FIELDS}
    return recorded == _ledger_state(row)


def authenticate(session: Session, name: str, password: str) -> Account | None:
    """The account, if the name and password are right and it may sign in now; else None (and the caller says only
    that the sign-in failed, never which part). Wrong passwords count towards a lockout, committed with the
    session."""
    now = clock.now()
    row = session.exec(select(AccountRow).where(AccountRow.name == name[:64])).first()
    if row is None or (row.locked_until is not None and row.locked_until > now):
        _verify(_dummy_hash(), password)
        return None
    if not _verify(row.password_hash, password):
        row.failed_logins += 1
        if row.failed_logins >= MAX_FAILURES:
            row.locked_until, row.failed_logins = now + LOCKOUT, 0
        session.add(row)
        return None
    if row.disabled or not matches_ledger(session, row):
        return None
    row.failed_logins, row.locked_until = 0, None
    session.add(row)
    return _account(row)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password[:1024])
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    account: Account
    csrf: str


def open_session(session: Session, account: Account) -> tuple[str, str]:
    """A new session for the account (a fresh token every sign-in: no session fixation); its token and CSRF
    token."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(WebSessionRow(token_sha256=_digest(token), account_id=account.id, csrf=csrf))
    return token, csrf


def current(session: Session, token: str | None) -> SignedIn | None:
    """The account a session token belongs to, if the session is live and the account still may sign in."""
    if not token or len(token) > 128:
        return None
    row = session.exec(select(WebSessionRow).where(WebSessionRow.token_sha256 == _digest(token))).first()
    if row is None:
        return None
    now = clock.now()
    account = session.get(AccountRow, row.account_id)
    if (account is None or account.disabled or now - row.last_seen_at > IDLE or now - row.created_at > LIFETIME
            or not matches_ledger(session, account)):
        session.delete(row)
        return None
    row.last_seen_at = now
    session.add(row)
    return SignedIn(_account(account), row.csrf)


def close_session(session: Session, token: str | None) -> None:
    if token:
        for row in session.exec(select(WebSessionRow).where(WebSessionRow.token_sha256 == _digest(token[:128]))):
            session.delete(row)


def issue_api_token(session: Session, name: str, label: str, *, by: str | None = None) -> str:
    """A new API token for the account (shown once; the store keeps its SHA-256)."""
    row = _row(session, name)
    assert row.id is not None
    token = "aud_" + secrets.token_urlsafe(32)
    session.add(ApiTokenRow(token_sha256=_digest(token), account_id=row.id, label=label[:64]))
    append(session, "account.token_issued", f"account/{row.name}", {"name": row.name, "label": label[:64],
                                                                      "token_sha256": _digest(token),
                                                                      **({"by": by} if by else {})})
    return token


def api_account(session: Session, token: str | None) -> Account | None:
    if not token or len(token) > 128:
        return None
    row = session.exec(select(ApiTokenRow).where(ApiTokenRow.token_sha256 == _digest(token),
                                                 col(ApiTokenRow.revoked).is_(False))).first()
    if row is None:
        return None
    account = session.get(AccountRow, row.account_id)
    if account is None or account.disabled or not matches_ledger(session, account):
        return None
    return _account(account)
