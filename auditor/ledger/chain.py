"""Appending to the ledger, and the canonical form everything hashed or signed is serialised in."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from auditor import clock
from auditor.store.tables import LedgerRow

GENESIS = "0" * 64


def canonical(data: Any) -> bytes:
    """One byte string per value: sorted keys, no spaces, UTF-8, dates in ISO form."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_default).encode()


def _default(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"not serialisable: {type(value).__name__}")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entry_hash(seq: int, at: dt.datetime, kind: str, subject: str, payload: dict[str, Any], prev_hash: str) -> str:
    return sha256_hex(canonical({"seq": seq, "at": clock.as_utc(at).isoformat(), "kind": kind,
                                 "subject": subject, "payload": payload, "prev": prev_hash}))


# the key of the PostgreSQL advisory lock that orders appends ("ledger" in ASCII)
_LEDGER_LOCK = 0x6C6564676572


def _hold_the_head(session: Session) -> None:
    """Appends from concurrent commands wait for each other until the one holding the lock commits, so the head
    read next is still the head when the entry is written: no entry is lost to a duplicate sequence number and
    the chain stays linear. PostgreSQL: a transaction-scoped advisory lock. SQLite: its write lock, taken now
    (by a statement that writes nothing) rather than at the entry's insert; a waiting writer waits for the busy
    timeout."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LEDGER_LOCK})
    elif dialect == "sqlite":
        session.execute(text("UPDATE ledger SET seq = seq WHERE 0"))


def append(session: Session, kind: str, subject: str, payload: dict[str, Any]) -> LedgerRow:
    """Append one entry in the caller's transaction (so it lands with the change it records, or not at all)."""
    _hold_the_head(session)
    last = session.exec(select(LedgerRow).order_by(col(LedgerRow.seq).desc()).limit(1)).first()
    seq = (last.seq + 1) if last else 1
    prev = last.hash if last else GENESIS
    at = clock.now()
    payload = json.loads(canonical(payload))  # exactly what will be read back
    row = LedgerRow(seq=seq, at=at, kind=kind, subject=subject, payload=payload, prev_hash=prev,
                    hash=entry_hash(seq, at, kind, subject, payload, prev))
    session.add(row)
    session.flush()
    return row
