"""The findings lifecycle through the real commands: scans of a real TLS server on loopback."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from auditor import clock
from auditor.findings.policy import load_acceptance_policy
from auditor.labs.servers import Listener, TlsListener, server_context
from auditor.labs.tls_zoo import HSTS_2Y, Zoo, ZooServer
from auditor.vocabulary import Severity
from tests.conftest import REPO, FrozenClock, Result


@pytest.fixture
def zoo() -> Iterator[Zoo]:
    z = Zoo()
    yield z
    z.close()


def workspace_for(tmp_path: Path, zoo: Zoo, server: ZooServer) -> Path:
    ws = tmp_path / "ws"
    (ws / "certs").mkdir(parents=True)
    shutil.copy(zoo.ca_file, ws / "certs" / "ca.pem")
    (ws / "inventory.yaml").write_text(textwrap.dedent(f"""\
        version: 1
        organisations:
          - {{id: owner, name: Chủ quản, roles: [owner, operator, security_unit]}}
        systems:
          - id: portal
            name: Cổng thông tin
            owner: owner
            operator: owner
            lifecycle: operating
            go_live: 2020-01-01
            hosts:
              - {{id: web, address: 127.0.0.1, exposure: public, approved_ports: [{server.port}]}}
            endpoints:
              - {{host: web, port: {server.port}, protocol: https, tls: true, server_name: {server.server_name},
                 ca_bundle: certs/ca.pem}}
        """), encoding="utf-8")
    return ws


def scan(cli: Callable[..., Result], ws: Path) -> tuple[int, dict[str, dict[str, object]]]:
    r = cli("scan", "--check", "tls", "--json", "--workspace", ws)
    assert r.exit_code in (0, 1), r.stderr
    doc = json.loads(r.stdout)
    return r.exit_code, {f["check"]: f for f in doc["findings"]}


def all_findings(cli: Callable[..., Result], ws: Path) -> tuple[int, dict[str, dict[str, object]]]:
    r = cli("findings", "list", "--all", "--json", "--workspace", ws)
    return r.exit_code, {f["check"]: f for f in json.loads(r.stdout)["findings"]}


def replace_server(zoo: Zoo, old: ZooServer, hsts: str | None) -> ZooServer:
    """Stop a server and start another on the same port (the operator fixed the configuration)."""
    cert, key = (zoo.dir / "fixed.pem"), (zoo.dir / "fixed.key")
    from auditor.labs.certs import issue

    issue(zoo.ca, [old.server_name]).write(zoo.dir, "fixed")
    port = old.port
    old.listener.stop()
    new = ZooServer(old.name, TlsListener(port=port, context=server_context(cert, key, ciphers="ECDHE+AESGCM"),
                                          hsts=hsts).start(), old.server_name)
    zoo.servers.append(new)
    return new


def test_open_seen_again_fixed_resolved(cli: Callable[..., Result], zoo: Zoo, tmp_path: Path,
                                        frozen: FrozenClock, database_url: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_DATABASE_URL", database_url)
    server = zoo.tls("web", {"tls.hsts.missing"}, hsts=None)
    ws = workspace_for(tmp_path, zoo, server)

    code, found = scan(cli, ws)
    assert code == 0, "a medium finding is shown; it does not fail the audit (findings.open_by_severity: from high)"
    assert set(found) == {"tls.hsts.missing"}
    first = found["tls.hsts.missing"]
    assert first["status"] == "open" and first["first_seen"] == first["last_seen"]
    assert first["system"] == "portal" and first["target"] == f"web:{server.port}" and first["severity"] == "medium"
    assert first["detail"] == {"header": None, "minimum": 31536000}

    # `auditor findings --json` (the group's default) shows the same finding
    r = cli("findings", "--json", "--workspace", ws)
    assert r.exit_code == 0
    assert [f["check"] for f in json.loads(r.stdout)["findings"]] == ["tls.hsts.missing"]

    frozen.advance(dt.timedelta(hours=6))
    code, found = scan(cli, ws)
    again = found["tls.hsts.missing"]
    assert code == 0 and again["id"] == first["id"] and again["first_seen"] == first["first_seen"]
    assert str(again["last_seen"]) > str(first["last_seen"])

    replace_server(zoo, server, HSTS_2Y)
    code, found = scan(cli, ws)
    assert code == 0 and found == {}
    code, everything = all_findings(cli, ws)
    assert code == 0
    assert everything["tls.hsts.missing"]["status"] == "resolved" and everything["tls.hsts.missing"]["resolved_at"]


def test_an_unreachable_target_does_not_resolve_anything(cli: Callable[..., Result], zoo: Zoo, tmp_path: Path) -> None:
    server = zoo.tls("web", {"tls.hsts.missing"}, hsts=None)
    ws = workspace_for(tmp_path, zoo, server)
    assert set(scan(cli, ws)[1]) == {"tls.hsts.missing"}
    server.listener.stop()
    code, found = scan(cli, ws)
    assert code == 1  # an endpoint that cannot be assessed cannot pass
    assert found["tls.not_assessed"]["severity"] == "high" and found["tls.not_assessed"]["detail"]["reason"] == "unreachable"
    assert found["tls.hsts.missing"]["status"] == "open"
    assert found["target.unreachable"]["status"] == "open" and found["target.unreachable"]["severity"] == "info"
    r = cli("scan", "--check", "tls", "--json", "--workspace", ws)
    run = json.loads(r.stdout)["runs"][0]
    assert {i["check"] for i in run["indeterminate"]} >= {"tls.hsts.missing", "tls.cert.expired"}


def officer(cli: Callable[..., Result], ws: Path, monkeypatch: pytest.MonkeyPatch, organisation: str = "Chủ quản",
            name: str = "officer") -> Path:
    """A pinned test CA and the PKCS#12 file of an officer it certifies for ``organisation`` (by default the owner,
    which the inventory names "Chủ quản"; the passphrase in the environment)."""
    from auditor.labs.pki import LabCA

    ca = LabCA("Test CA (auditor tests)")
    (ws.parent / f"{name}-ca.pem").write_bytes(ca.pem)
    assert cli("trust", "add", ws.parent / f"{name}-ca.pem", "--workspace", ws).exit_code == 0
    monkeypatch.setenv("AUDITOR_KEY_PASSPHRASE", "mat-khau-thu-nghiem")
    return ca.officer("Trần Thị B", organisation, "Giám đốc Sở").p12(ws.parent / f"{name}.p12", "mat-khau-thu-nghiem")


def test_accepted_then_expired(cli: Callable[..., Result], zoo: Zoo, tmp_path: Path, database_url: str,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.labs.certs import issue

    monkeypatch.setenv("AUDITOR_DATABASE_URL", database_url)
    server = zoo.tls("web", {"tls.cert.hostname_mismatch"}, cert=issue(zoo.ca, ["other.zoo.test"]))
    ws = workspace_for(tmp_path, zoo, server)
    code, found = scan(cli, ws)
    assert code == 1 and found["tls.cert.hostname_mismatch"]["severity"] == "high"
    fid = found["tls.cert.hostname_mismatch"]["id"]
    until = (clock.today() + dt.timedelta(days=30)).isoformat()
    p12 = officer(cli, ws, monkeypatch)
    r = cli("findings", "accept", str(fid), "--justification", "Cổng nội bộ, chờ nâng cấp proxy", "--until", until,
            "--p12", p12, "--json", "--workspace", ws)
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["accepted_by"] == "Trần Thị B, Giám đốc Sở, Chủ quản"  # from the certificate
    code, listed = all_findings(cli, ws)
    assert code == 0, "an accepted finding does not fail the audit"
    assert listed["tls.cert.hostname_mismatch"]["status"] == "accepted"
    assert listed["tls.cert.hostname_mismatch"]["acceptance"]["expires_on"] == until
    # scanning again keeps it visible and accepted
    code, found = scan(cli, ws)
    assert code == 0 and found["tls.cert.hostname_mismatch"]["status"] == "accepted"

    # time passes: the acceptance expires (set in the store as the calendar would)
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE risk_acceptance SET expires_on = :d"),
                     {"d": (clock.today() - dt.timedelta(days=1)).isoformat()})
    engine.dispose()
    code, listed = all_findings(cli, ws)
    assert code == 1
    assert listed["tls.cert.hostname_mismatch"]["status"] == "open"
    assert listed["tls.cert.hostname_mismatch"]["acceptance"]["expired"] is True


def test_acceptance_input_errors(cli: Callable[..., Result], zoo: Zoo, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    server = zoo.tls("web", {"tls.hsts.missing"}, hsts=None)
    ws = workspace_for(tmp_path, zoo, server)
    _, found = scan(cli, ws)
    fid = str(found["tls.hsts.missing"]["id"])
    p12 = officer(cli, ws, monkeypatch)
    r = cli("findings", "accept", fid, "--until", "2099-01-01", "--justification", "x", "--workspace", ws, "--lang",
            "en")
    assert r.exit_code == 2 and "say which certificate signs" in r.stderr  # no certificate: nobody accepts
    common = ("--justification", "x", "--p12", p12, "--workspace", ws, "--lang", "en")
    assert cli("findings", "accept", fid, "--until", "2026-02-30", *common).exit_code == 2
    r = cli("findings", "accept", fid, "--until", "2020-01-01", *common)
    assert r.exit_code == 2 and "already past" in r.stderr
    r = cli("findings", "accept", "9999", "--until", "2099-01-01", *common)
    assert r.exit_code == 2 and "9999" in r.stderr
    # how long a risk may be accepted depends on its severity (profiles/risk_acceptance.yaml)
    longest = load_acceptance_policy(REPO / "profiles").longest(Severity(found["tls.hsts.missing"]["severity"]))
    too_long = (clock.today() + dt.timedelta(days=longest + 1)).isoformat()
    r = cli("findings", "accept", fid, "--until", too_long, *common)
    assert r.exit_code == 2 and f"at most {longest} days" in r.stderr, r.stderr
    assert longest < 365
    # a trusted certificate of an organisation that neither owns the system nor is its security unit
    stranger = officer(cli, ws, monkeypatch, organisation="Sở Tài chính", name="stranger")
    r = cli("findings", "accept", fid, "--until", "2099-01-01", "--justification", "x", "--p12", stranger,
            "--workspace", ws, "--lang", "en")
    assert r.exit_code == 2 and "accepting a risk of portal is for an officer of owner (Chủ quản)" in r.stderr, r.stderr
    assert all_findings(cli, ws)[1]["tls.hsts.missing"]["status"] == "open"


def test_scan_refuses_unknown_systems_and_families(cli: Callable[..., Result], zoo: Zoo, tmp_path: Path) -> None:
    ws = workspace_for(tmp_path, zoo, zoo.tls("web", set()))
    r = cli("scan", "--system", "nope", "--workspace", ws, "--lang", "en")
    assert r.exit_code == 2 and "unknown system 'nope'" in r.stderr
    assert cli("scan", "--check", "smtp", "--workspace", ws).exit_code == 2


class Silent(Listener):
    """Accepts the connection, reads the ClientHello, and never answers: a handshake that never completes."""

    def respond(self, conn) -> None:  # type: ignore[no-untyped-def]
        conn.recv(65536)
        time.sleep(4)


def test_an_endpoint_that_never_completes_a_handshake_fails_closed(cli: Callable[..., Result], zoo: Zoo,
                                                                   tmp_path: Path) -> None:
    silent = Silent().start()
    try:
        ws = workspace_for(tmp_path, zoo, ZooServer("silent", silent, "silent.zoo.test"))
        (ws / "profiles" / "tls").mkdir(parents=True)
        policy = (REPO / "profiles" / "tls" / "policy.yaml").read_text(encoding="utf-8")
        (ws / "profiles" / "tls" / "policy.yaml").write_text(
            policy.replace("timeout_seconds: 5", "timeout_seconds: 1").replace("retries: 1", "retries: 0"))
        shutil.copy(REPO / "profiles" / "tls" / "mozilla-5.7.json", ws / "profiles" / "tls")
        code, found = scan(cli, ws)
    finally:
        silent.stop()
    assert code == 1, "nothing could be judged: not a clean endpoint"
    assert set(found) == {"tls.not_assessed"}
    assert found["tls.not_assessed"]["severity"] == "high" and found["tls.not_assessed"]["target"] == f"web:{silent.port}"
    r = cli("status", "--json", "--workspace", ws)
    findings = next(o for o in json.loads(r.stdout)["obligations"] if o["rule"] == "findings.open_by_severity")
    assert r.exit_code == 1 and findings["verdict"] == "fail" and findings["detail"]["high"] == 1
