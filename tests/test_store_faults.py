"""Faults met in the middle of a command: a damaged or locked SQLite store, a PostgreSQL server that never answers
or stops mid-scan, a full disk under a report. Each ends with a message that says what happened, exit code 2 and
no traceback, and leaves nothing half-written."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import AUDITOR_BIN, REPO, one_system, run_auditor

NOW = {"AUDITOR_NOW": "2026-11-26T10:00+07:00"}


def refused(r: subprocess.CompletedProcess[str], *words: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr, r.stderr
    for word in words:
        assert word in r.stderr, (word, r.stderr)


def db_rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return list(conn.execute(sql))


@pytest.fixture
def loaded_ws(demo_inventory_ws: Path) -> Path:
    assert run_auditor("inventory", "load", "-w", demo_inventory_ws).returncode == 0
    return demo_inventory_ws


@pytest.mark.parametrize("damage", ["header", "schema pages"])
def test_a_damaged_sqlite_store_is_named_as_damaged(loaded_ws: Path, damage: str) -> None:
    db = loaded_ws / ".auditor" / "auditor.sqlite"
    data = bytearray(db.read_bytes())
    if damage == "header":
        data[:100] = b"garbage!" * 12 + b"gone"
    else:
        data[4096:4096 * 6] = os.urandom(4096 * 5)
    db.write_bytes(bytes(data))
    for command in (("status",), ("findings", "--json"), ("inventory", "load"), ("verify",)):
        r = run_auditor(*command, "--lang", "en", "-w", loaded_ws)
        refused(r, "damaged", "backup")
        if "--json" in command:
            assert json.loads(r.stdout)["ok"] is False


def test_a_store_locked_by_another_writer_for_too_long(loaded_ws: Path) -> None:
    db = loaded_ws / ".auditor" / "auditor.sqlite"
    before = db_rows(db, "SELECT id, name FROM system ORDER BY id")
    inv = loaded_ws / "inventory.yaml"
    inv.write_text(inv.read_text(encoding="utf-8").replace("Cổng dịch vụ công tỉnh", "Cổng DVC tỉnh"), encoding="utf-8")
    holder = subprocess.Popen(
        ["python3", "-c", "import sqlite3, sys, time\n"
         "c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)\n"
         "c.execute('BEGIN IMMEDIATE')\nprint('held', flush=True)\ntime.sleep(25)\nc.execute('ROLLBACK')\n", str(db)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        r = run_auditor("inventory", "load", "--lang", "en", "-w", loaded_ws)
        refused(r, "busy", "10 seconds", "nothing was changed")
        assert 9 < time.monotonic() - started < 25  # it waited the busy timeout, then gave up
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert db_rows(db, "SELECT id, name FROM system ORDER BY id") == before
    assert run_auditor("inventory", "load", "-w", loaded_ws).returncode == 0  # once free, the same load works
    assert db_rows(db, "SELECT id, name FROM system ORDER BY id") != before


def test_a_postgresql_address_that_never_answers_is_given_up_on(demo_inventory_ws: Path) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # the kernel completes the handshake; nothing ever speaks
    try:
        url = f"postgresql+psycopg://auditor@127.0.0.1:{silent.getsockname()[1]}/auditor"
        started = time.monotonic()
        r = run_auditor("inventory", "list", "--lang", "en", "-w", demo_inventory_ws,
                        env={"AUDITOR_DATABASE_URL": url}, timeout=90)
        refused(r, "could not be reached or stopped answering", "127.0.0.1")
        assert time.monotonic() - started < 30
    finally:
        silent.close()


@contextmanager
def own_postgres() -> Iterator[tuple[str, Callable[[], None], Callable[[], None]]]:
    """A PostgreSQL server of the test's own (it is stopped under a running command): its URL, start and stop."""
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))[-1]
    home = Path(tempfile.mkdtemp(prefix="auditor-pg-"))
    run = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if run:
        shutil.chown(home, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = home / "data"

    def start() -> None:
        subprocess.run([*run, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(home / "log"), "-w", "-o",
                        f"-c listen_addresses=127.0.0.1 -p {port} -k {home} -c fsync=off", "start"],
                       check=True, capture_output=True)

    def stop() -> None:
        subprocess.run([*run, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       check=False, capture_output=True)

    try:
        subprocess.run([*run, str(bindir / "initdb"), "-D", str(data), "-U", "auditor", "--auth=trust", "-E", "UTF8"],
                       check=True, capture_output=True)
        start()
        yield f"postgresql+psycopg://auditor@127.0.0.1:{port}/postgres", start, stop
    finally:
        stop()
        shutil.rmtree(home, ignore_errors=True)


def pg_rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgresql_stopping_mid_scan(make_workspace: Callable[[str], Path]) -> None:
    silent = socket.socket()  # a TLS endpoint that never answers: the probe waits while the server is stopped,
    silent.bind(("127.0.0.1", 0))  # then the endpoint goes away (connections refused) and the scan goes on
    silent.listen(16)
    ws = make_workspace(one_system(f"endpoints:\n  - {{host: h, port: {silent.getsockname()[1]}, tls: true}}\n"))
    with own_postgres() as (url, start, stop):
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("AUDITOR_")}, **NOW,
               "AUDITOR_DATABASE_URL": url}
        assert run_auditor("inventory", "load", "-w", ws, env=env).returncode == 0
        scan = subprocess.Popen([str(AUDITOR_BIN), "scan", "--check", "tls", "--lang", "en", "-w", str(ws)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while pg_rows(url, "SELECT status FROM scan_run") != [("running",)]:
                assert time.monotonic() < deadline and scan.poll() is None, "the scan never started its run"
                time.sleep(0.2)
            stop()
            silent.close()
            _out, err = scan.communicate(timeout=180)
        finally:
            if scan.poll() is None:
                scan.kill()
                scan.wait(timeout=30)
        refused(subprocess.CompletedProcess(scan.args, scan.returncode, _out, err),
                "could not be reached or stopped answering", "not stored")
        start()
        assert pg_rows(url, "SELECT count(*) FROM finding") == [(0,)]  # nothing half-written
        assert run_auditor("findings", "--json", "-w", ws, env=env).returncode == 0
        assert pg_rows(url, "SELECT status FROM scan_run") == [("interrupted",)]
        assert run_auditor("verify", "-w", ws, env=env).returncode == 0  # the ledger is whole


@contextmanager
def small_tmpfs(size: str, prefix: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted for the test (CI runs as root, as the README's test command does: a machine
    where it cannot be mounted fails the test rather than skipping it), unmounted and removed afterwards."""
    where = Path(tempfile.mkdtemp(prefix=prefix))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        where.rmdir()
        raise AssertionError(f"cannot mount a {size} tmpfs (the fault tests need root): {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)
        where.rmdir()


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 32 KiB file system: a drill report (HTML, JSON and a PDF of 25 KB) cannot fit."""
    with small_tmpfs("32k", "auditor-full-") as where:
        yield where


def test_a_full_disk_under_a_report_leaves_nothing_published(demo_inventory_ws: Path, small_disk: Path) -> None:
    ws = demo_inventory_ws
    shutil.copy(REPO / "records.yaml", ws / "records.yaml")
    out = small_disk / "reports"
    r = run_auditor("report", "drill", "dt-2026-thuc-chien", "--on", "2026-11-26", "--out", out, "--lang", "en",
                    "-w", ws)
    refused(r, "the disk is full", "nothing was written")
    assert list(out.iterdir()) == []  # no truncated PDF, no HTML without its PDF, no temporary file
    db = ws / ".auditor" / "auditor.sqlite"
    assert db_rows(db, "SELECT count(*) FROM report") == [(0,)]  # and no record of files that are not there
    assert run_auditor("verify", "-w", ws).returncode == 0
    # the same report with room for it is written whole and recorded
    r = run_auditor("report", "drill", "dt-2026-thuc-chien", "--on", "2026-11-26", "--out", ws / "out", "--json",
                    "-w", ws)
    assert r.returncode == 0, r.stderr
    assert db_rows(db, "SELECT count(*) FROM report") == [(1,)]
    assert all(Path(f).stat().st_size > 0 for f in json.loads(r.stdout)["files"])


def test_an_unwritable_output_folder_is_a_clear_exit_2(demo_inventory_ws: Path, tmp_path: Path) -> None:
    ws = demo_inventory_ws
    shutil.copy(REPO / "records.yaml", ws / "records.yaml")
    out = tmp_path / "read-only"
    out.mkdir()
    mounted = subprocess.run(["mount", "--bind", "-o", "ro", str(out), str(out)], capture_output=True, text=True)
    assert mounted.returncode == 0, f"cannot bind-mount a read-only folder (the fault tests need root): {mounted.stderr}"
    try:
        assert subprocess.run(["touch", str(out / "x")], capture_output=True).returncode != 0  # read-only indeed
        r = run_auditor("report", "drill", "dt-2026-thuc-chien", "--on", "2026-11-26", "--out", out, "--lang", "en",
                        "-w", ws)
        refused(r, "cannot write reports here")
    finally:
        subprocess.run(["umount", str(out)], check=False, capture_output=True)


def test_a_report_stopped_at_any_moment_is_all_there_or_not_at_all(demo_inventory_ws: Path, tmp_path: Path) -> None:
    """`kill` (SIGTERM) at moments spread over a drill report's run: the folder holds either the complete
    earlier report or the complete new one (each file recorded in the ledger, all by the same report), never a
    temporary file, and the ledger stays whole."""
    ws = demo_inventory_ws
    shutil.copy(REPO / "records.yaml", ws / "records.yaml")
    out = tmp_path / "out"
    args = [str(AUDITOR_BIN), "report", "drill", "dt-2026-thuc-chien", "--on", "2026-11-26", "--out", str(out),
            "-w", str(ws)]
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AUDITOR_")}, **NOW}
    assert subprocess.run(args, env=env, capture_output=True).returncode == 0
    names = sorted(p.name for p in out.iterdir())
    codes = []
    for delay in (0.2, 0.5, 0.8, 1.1, 1.4, 1.8, 2.4, 3.5):
        run = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        run.terminate()
        codes.append(run.wait(timeout=60))
        assert sorted(p.name for p in out.iterdir()) == names, delay
        reports = {json.loads(run_auditor("verify", out / name, "--json", "-w", ws).stdout)["file"]["matches"][-1]["report"]
                   for name in names}
        assert len(reports) == 1, (delay, reports)
    assert -15 in codes or 143 in codes, codes  # some were stopped mid-way (and some may have finished)
    assert run_auditor("verify", "-w", ws).returncode == 0


def test_temporary_files_left_by_a_killed_writer_are_cleared(demo_inventory_ws: Path, tmp_path: Path) -> None:
    ws = demo_inventory_ws
    shutil.copy(REPO / "records.yaml", ws / "records.yaml")
    out = tmp_path / "out"
    out.mkdir()
    old, fresh = out / ".drill-report-dt-2026-thuc-chien-en.pdf.0123456789ab.tmp", out / ".x.pdf.0123456789ab.tmp"
    other = out / ".drill-report-dt-2026-thuc-chien-en.pdf.fedcba987654.tmp"
    for f in (old, fresh, other):
        f.write_bytes(b"%PDF-1.7 half")
    hour_ago = os.stat(other).st_mtime - 3600  # by the file system's clock
    os.utime(old, (hour_ago, hour_ago))
    os.utime(fresh, (hour_ago, hour_ago))  # not a temporary file of what is written: left alone
    r = run_auditor("report", "drill", "dt-2026-thuc-chien", "--on", "2026-11-26", "--out", out, "--lang", "en",
                    "-w", ws)
    assert r.returncode == 0, r.stderr
    assert not old.exists() and fresh.exists() and other.exists()  # a recent one may belong to a running writer


@pytest.mark.postgres
def test_the_scheduler_outlives_a_store_outage(tmp_path: Path) -> None:
    """`schedule run` is a service: PostgreSQL restarting under it costs a tick (logged), not the scheduler."""
    from auditor.labs.tls_zoo import Zoo
    from tests.test_scheduler import workspace as scheduler_workspace

    zoo = Zoo()
    try:
        ws = scheduler_workspace(tmp_path, zoo)
        schedule = (REPO / "profiles" / "schedule.yaml").read_text(encoding="utf-8")
        (ws / "profiles" / "schedule.yaml").write_text(schedule.replace("tick_seconds: 60", "tick_seconds: 1"),
                                                       encoding="utf-8")
        with own_postgres() as (url, start, stop):
            env = {**{k: v for k, v in os.environ.items() if not k.startswith("AUDITOR_")}, **NOW,
                   "AUDITOR_DATABASE_URL": url, "AUDITOR_LANG": "en"}
            assert run_auditor("inventory", "load", "-w", ws, env=env).returncode == 0
            proc = subprocess.Popen([str(AUDITOR_BIN), "schedule", "run", "-w", str(ws)], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            lines: list[str] = []
            reader = threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")) if proc.stderr
                                      else None, daemon=True)
            reader.start()

            def logged(text: str) -> bool:
                if proc.poll() is not None:
                    raise AssertionError(f"the scheduler exited: {''.join(lines)[-2000:]}")
                return any(text in line for line in lines)

            try:
                deadline = time.monotonic() + 120
                while not logged("tls/gov: completed"):  # the catch-up tick ran its jobs
                    assert time.monotonic() < deadline, "".join(lines)[-2000:]
                    time.sleep(0.2)
                stop()
                deadline = time.monotonic() + 60
                while not logged("the store failed; trying again at the next tick"):
                    assert time.monotonic() < deadline, "".join(lines)[-2000:]
                    time.sleep(0.2)
                start()
                failures = sum("the store failed" in line for line in lines)
                time.sleep(4)  # ticks against the server that is back
                assert proc.poll() is None
                assert sum("the store failed" in line for line in lines) <= failures + 1  # it recovered
                proc.send_signal(signal.SIGTERM)
                assert proc.wait(timeout=60) == 0, "".join(lines)[-2000:]
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=30)
            reader.join(10)
            assert any("scheduler stopped" in line for line in lines) and not any("Traceback" in line for line in lines)
    finally:
        zoo.close()


def test_a_full_disk_under_the_store_rolls_the_load_back(tmp_path: Path) -> None:
    """The SQLite store on a 1.5 MB file system: 20 systems fit; loading 3,000 more fills the disk mid-load. The
    load ends with the message and exit 2, and the store holds the 20 systems, undamaged."""
    from bench.inventory import write_workspace

    with small_tmpfs("1500k", "auditor-full-db-") as where:
        env = {"AUDITOR_DATABASE_URL": f"sqlite:///{where / 'auditor.sqlite'}"}
        small, large = tmp_path / "small", tmp_path / "large"
        small.mkdir()
        large.mkdir()
        write_workspace(small, 20)
        write_workspace(large, 3000)
        assert run_auditor("inventory", "load", "-w", small, env=env).returncode == 0
        r = run_auditor("inventory", "load", "--lang", "en", "-w", large, env=env)
        refused(r, "the disk holding the store is full", "nothing was changed")
        assert db_rows(where / "auditor.sqlite", "PRAGMA integrity_check") == [("ok",)]
        assert db_rows(where / "auditor.sqlite", "SELECT count(*) FROM system WHERE present") == [(20,)]
