"""Patch levels on RPM-based hosts: a real RPM database built by rpmbuild and rpm, rpmvercmp ordering checked
against the rpm binary itself, and OSV advisories for AlmaLinux / Rocky Linux / Red Hat."""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from univers.rpm import compare_rpm_versions

from auditor.probes.packages import REMOTE_COMMAND, collect_rpm, parse_remote_output, parse_rpm_query
from tests.conftest import Result
from tests.test_patch import scan, workspace

PAIRS = [("1:1.0-1", "2.0-1"), ("3.0.7-17.el9", "3.0.7-17.el9_2"), ("1.0~rc1-1", "1.0-1"), ("1.0^git1-1", "1.0-1"),
         ("1.0^git1-1", "1.0.1-1"), ("2.el9", "10.el9"), ("1.0a-1", "1.0-1"), ("1.0-1", "1.0.0-1"),
         ("0:1.2-3", "1.2-3"), ("5.14.0-362.8.1.el9_3", "5.14.0-362.13.1.el9_3"), ("1.01-1", "1.1-1"),
         ("7.76.1-26.el9_3.2", "7.76.1-26.el9_3.3"), ("2.34-83.el9.7", "2.34-83.el9_3.7")]


def rpm_says(a: str, b: str) -> int:
    run = subprocess.run(["rpm", "--eval", f'%{{lua: print(rpm.vercmp("{a}", "{b}"))}}'], capture_output=True,
                         text=True, check=True)
    return int(run.stdout.strip())


def test_rpm_ordering_agrees_with_the_rpm_binary() -> None:
    for a, b in PAIRS:
        assert compare_rpm_versions(a, b) == rpm_says(a, b), (a, b)
        assert compare_rpm_versions(b, a) == rpm_says(b, a), (b, a)


SPEC = """\
Name: {name}
Epoch: {epoch}
Version: {version}
Release: {release}
Summary: test package
License: Apache-2.0
BuildArch: noarch
%description
test
%package libs
Summary: libraries
%description libs
libraries
%files
%files libs
"""


def rpm_database(tmp: Path, packages: list[tuple[str, int, str, str]]) -> Path:
    """Build real (empty, noarch) RPMs with rpmbuild and record them in a new RPM database."""
    db = tmp / "rpmdb"
    db.mkdir()
    subprocess.run(["rpm", "--dbpath", str(db), "--initdb"], check=True)
    for name, epoch, version, release in packages:
        spec = tmp / f"{name}.spec"
        spec.write_text(SPEC.format(name=name, epoch=epoch, version=version, release=release), encoding="utf-8")
        subprocess.run(["rpmbuild", "-bb", "--quiet", "--define", f"_topdir {tmp / 'top'}", "--define",
                        f"_rpmdir {tmp / 'out'}", str(spec)], check=True, capture_output=True)
    built = sorted(str(p) for p in (tmp / "out").rglob("*.rpm"))
    subprocess.run(["rpm", "--dbpath", str(db), "-i", "--justdb", "--nodeps", "--noscripts", *built], check=True,
                   capture_output=True)
    return db


@pytest.fixture
def alma(tmp_path: Path) -> tuple[Path, Path]:
    db = rpm_database(tmp_path, [("openssl", 1, "3.0.7", "17.el9"), ("curl", 0, "7.76.1", "26.el9_3.2"),
                                 ("glibc", 0, "2.34", "83.el9.7")])
    osr = tmp_path / "os-release"
    osr.write_text('NAME="AlmaLinux"\nVERSION="9.3 (Shamrock Pampas Cat)"\nID="almalinux"\nID_LIKE="rhel centos fedora"\n'
                   'VERSION_ID="9.3"\n', encoding="utf-8")
    return db, osr


def test_rpm_collection_from_a_real_database(alma: tuple[Path, Path]) -> None:
    inv = collect_rpm(alma[1], alma[0])
    assert (inv.os_id, inv.version_id, inv.package_format, inv.advisory_release) == ("almalinux", "9.3", "rpm", "9")
    got = {p.name: (p.version, p.source, p.source_version) for p in inv.packages}
    assert got == {"openssl": ("1:3.0.7-17.el9", "openssl", "1:3.0.7-17.el9"),
                   "openssl-libs": ("1:3.0.7-17.el9", "openssl", "1:3.0.7-17.el9"),
                   "curl": ("7.76.1-26.el9_3.2", "curl", "7.76.1-26.el9_3.2"),
                   "curl-libs": ("7.76.1-26.el9_3.2", "curl", "7.76.1-26.el9_3.2"),
                   "glibc": ("2.34-83.el9.7", "glibc", "2.34-83.el9.7"),
                   "glibc-libs": ("2.34-83.el9.7", "glibc", "2.34-83.el9.7")}
    assert inv.pending_security is None  # dnf's cache is not read offline: indeterminate, never a pass


def test_rpm_query_lines_without_a_source_rpm() -> None:
    (pkg,) = parse_rpm_query("gpg-pubkey\t0\tfd431d51-4ae0493b\t(none)\n")
    assert (pkg.source, pkg.source_version) == ("gpg-pubkey", "fd431d51-4ae0493b")


