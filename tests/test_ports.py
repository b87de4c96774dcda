"""Port checks with the real nmap against listeners the tests open on a loopback address of their own."""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from auditor.labs.servers import Listener, free_port
from tests.conftest import REPO, Result

ADDRESS = "127.88.0.1"


@pytest.fixture
def listeners() -> Iterator[Callable[..., Listener]]:
    started: list[Listener] = []

    def start(port: int = 0, name: str = "tcp") -> Listener:
        listener = Listener(port=port, name=name, address=ADDRESS).start()
        started.append(listener)
        return listener

    yield start
    for listener in started:
        listener.stop()


def workspace(tmp_path: Path, ports_to_scan: list[int], hosts: str) -> Path:
    ws = tmp_path / "ws"
    (ws / "profiles" / "ports").mkdir(parents=True, exist_ok=True)
    policy = (REPO / "profiles" / "ports" / "policy.yaml").read_text(encoding="utf-8")
    # scan only the ports this test is about: listeners elsewhere on the machine cannot interfere
    policy = policy.replace('ports: "1-65535"', f'ports: "{",".join(map(str, sorted(ports_to_scan)))}"')
    (ws / "profiles" / "ports" / "policy.yaml").write_text(policy, encoding="utf-8")
    shutil.copy(REPO / "profiles" / "regimes.yaml", ws / "profiles" / "regimes.yaml")
    (ws / "inventory.yaml").write_text(textwrap.dedent("""\
        version: 1
        organisations:
          - {id: o, name: Org, roles: [owner, operator, security_unit]}
        systems:
          - id: web
            name: Cổng thông tin
            owner: o
            operator: o
            lifecycle: operating
            go_live: 2020-01-01
            facts: {information: [public], kinds: [online_service], serves: [citizens], conditional_business: false,
                    administrative_procedures: true, online_public_service_level: 0, infrastructure_scope: none,
                    national_egovernment: false, always_on: true, national_data_centre: false,
                    defence_security_harm: none, industrial_control: none,
                    personal_data_subjects: {basic: 0, sensitive: 0}}
            hosts:
        """) + textwrap.indent(textwrap.dedent(hosts), "      "), encoding="utf-8")
    return ws


def scan(cli: Callable[..., Result], ws: Path) -> tuple[int, dict[tuple[str, str], dict[str, object]], dict]:  # type: ignore[type-arg]
    r = cli("scan", "--check", "ports", "--json", "--workspace", ws)
    assert r.exit_code in (0, 1), r.stderr
    doc = json.loads(r.stdout)
    return r.exit_code, {(f["check"], f["target"]): f for f in doc["findings"]}, doc


def test_unexpected_approved_closed_and_admin(cli: Callable[..., Result], tmp_path: Path,
                                             listeners: Callable[..., Listener]) -> None:
    approved = listeners()
    extra = listeners()
    admin = listeners(port=5432)
    silent = free_port()
    ws = workspace(tmp_path, [approved.port, extra.port, admin.port, silent], f"""\
        - id: front
          address: {ADDRESS}
          exposure: public
          approved_ports: [{approved.port}/tcp, {silent}, 5432]
        """)
    code, found, doc = scan(cli, ws)
    assert code == 1
    assert set(found) == {("ports.unexpected_open", f"front:{extra.port}"), ("ports.approved_closed", f"front:{silent}"),
                          ("ports.admin_exposed", "front:5432")}
    assert found[("ports.admin_exposed", "front:5432")]["detail"]["service"] == "postgresql"  # type: ignore[index]
    run = doc["runs"][0]
    assert run["family"] == "ports" and run["targets"] == 1
    evidence = sorted((ws / ".auditor" / "evidence").glob("nmap-run*-web-front.xml"))
    xml = evidence[-1].read_text()
    assert "<nmaprun" in xml and f'addr="{ADDRESS}"' in xml and f'portid="{extra.port}"' in xml

    # the operator closes the extra port: its finding resolves; the admin port stays
    extra.stop()
    code, found, _doc = scan(cli, ws)
    assert ("ports.unexpected_open", f"front:{extra.port}") not in found
    r = cli("findings", "list", "--all", "--json", "--workspace", ws)
    statuses = {(f["check"], f["target"]): f["status"] for f in json.loads(r.stdout)["findings"]}
    assert statuses[("ports.unexpected_open", f"front:{extra.port}")] == "resolved"
    assert statuses[("ports.admin_exposed", "front:5432")] == "open"


