"""Listing findings from the SQLite store without the ORM (auditor.findings.stored): it lists exactly what the ORM
lists, it answers only when the store is current, and in every other case the full way answers (and brings the
store in line) instead."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sqlite3
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from auditor import clock
from auditor.findings.lifecycle import list_findings
from auditor.findings.stored import list_stored
from auditor.store.db import open_store
from auditor.store.tables import FindingRow, RiskAcceptanceRow, ScanRunRow
from auditor.store.where import ENV_URL, sqlite_file
from auditor.vocabulary import FindingStatus, RunStatus
from auditor.workspace import Workspace
from tests.conftest import REPO, Result, run_auditor
from tests.test_startup import imported

SYSTEMS = ("cong-dvc", "he-thong-tthc")


@pytest.fixture
def stored_ws(cli: Callable[..., Result], demo_inventory_ws: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo inventory taken in, and a store holding findings in every state a listing distinguishes: open,
    resolved, accepted (an acceptance replaced by a later one), accepted once but expired, on two systems."""
    monkeypatch.delenv(ENV_URL, raising=False)
    assert cli("inventory", "load", "-w", demo_inventory_ws).exit_code == 0
    today = clock.today()
    now = clock.now()
    store = open_store(demo_inventory_ws)
    try:
        with store.session() as s:
            rows = []
            for i in range(12):
                system = SYSTEMS[i % 2]
                resolved = i % 5 == 4
                rows.append(FindingRow(
                    check_id=("tls.cert.expired", "ports.unapproved", "tls.protocol.legacy", "patch.behind")[i % 4],
                    system_id=system, target=f"host-{i % 3}:{443 + i}", severity=("low", "medium", "high")[i % 3],
                    status=FindingStatus.RESOLVED if resolved else FindingStatus.OPEN,
                    first_seen=now - dt.timedelta(days=i, microseconds=123457 * i), last_seen=now,
                    resolved_at=now - dt.timedelta(hours=i) if resolved else None, times_seen=i + 1, last_run_id=1,
                    detail={"port": 443 + i, "ghi chú": "chứng thư hết hạn", "list": [1, None, "x"]}))
            s.add_all(rows)
            s.flush()
            ids = [r.id for r in rows if r.id is not None]
            s.add(RiskAcceptanceRow(finding_id=ids[1], justification="cũ", accepted_by="A",
                                    expires_on=today + dt.timedelta(days=3)))
            s.add(RiskAcceptanceRow(finding_id=ids[1], justification="thay thế", accepted_by="B",
                                    accepted_at=now + dt.timedelta(seconds=1),
                                    expires_on=today + dt.timedelta(days=30)))
            s.add(RiskAcceptanceRow(finding_id=ids[2], justification="đã hết hạn", accepted_by="C",
                                    expires_on=today - dt.timedelta(days=1)))
            s.add(RiskAcceptanceRow(finding_id=ids[4], justification="trên phát hiện đã xử lý", accepted_by="D",
                                    expires_on=today + dt.timedelta(days=1)))
    finally:
        store.close()
    return demo_inventory_ws


FILTERS: list[dict[str, object]] = [
    {}, {"include_resolved": True}, {"systems": ["cong-dvc"]}, {"systems": list(SYSTEMS), "include_resolved": True},
    {"check_prefix": "tls"}, {"check_prefix": "tls.cert"}, {"check_prefix": "tl"}, {"systems": ["he-thong-tthc"],
                                                                                   "check_prefix": "ports"},
]


@pytest.mark.parametrize("filters", FILTERS, ids=[json.dumps(f) for f in FILTERS])
def test_the_store_reader_lists_exactly_what_the_orm_lists(stored_ws: Path, filters: dict[str, object]) -> None:
    today = clock.today()
    quick = list_stored(Workspace(stored_ws), today, **filters)  # type: ignore[arg-type]
    assert quick is not None, "the store is current: the reader must answer"
    store = open_store(stored_ws)
    try:
        systems = filters.get("systems")
        with store.session() as s:
            full = list_findings(s, today, systems=set(systems) if isinstance(systems, list) else None,
                                 include_resolved=bool(filters.get("include_resolved")),
                                 check_prefix=filters.get("check_prefix"))  # type: ignore[arg-type]
    finally:
        store.close()
    assert quick == full
    assert [v.as_json() for v in quick] == [v.as_json() for v in full]
    if not filters:  # the states the fixture made are all there
        assert {v.status for v in quick} == {FindingStatus.OPEN, FindingStatus.ACCEPTED}
        assert any(v.acceptance and v.acceptance["expired"] for v in quick)
        assert any(v.acceptance and v.acceptance["accepted_by"] == "B" for v in quick)
        assert all(v.first_seen.tzinfo is not None for v in quick)


