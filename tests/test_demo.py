"""The demo: real services on loopback, a valid demo workspace pointing at them, loaded into the store."""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from auditor import clock
from auditor.demo.run import demo
from auditor.inventory.load import load_inventory
from tests.conftest import AUDITOR_BIN, run_auditor


def test_demo_command_runs_end_to_end(tmp_path: Path) -> None:
    r = run_auditor("demo", "--dir", tmp_path / "demo", env={"COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    assert "Các dịch vụ đã khởi động trên loopback" in r.stdout
    assert "Demo hoàn tất" in r.stdout
    # the broken endpoints the demo serves show up as their findings
    for check in ("tls.cert.expired", "tls.cert.expiring", "tls.cert.untrusted", "tls.cert.hostname_mismatch",
                  "tls.protocol.legacy", "tls.hsts.missing"):
        assert check in r.stdout, check
    # the development server left on the portal's public web host
    assert "ports.unexpected_open" in r.stdout and "dvc-web:8081" in r.stdout
    # and the database host with an outdated OpenSSL
    assert "patch.vulnerable_package" in r.stdout and "dvc-db:openssl" in r.stdout
    # one dossier created, appraised and approved with the demo keys; the ledger verifies
    ws = tmp_path / "demo"
    assert "Sổ ghi toàn vẹn" in r.stdout
    assert (ws / "reports-out" / "ho-so-cap-do-cong-dvc-v1.pdf").stat().st_size > 10_000
    v = run_auditor("verify", "--json", "--workspace", ws)
    assert v.returncode == 0, v.stdout
    doc = json.loads(v.stdout)
    assert doc["signatures"] == 2 and doc["dossiers"] == 2  # approved, and one awaiting appraisal in the console
    # the annual report and the drill report, each recorded in the ledger and recognised by `verify FILE`
    annual = next((ws / "reports-out").glob("bao-cao-attt-*.pdf"))
    assert f"Báo cáo năm {annual.stem[-4:]}: mở tệp" in r.stdout
    for pdf in (annual, ws / "reports-out" / "bao-cao-dien-tap-dt-2026-thuc-chien.pdf"):
        assert run_auditor("verify", pdf, "--workspace", ws).returncode == 0
    assert (ws / "reports-out" / f"{annual.stem}-he-thong.csv").exists()
    kinds = {"inventory.imported", "scan.completed", "trust.added", "document.signed", "dossier.approved", "report.written"}
    engine = sa.create_engine(f"sqlite:///{ws / '.auditor' / 'auditor.sqlite'}")
    with engine.connect() as conn:
        found = {row[0] for row in conn.execute(sa.text("SELECT kind FROM ledger"))}
    engine.dispose()
    assert kinds <= found
    inv = load_inventory(ws / "inventory.yaml").inventory
    dvc = inv.system("cong-dvc")
    assert dvc is not None
    https = next(e for e in dvc.endpoints if e.protocol == "https")
    assert https.port != 443 and f"127.20.1.10:{https.port}" in r.stdout
    engine = sa.create_engine(f"sqlite:///{ws / '.auditor' / 'auditor.sqlite'}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM system")).scalar_one() == len(inv.systems)
    engine.dispose()
    # the console's address and the demo accounts are the last thing it says
    assert "Bảng điều khiển: cd" in r.stdout and "lanhdao" in r.stdout and "demo-certificates/so-khcn.p12" in r.stdout
    # running it again replaces the previous demo workspace; with --serve-for the console stays up meanwhile
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITOR_") or k == clock.FREEZE_ENV}
    proc = subprocess.Popen([str(AUDITOR_BIN), "demo", "--dir", str(ws), "--serve-for", "90", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**env, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
    try:
        assert proc.stdout is not None
        password = None
        for line in proc.stdout:
            found = re.search(r"mật khẩu: ([^)\s]+)\)", line)
            password = found.group(1) if found and "Tài khoản demo" in line else password
            if f"Bảng điều khiển: http://127.0.0.1:{port}/" in line:
                break
        assert password
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "the demo's console did not start"
                time.sleep(0.2)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            form = http.get("/login")
            token = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert form.status_code == 200 and token
            signed = http.post("/login", data={"name": "lanhdao", "password": password, "csrf": token.group(1)},
                               headers={"cookie": f"auditor_login_csrf={form.cookies['auditor_login_csrf']}"})
            assert signed.status_code == 303 and signed.headers["location"] == "/", signed.headers
            assert "auditor_session=" in signed.headers["set-cookie"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_refuses_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    r = run_auditor("demo", "--dir", tmp_path / "mine", env={"AUDITOR_LANG": "en"})
    assert r.returncode == 2 and "not a demo workspace" in r.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_demo_services_are_real_sockets(tmp_path: Path) -> None:
    with demo(tmp_path / "demo") as run:
        by_system = {(f.system, f.check) for f in run.findings}
        assert ("quan-ly-can-bo", "tls.cert.expired") in by_system
        assert ("cong-ttdt", "tls.protocol.legacy") in by_system
        assert not any(f.system == "cong-dvc" and f.check.startswith("tls.") for f in run.findings), \
            "the well-configured portal has no TLS finding"
        assert ("cong-dvc", "ports.unexpected_open") in by_system  # the stray development server
        tls = next(s for s in run.served if s.declared_port == 443)
        plain = next(s for s in run.served if s.declared_port == 80)
        ctx = ssl.create_default_context(cafile=str(run.workspace / "certs" / "so-khcn-internal-ca.pem"))
        # the lab's certificates are valid on the auditor's (frozen) clock, not necessarily on the machine's:
        # check the chain and the name here, and leave the dates to the auditor (X509_V_FLAG_NO_CHECK_TIME)
        ctx.verify_flags |= 0x200000
        with socket.create_connection((tls.address, tls.port), timeout=5) as raw, \
                ctx.wrap_socket(raw, server_hostname="dichvucong.angiang.gov.vn.invalid") as conn:
            assert conn.version() in ("TLSv1.2", "TLSv1.3")
            conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert b"Strict-Transport-Security" in conn.recv(4096)
        with socket.create_connection((plain.address, plain.port), timeout=5) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert conn.recv(4096).startswith(b"HTTP/1.1 200")
        assert not list((run.workspace).rglob("*.key")), "private keys must not be written into the workspace"
    # stopped when the block ends
    with socket.socket() as s:
        s.settimeout(2)
        assert s.connect_ex((tls.address, tls.port)) != 0


def test_demo_with_two_zones_scans_them_through_their_agents(tmp_path: Path) -> None:
    ws = tmp_path / "demo"

    def agents_running() -> set[str]:
        found = subprocess.run(["pgrep", "-f", "auditor-demo-zones-"], capture_output=True, text=True, check=False)
        return set(found.stdout.split())

    before = agents_running()  # another demo's, if any: not this one's to answer for
    r = run_auditor("demo", "--zones", "--dir", ws, env={"COLUMNS": "200"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Demo hoàn tất" in r.stdout
    engine = sa.create_engine(f"sqlite:///{ws / '.auditor' / 'auditor.sqlite'}")
    with engine.connect() as conn:
        tasks = {tuple(row) for row in conn.execute(sa.text("SELECT zone, family, agent_id, state FROM agent_task"))}
        findings = {tuple(row) for row in conn.execute(sa.text(
            "SELECT check_id, system_id FROM finding WHERE status = 'open'"))}
    engine.dispose()
    # both zones' TLS endpoints and hosts went to their own agent, and every task was answered
    assert {(z, f) for z, f, _a, _s in tasks} >= {("dmz-ttdl", "tls"), ("lan-sokhcn", "tls"), ("dmz-ttdl", "ports")}
    assert all(state == "answered" and agent == f"agent-{zone}" for zone, _f, agent, state in tasks), tasks
    # what the agents saw is judged centrally as a local scan is: the LAN's expired and misnamed certificates,
    # the DMZ's legacy TLS and the stray development server
    assert {("tls.cert.expired", "quan-ly-can-bo"), ("tls.cert.hostname_mismatch", "qlvb-dh"),
            ("tls.protocol.legacy", "cong-ttdt"), ("ports.unexpected_open", "cong-dvc")} <= findings
    assert not any(check.startswith("agents.") for check, _s in findings)
    assert "Tác vụ đã gửi cho tác tử các vùng" in r.stdout or "agent-lan-sokhcn" in r.stdout
    # the agents and the demo's Redis stopped with the demo, their keys with them; none is in the workspace
    assert agents_running() <= before
    assert not list(ws.rglob("*.key")) and not list(ws.rglob("agent.yaml"))
    assert (ws / "broker-password").stat().st_mode & 0o077 == 0