def test_admin_port_in_the_management_zone_is_fine(cli: Callable[..., Result], tmp_path: Path,
                                                   listeners: Callable[..., Listener]) -> None:
    ssh = listeners(port=2222)
    admin = listeners(port=3306)
    ws = workspace(tmp_path, [ssh.port, admin.port], f"""\
        - id: mgmt
          address: {ADDRESS}
          exposure: management
          approved_ports: [3306, 2222]
        """)
    code, found, _doc = scan(cli, ws)
    assert code == 0 and found == {}


class SshBanner(Listener):
    """An SSH server as nmap's version detection sees it: the banner, then waiting for the client."""

    banner = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"

    def respond(self, conn) -> None:  # type: ignore[no-untyped-def]
        conn.sendall(self.banner)
        conn.recv(1024)


def test_admin_service_on_a_non_standard_port_is_recognised(cli: Callable[..., Result], tmp_path: Path) -> None:
    """SSH on a port that is not 22, exposed on a public host: nmap names the service, and that is what counts."""
    ssh = SshBanner(port=free_port(), address=ADDRESS).start()
    try:
        ws = workspace(tmp_path, [ssh.port], f"""\
            - id: front
              address: {ADDRESS}
              exposure: public
              approved_ports: [{ssh.port}]
            """)
        code, found, _doc = scan(cli, ws)
    finally:
        ssh.stop()
    finding = found[("ports.admin_exposed", f"front:{ssh.port}")]
    assert code == 1 and set(found) == {("ports.admin_exposed", f"front:{ssh.port}")}
    detail = finding["detail"]
    assert (detail["service"], detail["nmap_service"], detail["recognised_by"]) == ("ssh", "ssh", "service")  # type: ignore[index]
    assert "OpenSSH" in detail["product"]  # type: ignore[index]


def test_service_change_is_detected(cli: Callable[..., Result], tmp_path: Path,
                                    listeners: Callable[..., Listener]) -> None:
    port = free_port()
    first = listeners(port=port, name="ssh")
    ws = workspace(tmp_path, [port], f"""\
        - id: bastion
          address: {ADDRESS}
          exposure: internal
          approved_ports: [{port}]
        """)
    code, found, _doc = scan(cli, ws)
    assert code == 0 and found == {}
    first.stop()

    class Dropbear(Listener):
        def respond(self, conn) -> None:  # type: ignore[no-untyped-def]
            conn.sendall(b"SSH-2.0-dropbear_2022.83\r\n")
            conn.recv(1024)

    other = Dropbear(port=port, address=ADDRESS).start()
    try:
        code, found, _doc = scan(cli, ws)
    finally:
        other.stop()
    finding = found[("ports.service_changed", f"bastion:{port}")]
    assert code == 0 and finding["severity"] == "medium"  # shown; medium does not fail the audit
    assert "OpenSSH" in finding["detail"]["before"]["product"]  # type: ignore[index]
    assert "ropbear" in finding["detail"]["now"]["product"]  # type: ignore[index]


def test_a_range_larger_than_the_profile_allows_is_refused(cli: Callable[..., Result], tmp_path: Path) -> None:
    ws = workspace(tmp_path, [80], """\
        - id: lan
          address: 127.88.0.0/16
          exposure: internal
        """)
    r = cli("scan", "--check", "ports", "--workspace", ws, "--lang", "en")
    assert r.exit_code == 2
    assert "127.88.0.0/16 has 65536 addresses" in r.stderr and "at most 256" in r.stderr
    assert not (ws / ".auditor" / "evidence").exists(), "nothing was scanned"


def test_a_small_declared_range_is_scanned_address_by_address(cli: Callable[..., Result], tmp_path: Path,
                                                              listeners: Callable[..., Listener]) -> None:
    extra = listeners()
    ws = workspace(tmp_path, [extra.port], """\
        - id: segment
          address: 127.88.0.0/30
          exposure: internal
        """)
    code, found, _doc = scan(cli, ws)
    assert code == 1
    assert ("ports.unexpected_open", f"segment/{ADDRESS}:{extra.port}") in found
