"""Patch levels: dpkg data (this machine's and files written here) against small advisory files with known
answers; Debian version ordering; end of life; stale advisory data."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from debian.debian_support import Version

from auditor import clock
from auditor.labs.sshd import Sshd
from auditor.probes.packages import collect_local, parse_dpkg_status
from tests.conftest import Result

STATUS = """\
Package: libssl3
Status: install ok installed
Version: 3.0.11-1~deb12u2
Source: openssl

Package: openssl
Status: install ok installed
Version: 3.0.11-1~deb12u2

Package: curl
Status: install ok installed
Version: 7.88.1-10+deb12u5

Package: foo
Status: install ok installed
Version: 2.0~bpo12+1

Package: removed-thing
Status: deinstall ok config-files
Version: 1.0-1
"""

OSV = [
    {"id": "DSA-5999-1", "modified": "2026-11-20T10:00:00Z", "affected": [
        {"package": {"ecosystem": "Debian:12", "name": "openssl"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.13-1~deb12u1"}]}]}]},
    {"id": "DSA-6000-1", "modified": "2026-11-21T10:00:00Z", "affected": [
        {"package": {"ecosystem": "Debian:12", "name": "curl"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "7.88.1-10+deb12u5"}]}]}]},
    {"id": "DSA-6001-1", "modified": "2026-11-22T10:00:00Z", "affected": [
        {"package": {"ecosystem": "Debian:12", "name": "foo"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0~bpo12+1"}]}]},
        {"package": {"ecosystem": "Debian:11", "name": "foo"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.9"}]}]}]},
]
TRACKER = {
    "curl": {"CVE-2026-0001": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "7.88.1-10+deb12u6",
                                                         "urgency": "medium"}}},
             "CVE-2026-0002": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "9.0",
                                                         "urgency": "unimportant"}}},
             "CVE-2026-0003": {"releases": {"bookworm": {"status": "open", "urgency": "high"}}}},
}


def test_debian_version_ordering() -> None:
    assert Version("1.2-3+deb12u1") < Version("1.2-3+deb12u2")
    assert Version("3.0.11-1~deb12u2") < Version("3.0.11-1")
    assert Version("2.0~bpo12+1") < Version("2.0")
    assert Version("1:0.9") > Version("9.9")


def test_dpkg_status_parsing() -> None:
    packages = {p.name: p for p in parse_dpkg_status(STATUS)}
    assert set(packages) == {"libssl3", "openssl", "curl", "foo"}
    assert packages["libssl3"].source == "openssl" and packages["libssl3"].source_version == "3.0.11-1~deb12u2"


def test_this_machines_dpkg_database() -> None:
    inv = collect_local()
    assert inv.os_id in ("debian", "ubuntu") and inv.codename
    names = {p.name for p in inv.packages}
    assert {"dpkg", "coreutils"} <= names
    assert len(inv.packages) > 100


def workspace(tmp_path: Path, hosts: str) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    (ws / "inventory.yaml").write_text(textwrap.dedent("""\
        version: 1
        organisations:
          - {id: o, name: Org, roles: [owner, operator, security_unit]}
        systems:
          - id: app
            name: Ứng dụng
            owner: o
            operator: o
            lifecycle: operating
            go_live: 2020-01-01
            facts: {information: [private], kinds: [internal], serves: [internal], administrative_procedures: false,
                    conditional_business: false, infrastructure_scope: none, national_egovernment: false,
                    always_on: false, national_data_centre: false, defence_security_harm: none, industrial_control: none}
            hosts:
        """) + textwrap.indent(textwrap.dedent(hosts), "      "), encoding="utf-8")
    return ws


def scan(cli: Callable[..., Result], ws: Path) -> dict[tuple[str, str], dict[str, object]]:
    r = cli("scan", "--check", "patch", "--json", "--workspace", ws)
    assert r.exit_code in (0, 1), r.stderr
    return {(f["check"], f["target"]): f for f in json.loads(r.stdout)["findings"]}


def imports(cli: Callable[..., Result], ws: Path, tmp_path: Path, date: str | None = None) -> None:
    (tmp_path / "osv.json").write_text(json.dumps(OSV))
    (tmp_path / "tracker.json").write_text(json.dumps(TRACKER))
    extra = ("--date", date) if date else ()
    for name in ("osv.json", "tracker.json"):
        r = cli("advisories", "import", tmp_path / name, "--json", "--workspace", ws, *extra)
        assert r.exit_code == 0, r.stderr


@pytest.fixture
def today() -> str:
    return clock.today().isoformat()


def test_known_answers_from_a_dpkg_status_file(cli: Callable[..., Result], tmp_path: Path, today: str) -> None:
    ws = workspace(tmp_path, """\
        - id: db
          address: 127.0.0.1
          os: Debian 12
          patch: {method: file, path: collected/db.status}
        """)
    (ws / "collected").mkdir()
    (ws / "collected" / "db.status").write_text(STATUS)
    imports(cli, ws, tmp_path, today)
    found = scan(cli, ws)
    vulnerable = {t: f["detail"] for (c, t), f in found.items() if c == "patch.vulnerable_package"}
    assert set(vulnerable) == {"db:openssl", "db:curl"}  # foo is at its fixed backport; curl by the tracker
    assert vulnerable["db:openssl"]["advisories"] == ["DSA-5999-1"]  # type: ignore[index]
    assert vulnerable["db:openssl"]["installed"] == "3.0.11-1~deb12u2"  # type: ignore[index]
    assert vulnerable["db:openssl"]["binaries"] == ["libssl3", "openssl"]  # type: ignore[index]
    assert vulnerable["db:curl"]["advisories"] == ["CVE-2026-0001"]  # type: ignore[index]
    assert ("patch.eol_os", "db:os") not in found and ("patch.advisories_stale", "db:advisories") not in found

    # the operator upgrades openssl: its finding resolves, curl's stays
    (ws / "collected" / "db.status").write_text(STATUS.replace("3.0.11-1~deb12u2", "3.0.13-1~deb12u1"))
    found = scan(cli, ws)
    assert {t for (c, t) in found if c == "patch.vulnerable_package"} == {"db:curl"}
    r = cli("findings", "list", "--all", "--check", "patch", "--json", "--workspace", ws)
    statuses = {f["target"]: f["status"] for f in json.loads(r.stdout)["findings"]}
    assert statuses["db:openssl"] == "resolved"


def test_end_of_life_and_stale_advisories(cli: Callable[..., Result], tmp_path: Path) -> None:
    ws = workspace(tmp_path, """\
        - id: old
          address: 127.0.0.1
          os: Debian 10
          patch: {method: file, path: old.status}
        """)
    (ws / "old.status").write_text(STATUS)
    found = scan(cli, ws)
    assert found[("patch.advisories_stale", "old:advisories")]["detail"]["newest"] is None  # type: ignore[index]
    assert found[("patch.eol_os", "old:os")]["detail"]["eol"] == "2024-06-30"  # type: ignore[index]
    imports(cli, ws, tmp_path, "2026-01-01")
    found = scan(cli, ws)
    assert found[("patch.advisories_stale", "old:advisories")]["detail"]["newest"] == "2026-01-01"  # type: ignore[index]


def test_this_machine_against_an_advisory(cli: Callable[..., Result], tmp_path: Path, today: str) -> None:
    local = collect_local()
    dpkg = next(p for p in local.packages if p.name == "dpkg")
    release = local.codename if local.os_id == "debian" else local.version_id
    eco = f"Debian:{local.version_id}" if local.os_id == "debian" else f"Ubuntu:{local.version_id}:LTS"
    records = [{"id": "TEST-1", "modified": f"{today}T00:00:00Z", "affected": [
        {"package": {"ecosystem": eco, "name": dpkg.source},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": dpkg.source_version + ".1"}]}]}]},
               {"id": "TEST-2", "modified": f"{today}T00:00:00Z", "affected": [
        {"package": {"ecosystem": eco, "name": "coreutils"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "0.1-1"}]}]}]}]
    assert release
    ws = workspace(tmp_path, """\
        - id: me
          address: 127.0.0.1
          patch: {method: local}
        """)
    (tmp_path / "local.json").write_text(json.dumps(records))
    assert cli("advisories", "import", tmp_path / "local.json", "--workspace", ws).exit_code == 0
    found = scan(cli, ws)
    assert {t for (c, t) in found if c == "patch.vulnerable_package"} == {f"me:{dpkg.source}"}


def test_agent_collect_file_is_read_back(cli: Callable[..., Result], tmp_path: Path, today: str) -> None:
    ws = workspace(tmp_path, """\
        - id: airgapped
          address: 127.0.0.1
          patch: {method: file, path: airgapped.json}
        """)
    assert cli("agent", "collect", "--out", ws / "airgapped.json").exit_code == 0
    found = scan(cli, ws)
    assert ("patch.collection_failed", "airgapped:packages") not in found
    assert ("patch.advisories_stale", "airgapped:advisories") in found  # nothing imported yet


def test_bad_advisory_file_is_exit_2(cli: Callable[..., Result], tmp_path: Path) -> None:
    ws = workspace(tmp_path, "- {id: h, address: 127.0.0.1}\n")
    (tmp_path / "bad.json").write_text("{not json")
    r = cli("advisories", "import", tmp_path / "bad.json", "--workspace", ws, "--lang", "en")
    assert r.exit_code == 2 and "bad.json:1:1:" in r.stderr and "not an OSV or Debian tracker JSON" in r.stderr


def test_collection_failure_is_reported_not_a_pass(cli: Callable[..., Result], tmp_path: Path) -> None:
    ws = workspace(tmp_path, """\
        - id: gone
          address: 127.0.0.1
          os: Debian 12
          patch: {method: file, path: missing.status}
        """)
    found = scan(cli, ws)
    assert "missing.status" in str(found[("patch.collection_failed", "gone:packages")]["detail"]["error"])  # type: ignore[index]


@pytest.fixture
def sshd() -> Iterator[Sshd]:
    server = Sshd().start()
    yield server
    server.stop()


def test_ssh_collection_with_a_pinned_host_key(cli: Callable[..., Result], tmp_path: Path, sshd: Sshd) -> None:
    ws = workspace(tmp_path, f"""\
        - id: remote
          address: 127.0.0.1
          patch: {{method: ssh, user: {sshd.user}, port: {sshd.port}, host_key: "{sshd.host_key}",
                  identity_file: {sshd.identity}}}
        - id: impostor
          address: 127.0.0.1
          patch: {{method: ssh, user: {sshd.user}, port: {sshd.port}, host_key: "{sshd.other_key}",
                  identity_file: {sshd.identity}}}
        """)
    found = scan(cli, ws)
    assert ("patch.collection_failed", "remote:packages") not in found
    assert ("patch.advisories_stale", "remote:advisories") in found  # it collected; nothing imported yet
    error = str(found[("patch.collection_failed", "impostor:packages")]["detail"]["error"])  # type: ignore[index]
    assert "does not match the key pinned" in error
    db = (ws / ".auditor" / "auditor.sqlite").read_bytes()
    assert b"PRIVATE KEY" not in db


APT_SIMULATION = """\
NOTE: This is only a simulation!
Inst base-files [12.4+deb12u11] (12.4+deb12u15 Debian:12.15/oldstable [amd64])
Inst libgcrypt20 [1.10.1-3] (1.10.1-3+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])
Inst liblzma5 [5.4.1-1] (5.4.1-1+deb12u2 Debian-Security:12/oldstable-security [amd64]) []
Conf base-files (12.4+deb12u15 Debian:12.15/oldstable [amd64])
"""


def test_pending_security_updates_from_apt() -> None:
    from auditor.probes.packages import parse_apt_simulation

    assert parse_apt_simulation(APT_SIMULATION) == ("libgcrypt20", "liblzma5")
    local = collect_local()
    assert local.pending_security is not None  # apt is there: its view is known, empty or not


def _deb(name: str, version: str, installed: bool) -> str:
    status = "Status: install ok installed\n" if installed else ""
    extra = "" if installed else f"Filename: pool/{name}_{version}_all.deb\nSize: 100\nSHA256: {'0' * 64}\n"
    return (f"Package: {name}\n{status}Priority: optional\nSection: misc\nInstalled-Size: 10\n"
            f"Maintainer: T <t@example.invalid>\nArchitecture: all\nVersion: {version}\n{extra}Description: t\n\n")


def apt_root(root: Path, installed: dict[str, str], suites: dict[str, tuple[str, dict[str, str]]]) -> Path:
    """An apt configuration of its own (APT_CONFIG): a dpkg status with ``installed``, and a file: repository
    with one suite per entry (label, packages), indexed by a real `apt-get update`. Returns the config file."""
    for d in ("etc/apt/sources.list.d", "etc/apt/preferences.d", "etc/apt/apt.conf.d", "state/lists/partial",
              "cache/archives/partial", "log"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "state" / "status").write_text("".join(_deb(n, v, True) for n, v in installed.items()))
    sources = []
    for suite, (label, packages) in suites.items():
        dist = root / "repo" / "dists" / suite
        (dist / "main" / "binary-amd64").mkdir(parents=True)
        (dist / "main" / "binary-amd64" / "Packages").write_text("".join(_deb(n, v, False) for n, v in packages.items()))
        (dist / "Release").write_text(f"Origin: Debian\nLabel: {label}\nSuite: {suite}\nCodename: {suite}\n"
                                      "Architectures: amd64 all\nComponents: main\n")
        sources.append(f"deb [trusted=yes] file:{root / 'repo'} {suite} main")
    (root / "etc" / "apt" / "sources.list").write_text("\n".join(sources) + "\n")
    conf = root / "apt.conf"
    conf.write_text(f'Dir "{root}/";\nDir::State "state";\nDir::State::status "{root}/state/status";\n'
                    'Dir::Etc "etc/apt";\nDir::Cache "cache";\nDir::Log "log";\nDebug::NoLocking "true";\n'
                    'APT::Architecture "amd64";\nAcquire::Languages "none";\n')
    subprocess.run(["apt-get", "update"], env={**os.environ, "APT_CONFIG": str(conf), "LANG": "C"}, check=True,
                   capture_output=True, timeout=120)
    return conf


def test_pending_security_updates_known_answer(cli: Callable[..., Result], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """apt's own simulation over a repository the test builds: one update from a security suite, one not."""
    suites = {"bookworm-security": ("Debian-Security", {"auditor-test-lib": "1.0-1+deb12u1"}),
              "bookworm-updates": ("Debian", {"auditor-test-tool": "2.0-2"})}
    conf = apt_root(tmp_path / "apt", {"auditor-test-lib": "1.0-1", "auditor-test-tool": "2.0-1"}, suites)
    monkeypatch.setenv("APT_CONFIG", str(conf))
    ws = workspace(tmp_path, """\
        - id: me
          address: 127.0.0.1
          patch: {method: local}
        """)
    pending = scan(cli, ws)[("patch.pending_security_updates", "me:updates")]
    assert pending["detail"] == {"packages": ["auditor-test-lib"], "count": 1}
    # the security update is installed: nothing is pending any more, and the finding is resolved
    conf = apt_root(tmp_path / "apt2", {"auditor-test-lib": "1.0-1+deb12u1", "auditor-test-tool": "2.0-1"}, suites)
    monkeypatch.setenv("APT_CONFIG", str(conf))
    assert ("patch.pending_security_updates", "me:updates") not in scan(cli, ws)
    r = cli("findings", "--all", "--json", "--workspace", ws)
    states = {f["check"]: f["status"] for f in json.loads(r.stdout)["findings"]}
    assert states["patch.pending_security_updates"] == "resolved"