def test_findings_json_as_a_script_calls_it_reads_without_the_orm_and_changes_nothing(stored_ws: Path) -> None:
    db = sqlite_file(stored_ws)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    mods = imported(["findings", "--json", "-w", str(stored_ws)], REPO)
    assert "auditor" in mods and not mods & {"sqlalchemy", "sqlmodel", "alembic", "cryptography"}, sorted(mods)
    r = run_auditor("findings", "--json", "--all", "-w", stored_ws)
    assert r.returncode == 1, r.stderr  # open high findings fail the audit, as the full way says
    listed = json.loads(r.stdout)["findings"]
    assert len(listed) == 12 and {f["status"] for f in listed} == {"open", "accepted", "resolved"}
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def _quick(ws: Path, **filters: object) -> bool:
    return list_stored(Workspace(ws), clock.today(), **filters) is not None  # type: ignore[arg-type]


def _sql(ws: Path, statement: str, *args: object) -> None:
    conn = sqlite3.connect(sqlite_file(ws))
    with conn:
        conn.execute(statement, args)
    conn.close()


def test_an_inventory_changed_since_it_was_taken_in_is_taken_in_first(stored_ws: Path,
                                                                      cli: Callable[..., Result]) -> None:
    (stored_ws / "inventory.d").mkdir()
    (stored_ws / "inventory.d" / "moi.yaml").write_text(textwrap.dedent("""\
        systems:
          - id: moi
            name: Hệ thống mới
            owner: ubnd-tinh
            operator: ttcds
            lifecycle: planned
        """), encoding="utf-8")
    assert not _quick(stored_ws, systems=["moi"])
    r = cli("findings", "--json", "--system", "moi", "-w", stored_ws)
    assert r.exit_code == 0 and json.loads(r.stdout) == {"findings": []}, r.stderr
    assert _quick(stored_ws, systems=["moi"])  # the full way took the new system in


def test_a_broken_inventory_is_still_reported(stored_ws: Path, cli: Callable[..., Result]) -> None:
    (stored_ws / "inventory.yaml").write_text("version: 1\norganisations: [\n", encoding="utf-8")
    assert not _quick(stored_ws)
    r = cli("findings", "--json", "-w", stored_ws)
    assert r.exit_code == 2 and "inventory.yaml" in r.stderr


def test_an_unknown_system_is_named_by_the_full_way(stored_ws: Path, cli: Callable[..., Result]) -> None:
    assert not _quick(stored_ws, systems=["khong-co"])
    r = cli("findings", "--json", "--system", "khong-co", "-w", stored_ws)
    assert r.exit_code == 2 and "khong-co" in r.stderr


def test_a_run_left_running_is_settled_first(stored_ws: Path, cli: Callable[..., Result]) -> None:
    store = open_store(stored_ws)
    try:
        with store.session() as s:
            s.add(ScanRunRow(family="tls", status=RunStatus.RUNNING))  # left by a scan killed with -9
    finally:
        store.close()
    assert not _quick(stored_ws)
    assert cli("findings", "--json", "-w", stored_ws).exit_code == 1
    conn = sqlite3.connect(sqlite_file(stored_ws))
    assert conn.execute("SELECT status FROM scan_run").fetchall() == [("interrupted",)]
    conn.close()
    assert _quick(stored_ws)


def test_an_inventory_taken_in_on_a_later_day_is_checked_again(stored_ws: Path) -> None:
    later = clock.to_db(clock.now() + dt.timedelta(days=2)).isoformat(sep=" ")
    _sql(stored_ws, "UPDATE inventory_import SET loaded_at = ?", later)
    assert not _quick(stored_ws)  # the clock was put back since: the date checks may now fail


def test_an_older_schema_another_database_or_no_store_takes_the_full_way(stored_ws: Path, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch,
                                                                           cli: Callable[..., Result]) -> None:
    monkeypatch.setenv(ENV_URL, f"sqlite:///{tmp_path / 'other.sqlite'}")
    assert not _quick(stored_ws)
    monkeypatch.delenv(ENV_URL)
    assert _quick(stored_ws)
    _sql(stored_ws, "UPDATE alembic_version SET version_num = '0001'")
    assert not _quick(stored_ws)
    _sql(stored_ws, "DROP TABLE alembic_version")
    assert not _quick(stored_ws)

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "inventory.yaml").write_text((stored_ws / "inventory.yaml").read_text(encoding="utf-8"),
                                          encoding="utf-8")
    shutil.copytree(stored_ws / "certs", fresh / "certs")
    assert not _quick(fresh)
    r = cli("findings", "--json", "-w", fresh)
    assert r.exit_code == 0 and json.loads(r.stdout) == {"findings": []}, r.stderr
    assert _quick(fresh)  # the full way made the store and took the inventory in