def osv(ident: str, ecosystem: str, name: str, fixed: str) -> dict[str, object]:
    return {"id": ident, "modified": "2026-11-20T00:00:00Z", "affected": [{
        "package": {"ecosystem": ecosystem, "name": name},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]}


def test_known_answers_for_an_almalinux_host(cli: Callable[..., Result], tmp_path: Path,
                                             alma: tuple[Path, Path]) -> None:
    inv = collect_rpm(alma[1], alma[0])
    ws = workspace(tmp_path, """\
        - {id: alma, address: 127.0.0.1, os: AlmaLinux 9, patch: {method: file, path: alma-packages.json}}
        """)
    (ws / "alma-packages.json").write_text(json.dumps(inv.as_json()), encoding="utf-8")
    records = [
        osv("ALSA-2026:0001", "AlmaLinux:9", "openssl-libs", "1:3.0.7-18.el9_2"),  # binary name, newer: vulnerable
        osv("ALSA-2026:0002", "AlmaLinux:9", "openssl", "1:3.0.7-17.el9_2"),  # el9 < el9_2: vulnerable too
        osv("ALSA-2026:0003", "AlmaLinux:9", "curl", "7.76.1-26.el9_3.2"),  # exactly installed: fixed
        osv("ALSA-2026:0004", "AlmaLinux:9", "glibc", "2.34-83.el9.12"),  # 12 > 7 as numbers: vulnerable
        osv("ALSA-2026:0008", "AlmaLinux:9", "glibc", "2.34-83.el9_3.5"),  # "." and "_" alike, 7 > 5: fixed
        osv("ALSA-2026:0005", "AlmaLinux:8", "curl", "9.0-1.el8"),  # another release: ignored
        osv("RLSA-2026:0006", "Rocky Linux:9", "curl", "9.0-1.el9"),  # another distribution: ignored
        osv("ALSA-2026:0007", "AlmaLinux:9", "openssl", "3.0.8-1.el9"),  # no epoch: 0 < 1, not vulnerable
    ]
    (tmp_path / "alma.json").write_text(json.dumps(records), encoding="utf-8")
    r = cli("advisories", "import", tmp_path / "alma.json", "--json", "--workspace", ws)
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["entries"] == 8
    found = scan(cli, ws)
    failing = {k for k, f in found.items() if f["status"] == "open"}
    assert failing == {("patch.vulnerable_package", "alma:openssl"), ("patch.vulnerable_package", "alma:glibc")}, found
    openssl = found[("patch.vulnerable_package", "alma:openssl")]["detail"]
    assert openssl["installed"] == "1:3.0.7-17.el9" and openssl["fixed"] == "1:3.0.7-18.el9_2"
    assert openssl["advisories"] == ["ALSA-2026:0001", "ALSA-2026:0002"]
    assert openssl["binaries"] == ["openssl", "openssl-libs"]
    assert found[("patch.vulnerable_package", "alma:glibc")]["detail"]["advisories"] == ["ALSA-2026:0004"]


def test_end_of_life_for_a_centos_7_host(cli: Callable[..., Result], tmp_path: Path) -> None:
    ws = workspace(tmp_path, """\
        - {id: old, address: 127.0.0.1, patch: {method: file, path: old.json}}
        """)
    data = {"format": "auditor-packages/1", "os_id": "centos", "version_id": "7", "codename": "",
            "packages": [{"name": "bash", "version": "4.2.46-35.el7_9", "source": "bash",
                          "source_version": "4.2.46-35.el7_9"}],
            "collected_at": "2026-11-20T00:00:00+00:00", "method": "file", "package_format": "rpm"}
    (ws / "old.json").write_text(json.dumps(data), encoding="utf-8")
    found = scan(cli, ws)
    eol = found[("patch.eol_os", "old:os")]
    assert eol["status"] == "open" and eol["detail"]["eol"] == "2024-06-30"


def test_unknown_package_format_is_a_collection_failure(cli: Callable[..., Result], tmp_path: Path) -> None:
    ws = workspace(tmp_path, """\
        - {id: odd, address: 127.0.0.1, patch: {method: file, path: odd.json}}
        """)
    (ws / "odd.json").write_text(textwrap.dedent("""\
        {"os_id": "x", "version_id": "1", "codename": "", "packages": [], "collected_at": "2026-01-01",
         "package_format": "apk"}"""), encoding="utf-8")
    found = scan(cli, ws)
    failed = found[("patch.collection_failed", "odd:packages")]
    assert failed["status"] == "open" and "apk" in str(failed["detail"])


def test_the_remote_command_takes_the_rpm_branch_where_dpkg_is_absent(tmp_path: Path,
                                                                     alma: tuple[Path, Path]) -> None:
    """The very shell command the SSH collector sends, run where only rpm exists (its database the test's)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "rpm").write_text(f'#!/bin/sh\nexec {shutil.which("rpm")} --dbpath {alma[0]} "$@"\n', encoding="utf-8")
    (bin_dir / "rpm").chmod(0o755)
    (bin_dir / "cat").symlink_to(shutil.which("cat") or "/bin/cat")
    command = REMOTE_COMMAND.replace("/etc/os-release", str(alma[1]))
    run = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, env={"PATH": str(bin_dir)},
                         check=True)
    inv = parse_remote_output(run.stdout, "ssh", "alma")
    assert (inv.os_id, inv.package_format, inv.pending_security) == ("almalinux", "rpm", None)
    assert {p.name for p in inv.packages} == {"openssl", "openssl-libs", "curl", "curl-libs", "glibc", "glibc-libs"}