def test_debian_version_key_orders_as_python_debian_does() -> None:
    """The tuple key the scan compares with gives python-debian's (dpkg's) order on versions that share prefixes,
    epochs, revisions, ~ backports and +debNuM updates."""
    import random

    from debian.debian_support import Version

    from auditor.versions import version_key

    key = version_key("deb")
    rng = random.Random(16)
    chars = "0123456789.~+ab"
    pairs = [("1.0", "1.0~"), ("1.0", "1.0.0"), ("0", "0~1"), ("1a", "1a0"), ("1:1.0", "2.0"), ("3.0.11-1~deb12u2",
             "3.0.11-1"), ("3.0.11-1+deb12u2", "3.0.11-1"), ("1.0-1", "1.0"), ("1.0-0", "1.0")]
    while len(pairs) < 5000:
        base = str(rng.randrange(5)) + "".join(rng.choice(chars) for _ in range(rng.randrange(4)))
        a, b = (base + "".join(rng.choice(chars) for _ in range(rng.randrange(3))) for _ in range(2))
        if rng.random() < 0.3:
            a = f"{rng.randrange(2)}:{a}"
        if rng.random() < 0.5:
            a += "-" + rng.choice(["1", "0", "1~bpo1", "1+deb12u1", "2"])
            b += "-" + rng.choice(["1", "0", "1~bpo1", "1+deb12u1", "2"])
        try:
            Version(a), Version(b)
        except ValueError:
            continue
        pairs.append((a, b))
    wrong = [(a, b) for a, b in pairs
             if ((Version(a) > Version(b)) - (Version(a) < Version(b))) != ((key(a) > key(b)) - (key(a) < key(b)))]
    assert not wrong, wrong[:5]
    assert key("1.0~") < key("1.0") < key("1.0+deb12u1") < key("1.0.1") < key("1:0.1")
