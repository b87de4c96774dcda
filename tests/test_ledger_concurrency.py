"""Sixteen commands writing to the ledger at once, as separate processes on the same store (SQLite file and the
PostgreSQL server): every write lands, the chain stays linear and verifies."""

from __future__ import annotations

import concurrent.futures
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from auditor import clock
from auditor.store.db import open_store
from auditor.store.tables import FindingRow
from auditor.store.where import ENV_URL
from tests.conftest import Result, one_system, run_auditor

WRITERS = 16


def test_concurrent_ledger_writers_lose_nothing(database_url: str, make_workspace: Callable[[str], Path],
                                                cli: Callable[..., Result]) -> None:
    ws = make_workspace(one_system())
    env = {ENV_URL: database_url}
    assert cli("inventory", "load", "-w", ws, env=env).exit_code == 0
    store = open_store(ws, database_url)
    try:
        with store.session() as s:
            now = clock.now()
            s.add(FindingRow(check_id="ports.unexpected_open", system_id="app", target="h:8080", severity="high",
                             status="open", first_seen=now, last_seen=now, times_seen=1, last_run_id=0,
                             detail={"port": 8080}))
        with store.session() as s:
            finding_id = s.execute(sa.select(FindingRow.id)).scalar_one()  # type: ignore[call-overload]
    finally:
        store.close()

    def assign(i: int) -> subprocess.CompletedProcess[str]:
        return run_auditor("findings", "assign", str(finding_id), "--to", "o", "--by", f"writer {i}",
                           "--note", f"note {i}", "--state", "in_progress" if i % 2 else "open", "-w", ws, env=env)

    with concurrent.futures.ThreadPoolExecutor(max_workers=WRITERS) as pool:
        done = list(pool.map(assign, range(WRITERS)))
    assert [d.returncode for d in done] == [0] * WRITERS, [d.stderr[-500:] for d in done if d.returncode]

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT seq, kind, payload FROM ledger ORDER BY seq")).all()
    finally:
        engine.dispose()
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))  # linear, no gap
    notes = sorted((json.loads(r.payload) if isinstance(r.payload, str) else r.payload).get("note")
                   for r in rows if r.kind == "finding.assigned")
    assert notes == sorted(f"note {i}" for i in range(WRITERS))  # every write is in the ledger
    verified = run_auditor("verify", "--json", "-w", ws, env=env)
    assert verified.returncode == 0, verified.stdout[-1000:] + verified.stderr[-1000:]
