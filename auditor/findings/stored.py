"""Listing stored findings straight from the workspace's SQLite store, without loading SQLAlchemy.

`auditor findings` is what scripts and monitoring call again and again, and importing the ORM alone takes longer
than the whole listing. This reader answers only when the store is exactly as the full way of opening it would
leave it before reading:

- the store is the workspace's own SQLite file (no AUDITOR_DATABASE_URL), and it exists at the newest schema;
- the inventory's files are unchanged since they were last taken into the store, and were taken in no later
  than today (the inventory's date checks only forbid dates in the future, so what passed then passes now);
- no run is left marked as running (opening the full way would settle it);
- every system asked for is one the store knows as present.

Otherwise it returns None, and the caller opens the store the full way (migrate, sync the inventory, settle runs)
and reads through the ORM; a test compares both readers on the same store.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from dataclasses import dataclass

from auditor import clock
from auditor.faults import SQLITE_BUSY_SECONDS
from auditor.findings.view import FindingView, effective_view, matches_check
from auditor.inventory.parts import read_files
from auditor.store.where import ENV_URL, HEAD_REVISION, sqlite_file
from auditor.vocabulary import FindingStatus, RunStatus
from auditor.workspace import Workspace

_FINDING_COLUMNS = "id, check_id, system_id, target, severity, status, first_seen, last_seen, resolved_at, detail"


@dataclass(frozen=True)
class _Finding:
    id: int
    check_id: str
    system_id: str
    target: str
    severity: str
    status: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    resolved_at: dt.datetime | None
    detail: dict[str, object]


@dataclass(frozen=True)
class _Acceptance:
    justification: str
    accepted_by: str
    accepted_at: dt.datetime
    expires_on: dt.date


def _instant(text: str) -> dt.datetime:
    """SQLite keeps an instant as naive UTC text (UtcDateTime in auditor.store.tables)."""
    return clock.as_utc(dt.datetime.fromisoformat(text))


def _current(conn: sqlite3.Connection, ws: Workspace, today: dt.date, systems: list[str] | None) -> bool:
    def one(sql: str, *args: object) -> tuple[object, ...] | None:
        row: tuple[object, ...] | None = conn.execute(sql, args).fetchone()
        return row

    if one("SELECT version_num FROM alembic_version") != (HEAD_REVISION,):
        return False
    raw = read_files(ws.inventory_path)
    last = one("SELECT sha256, loaded_at FROM inventory_import ORDER BY id DESC LIMIT 1")
    if raw.problems or last is None or last[0] != raw.sha256:
        return False
    if clock.in_vietnam(_instant(str(last[1]))).date() > today:
        return False
    if one("SELECT 1 FROM scan_run WHERE status = ? LIMIT 1", str(RunStatus.RUNNING)) is not None:
        return False
    if systems:
        present = {r[0] for r in conn.execute("SELECT id FROM system WHERE present")}
        if not set(systems) <= present:
            return False
    return True


def list_stored(ws: Workspace, today: dt.date, *, systems: list[str] | None = None, include_resolved: bool = False,
                check_prefix: str | None = None) -> list[FindingView] | None:
    """The findings ``auditor findings`` lists (the same as auditor.findings.lifecycle.list_findings), or None when
    the store must be opened the full way first."""
    if os.environ.get(ENV_URL):
        return None
    db = sqlite_file(ws.root)
    if not db.is_file():
        return None
    try:
        conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=SQLITE_BUSY_SECONDS)
    except sqlite3.Error:
        return None
    try:
        if not _current(conn, ws, today, systems):
            return None
        where, args = [], []
        if systems:
            where.append(f"system_id IN ({', '.join('?' * len(set(systems)))})")
            args += sorted(set(systems))
        if not include_resolved:
            where.append("status = ?")
            args.append(str(FindingStatus.OPEN))
        query = (f"SELECT {_FINDING_COLUMNS} FROM finding" + (" WHERE " + " AND ".join(where) if where else "")
                 + " ORDER BY system_id, target, check_id")
        rows = [_Finding(r[0], r[1], r[2], r[3], r[4], r[5], _instant(r[6]), _instant(r[7]),
                         _instant(r[8]) if r[8] is not None else None, json.loads(r[9]))
                for r in conn.execute(query, args)]
        latest: dict[int, _Acceptance] = {}
        if rows:
            for f, justification, by, at, expires in conn.execute(
                    "SELECT finding_id, justification, accepted_by, accepted_at, expires_on FROM risk_acceptance "
                    "ORDER BY id"):
                latest[f] = _Acceptance(justification, by, _instant(at), dt.date.fromisoformat(expires))
    except (sqlite3.Error, ValueError):
        return None  # a store this reader does not understand (no alembic_version...): the full way says what is wrong
    finally:
        conn.close()
    views = [effective_view(r, latest.get(r.id), today) for r in rows]
    return [v for v in views if matches_check(v, check_prefix)]
