"""The scheduler: intervals from the profile, no overlap, catch-up after downtime, clean stop, killed runs."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from auditor import clock
from auditor.labs.servers import Listener
from auditor.labs.tls_zoo import Zoo
from auditor.scheduler import file_lock
from tests.conftest import AUDITOR_BIN, REPO, Result

FACTS = {3: "administrative_procedures: true", 1: "administrative_procedures: false"}


@pytest.fixture
def zoo() -> Iterator[Zoo]:
    z = Zoo()
    yield z
    z.close()


class Silent(Listener):
    """Accepts, then says nothing: a probe of it waits out its time-outs (a job that takes a while)."""

    def respond(self, conn) -> None:  # type: ignore[no-untyped-def]
        conn.recv(65536)
        time.sleep(8)


def workspace(tmp_path: Path, zoo: Zoo, endpoints: int = 1, silent: Listener | None = None) -> Path:
    ws = tmp_path / "ws"
    (ws / "certs").mkdir(parents=True)
    shutil.copy(zoo.ca_file, ws / "certs" / "ca.pem")
    servers = [zoo.tls(f"s{i}", set(), hsts=None) for i in range(endpoints)]
    eps = "\n".join(f"      - {{host: web, port: {s.port}, protocol: https, tls: true, server_name: {s.server_name}, "
                    f"ca_bundle: certs/ca.pem}}" for s in servers)
    if silent is not None:
        eps += f"\n      - {{host: web, port: {silent.port}, protocol: https, tls: true, server_name: silent.test}}"
    def system(sid: str, level: int) -> str:
        return (f"  - id: {sid}\n    name: {sid}\n    owner: o\n    operator: o\n    lifecycle: operating\n"
                f"    go_live: 2020-01-01\n    facts: {{information: [public], kinds: [internal], serves: [internal], "
                f"{FACTS[level]}, conditional_business: false, infrastructure_scope: none, "
                f"national_egovernment: false, always_on: false, national_data_centre: false, "
                f"defence_security_harm: none, industrial_control: none}}\n")

    text = "version: 1\norganisations:\n  - {id: o, name: O, roles: [owner, operator, security_unit]}\nsystems:\n"
    text += system("gov", 3) + "    hosts:\n      - {id: web, address: 127.0.0.1}\n    endpoints:\n" + eps + "\n"
    text += system("wiki", 1)
    (ws / "inventory.yaml").write_text(text, encoding="utf-8")
    # these tests are about scheduling: the port jobs scan one port, without version detection
    policy = (REPO / "profiles" / "ports" / "policy.yaml").read_text(encoding="utf-8")
    (ws / "profiles" / "ports").mkdir(parents=True)
    (ws / "profiles" / "ports" / "policy.yaml").write_text(
        policy.replace('ports: "1-65535"', 'ports: "1"').replace("version_detection: true", "version_detection: false"),
        encoding="utf-8")
    tls = (REPO / "profiles" / "tls" / "policy.yaml").read_text(encoding="utf-8")
    (ws / "profiles" / "tls").mkdir(parents=True)
    (ws / "profiles" / "tls" / "policy.yaml").write_text(
        tls.replace("timeout_seconds: 5", "timeout_seconds: 1").replace("retries: 1", "retries: 0"), encoding="utf-8")
    shutil.copy(REPO / "profiles" / "tls" / "mozilla-5.7.json", ws / "profiles" / "tls" / "mozilla-5.7.json")
    return ws


def status(cli: Callable[..., Result], ws: Path) -> dict[tuple[str, str], dict[str, object]]:
    r = cli("schedule", "status", "--json", "--workspace", ws)
    assert r.exit_code == 0, r.stderr
    return {(j["family"], j["system"]): j for j in json.loads(r.stdout)["jobs"]}


def db(ws: Path) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{ws / '.auditor' / 'auditor.sqlite'}")


def test_intervals_come_from_the_level(cli: Callable[..., Result], tmp_path: Path, zoo: Zoo) -> None:
    jobs = status(cli, workspace(tmp_path, zoo))
    assert jobs[("tls", "gov")]["interval_hours"] == 24      # level 3
    assert jobs[("tls", "wiki")]["interval_hours"] == 168    # level 1
    assert jobs[("ports", "gov")]["interval_hours"] == 168
    assert all(j["due_now"] for j in jobs.values())


def test_catch_up_after_downtime_and_nothing_twice(cli: Callable[..., Result], tmp_path: Path, zoo: Zoo,
                                                   database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """On both stores: the scheduler's state is instants, read back the same whatever the server's time zone."""
    monkeypatch.setenv("AUDITOR_DATABASE_URL", database_url)
    ws = workspace(tmp_path, zoo)
    r = cli("schedule", "run", "--once", "--workspace", ws)
    assert r.exit_code == 0, r.stderr
    assert not any(j["due_now"] for j in status(cli, ws).values())
    r = cli("schedule", "run", "--once", "--workspace", ws, "--lang", "en")
    assert "0 job(s) run." in r.stdout
    # the scheduler was down for three days: the daily TLS job of the level-3 system is due, the weekly ones not
    e = sa.create_engine(database_url)
    with e.begin() as c:
        started = c.execute(sa.text("SELECT last_started FROM schedule_state WHERE family = 'tls' "
                                    "AND system_id = 'gov'")).scalar_one()
        if isinstance(started, str):  # SQLite keeps text, naive UTC
            started = dt.datetime.fromisoformat(started)
        assert clock.as_utc(started) == clock.now()  # the frozen instant, in whatever zone the server shows it
        c.execute(sa.text("UPDATE schedule_state SET last_started = :t WHERE family = 'tls' AND system_id = 'gov'"),
                  {"t": clock.now() - dt.timedelta(days=3) if "postgresql" in database_url
                   else clock.to_db(clock.now() - dt.timedelta(days=3))})
    e.dispose()
    due = [k for k, j in status(cli, ws).items() if j["due_now"]]
    assert due == [("tls", "gov")]
    r = cli("schedule", "run", "--once", "--workspace", ws, "--lang", "en")
    assert "1 job(s) run." in r.stdout and "tls/gov: completed" in r.stderr


def test_no_overlap(cli: Callable[..., Result], tmp_path: Path, zoo: Zoo) -> None:
    ws = workspace(tmp_path, zoo)
    with file_lock(ws / ".auditor" / "schedule.lock", "test"):
        r = cli("schedule", "run", "--once", "--workspace", ws, "--lang", "en")
        assert r.exit_code == 2 and "the scheduler is already running" in r.stderr
    with file_lock(ws / ".auditor" / "scan.lock", "test"):
        r = cli("scan", "--check", "tls", "--workspace", ws, "--lang", "en")
        assert r.exit_code == 2 and "a scan is already running" in r.stderr


def start(ws: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITOR_") or k == clock.FREEZE_ENV}
    env |= {"AUDITOR_LANG": "en"}
    return subprocess.Popen([str(AUDITOR_BIN), *args, "--workspace", str(ws)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)


def wait_for(predicate: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def rows(ws: Path, sql: str) -> list[tuple[object, ...]]:
    """The rows of a query on the workspace's store; a store that is missing or unreadable is an error."""
    assert (ws / ".auditor" / "auditor.sqlite").exists(), "no store was written"
    e = db(ws)
    try:
        with e.connect() as c:
            return [tuple(r) for r in c.execute(sa.text(sql))]
    finally:
        e.dispose()


