"""A manual scan killed with -9 leaves its run 'running'; the next command that opens the store marks it
interrupted, but never a run whose scan is still going."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import AUDITOR_BIN, one_system, run_auditor


def run_statuses(ws: Path) -> list[str]:
    db = ws / ".auditor" / "auditor.sqlite"
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            return [r[0] for r in conn.execute("SELECT status FROM scan_run ORDER BY id")]
        except sqlite3.OperationalError:
            return []


def test_a_scan_killed_with_sigkill_is_marked_interrupted(make_workspace: Callable[[str], Path]) -> None:
    # a TLS endpoint that accepts connections and never answers: the probe waits for its timeout
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    port = silent.getsockname()[1]
    ws = make_workspace(one_system(f"endpoints:\n  - {{host: h, port: {port}, protocol: https, tls: true}}\n"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITOR_") or k == "AUDITOR_NOW"}
    scan = subprocess.Popen([str(AUDITOR_BIN), "scan", "--check", "tls", "--json", "-w", str(ws)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while run_statuses(ws) != ["running"]:
            assert time.monotonic() < deadline, "the scan never started its run"
            assert scan.poll() is None, "the scan ended before it could be killed"
            time.sleep(0.1)
        # while it runs, another command leaves its run alone
        assert run_auditor("findings", "--json", "-w", ws).returncode == 0
        assert run_statuses(ws) == ["running"]
        os.killpg(scan.pid, signal.SIGKILL)
        scan.wait(timeout=30)
        assert run_statuses(ws) == ["running"]  # nothing could mark it as it died
        # the next command that opens the store marks it
        assert run_auditor("findings", "--json", "-w", ws).returncode == 0
        assert run_statuses(ws) == ["interrupted"]
    finally:
        if scan.poll() is None:
            os.killpg(scan.pid, signal.SIGKILL)
            scan.wait(timeout=30)
        silent.close()