def rows_yet(ws: Path, sql: str) -> bool:
    """For waiting only: whether the query has rows yet (the store may not exist, or be busy, at first)."""
    try:
        return bool(rows(ws, sql))
    except (AssertionError, sa.exc.OperationalError):
        return False


def test_sigterm_stops_cleanly_after_the_current_job(tmp_path: Path, zoo: Zoo) -> None:
    silent = Silent().start()
    try:
        ws = workspace(tmp_path, zoo, endpoints=3, silent=silent)
        proc = start(ws, "schedule", "run")

        def gov_tls_running() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"the scheduler exited early: {proc.communicate()[1][-2000:]}")
            return rows_yet(ws, "SELECT 1 FROM schedule_state WHERE family = 'tls' AND system_id = 'gov' "
                                "AND last_status = 'running'")

        wait_for(gov_tls_running)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=120)
    finally:
        silent.stop()
    assert proc.returncode == 0, err
    assert "stop requested" in err and "scheduler stopped" in err
    assert "tls/gov: completed" in err  # the job under way when SIGTERM came was finished, not cut
    states = rows(ws, "SELECT family, system_id, last_status FROM schedule_state")
    assert states and all(s[2] in ("completed", "failed") for s in states), states
    assert len(states) < 6, "it stopped instead of going on to the other jobs"
    assert not rows(ws, "SELECT 1 FROM scan_run WHERE status = 'running'")


def test_a_killed_run_leaves_no_half_written_findings(tmp_path: Path, zoo: Zoo) -> None:
    ws = workspace(tmp_path, zoo, endpoints=16)
    proc = start(ws, "scan", "--check", "tls")
    wait_for(lambda: rows_yet(ws, "SELECT 1 FROM scan_run WHERE status = 'running'"))
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)  # the scan and its sslyze children, mid-scan
    proc.wait(timeout=30)
    assert rows(ws, "SELECT count(*) FROM finding") == [(0,)]
    assert rows(ws, "SELECT status FROM scan_run") == [("running",)]
    done = start(ws, "schedule", "run", "--once")
    _out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    assert "1 run(s) interrupted earlier were marked as such" in err
    assert ("interrupted",) in rows(ws, "SELECT status FROM scan_run")
    assert rows(ws, "SELECT count(*) FROM finding WHERE check_id = 'tls.hsts.missing'") == [(16,)]
