"""Advisory files a careless or hostile user hands the auditor: each is refused with its file, record and field,
exit code 2, and nothing stored (what an earlier import stored stays, and the patch scan still runs on it); large
files are read as a stream; an archive is bounded in what it expands to."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from auditor.advisories import reading
from tests.conftest import Result
from tests.test_patch import OSV, STATUS, imports, scan, workspace

HOSTS = "- {id: db, address: 127.0.0.1, os: Debian 12, patch: {method: file, path: db.status}}\n"


@pytest.fixture
def ws(tmp_path: Path, cli: Callable[..., Result]) -> Path:
    """A workspace with the known-answer advisories imported and one host to scan."""
    w = workspace(tmp_path, HOSTS)
    (w / "db.status").write_text(STATUS)
    imports(cli, w, tmp_path, "2026-11-20")
    return w


def advisory_rows(ws: Path) -> list[tuple[object, ...]]:
    import sqlite3

    with sqlite3.connect(ws / ".auditor" / "auditor.sqlite") as db:
        return db.execute("SELECT origin, advisory_id, release, source_package, fixed_version FROM advisory "
                          "ORDER BY 1, 2, 3, 4").fetchall()


def refused(cli: Callable[..., Result], ws: Path, path: Path, *expected: str) -> str:
    before = advisory_rows(ws)
    r = cli("advisories", "import", path, "--workspace", ws, "--lang", "en")
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    for text in expected:
        assert text in r.stderr, r.stderr
    assert advisory_rows(ws) == before  # nothing stored, nothing lost
    found = scan(cli, ws)  # and the patch scan still runs on what was there
    assert ("patch.vulnerable_package", "db:openssl") in found
    return r.stderr


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("affected-string.json", [{"id": "X-1", "affected": "abc"}], ["records[0].affected", "valid list"]),
    ("fixed-object.json", [{"id": "X-2", "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
                                                       "ranges": [{"type": "ECOSYSTEM",
                                                                   "events": [{"fixed": {"v": 1}}]}]}]}],
     ["records[0].affected.0.ranges.0.events.0.fixed", "string"]),
    ("not-objects.json", [1, 2, "x"], ["records[0]", "must be a JSON object"]),
    ("left-pad.json", {"name": "left-pad"}, ["left-pad.json:1:1: name", "dictionary"]),
    ("releases-string.json", {"openssl": {"CVE-2026-1": {"releases": "bookworm"}}},
     ["openssl.CVE-2026-1.releases", "dictionary"]),
    ("bad-version.json", [{"id": "X-3", "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
                                                      "ranges": [{"type": "ECOSYSTEM",
                                                                  "events": [{"fixed": "not a version!"}]}]}]}],
     ["records[0].affected[0].ranges[0].events[0].fixed", "not a Debian version", "'not a version!'"]),
    ("tracker-bad-version.json", {"curl": {"CVE-2026-9": {"releases": {"bookworm": {
        "status": "resolved", "fixed_version": "1:", "urgency": "high"}}}}},
     ["curl.CVE-2026-9.releases.bookworm.fixed_version", "not a Debian version"]),
    ("truncated.json", "[{\"id\": \"X-4\", \"affected\": [", ["not valid JSON"]),
])
def test_a_wrong_record_is_located_and_nothing_is_stored(cli: Callable[..., Result], ws: Path, tmp_path: Path,
                                                          name: str, content: object, expected: list[str]) -> None:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    refused(cli, ws, path, name, *expected)


def test_a_bad_record_late_in_a_good_file_rolls_back_the_whole_import(cli: Callable[..., Result], ws: Path,
                                                                       tmp_path: Path) -> None:
    """Entries are stored in batches as they are read: a problem found after some were stored undoes them all."""
    good = [{"id": f"BULK-{i}", "affected": [{"package": {"ecosystem": "Debian:12", "name": f"pkg{i}"},
                                              "ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": "1.0-1"}]}]}]}
            for i in range(12_000)]
    bad = {"id": "BULK-LAST", "affected": [{"package": {"ecosystem": "Debian:12", "name": "x"},
                                             "ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": "1:"}]}]}]}
    path = tmp_path / "late.json"
    path.write_text(json.dumps([*good, bad]))
    refused(cli, ws, path, "records[12000]", "not a Debian version")
    path.write_text(json.dumps(good))  # the same without the bad record goes in whole
    r = cli("advisories", "import", path, "--json", "--workspace", ws)
    assert r.exit_code == 0 and json.loads(r.stdout)["entries"] == 12_000


def test_a_zip_member_that_expands_beyond_its_limit_is_refused(cli: Callable[..., Result], ws: Path,
                                                               tmp_path: Path) -> None:
    bomb = tmp_path / "all.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("A-1.json", json.dumps(OSV[0]))
        with zf.open("BOMB.json", "w", force_zip64=True) as member:  # 17 MiB of spaces: a few KB compressed
            for _ in range(17):
                member.write(b" " * (1 << 20))
    assert bomb.stat().st_size < 200_000
    refused(cli, ws, bomb, "all.zip:BOMB.json", "expands to")


def test_a_damaged_zip_member_is_refused(cli: Callable[..., Result], ws: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.zip"
    text = json.dumps(OSV[1])
    with zipfile.ZipFile(damaged, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("B-1.json", text)
    data = damaged.read_bytes()
    at = data.index(b'"curl"')
    damaged.write_bytes(data[:at + 1] + b"x" + data[at + 2:])  # one byte changed: the CRC no longer matches
    refused(cli, ws, damaged, "damaged.zip:B-1.json", "cannot be read")


def test_not_a_regular_file_is_refused_without_hanging(cli: Callable[..., Result], ws: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "advisories.fifo"
    os.mkfifo(fifo)
    refused(cli, ws, fifo, "not a regular file")
    refused(cli, ws, tmp_path, "not a regular file")  # a folder
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    refused(cli, ws, link, "not a regular file")


def test_a_large_file_is_read_as_a_stream(tmp_path: Path) -> None:
    """A tracker file of 60,000 issues: its entries come out one by one, never the whole document at once."""
    import tracemalloc

    path = tmp_path / "tracker.json"
    with path.open("w") as fh:
        fh.write("{")
        for i in range(60_000):
            fh.write(("," if i else "") + json.dumps(f"pkg{i}") + ":" + json.dumps(
                {f"CVE-2026-{i}": {"releases": {"bookworm": {"status": "resolved", "fixed_version": f"1.{i}-1",
                                                             "urgency": "low"}}}}))
        fh.write("}")
    size = path.stat().st_size
    tracemalloc.start()
    with reading.open_bounded(path) as fh:
        r = reading.read(path, fh)
        count = sum(1 for _ in r.entries)
        r.check()
    _now, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert r.origin == "debian-tracker" and count == 60_000
    assert peak < size / 2, (peak, size)  # json.loads of the whole file would hold several times its size


def agent_file(**changes: object) -> str:
    data: dict[str, object] = {"os_id": "debian", "version_id": "12", "codename": "bookworm",
                               "collected_at": "2026-11-25T00:00:00+00:00", "hostname": "x", "package_format": "deb",
                               "packages": [{"name": "openssl", "version": "3.0.11-1~deb12u2", "source": "openssl",
                                             "source_version": "3.0.11-1~deb12u2"}]}
    data.update(changes)
    return json.dumps(data)


def test_a_bad_host_file_fails_that_host_only(cli: Callable[..., Result], tmp_path: Path) -> None:
    """Each broken package list is its host's collection_failed finding; the good host beside them is judged, and
    the scan does not hang on a FIFO (it holds the scan lock while it runs)."""
    bad = {
        "binary": None,
        "version": agent_file(packages=[{"name": "openssl", "version": "not a version!", "source": "openssl",
                                         "source_version": "not a version!"}]),
        "oslist": agent_file(os_id=["debian"]),
        "format": agent_file(package_format="apk"),
        "nopkgs": agent_file(packages="openssl"),
        "fifo": None,
        "outside": None,
        "status": "Package: openssl\nStatus: install ok installed\nVersion: 1:\n",
    }
    hosts = "".join(f"- {{id: {name}, address: 127.0.0.1, os: Debian 12, patch: {{method: file, path: {name}.f}}}}\n"
                    for name in [*bad, "good"])
    ws = workspace(tmp_path, hosts)
    for name, text in bad.items():
        if text is not None:
            (ws / f"{name}.f").write_text(text)
    (ws / "binary.f").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4)
    os.mkfifo(ws / "fifo.f")
    (tmp_path / "elsewhere.json").write_text(agent_file())
    (ws / "outside.f").symlink_to(tmp_path / "elsewhere.json")
    (ws / "good.f").write_text(agent_file())
    imports(cli, ws, tmp_path, "2026-11-20")
    r = cli("scan", "--check", "patch", "--json", "--workspace", ws, "--lang", "en")
    assert r.exit_code == 1 and "Traceback" not in r.stderr
    found = {(f["check"], f["target"]): f for f in json.loads(r.stdout)["findings"]}
    errors = {name: str(found[("patch.collection_failed", f"{name}:packages")]["detail"]["error"]) for name in bad}
    assert "not UTF-8" in errors["binary"]
    assert "packages[0].version (openssl): not a Debian version" in errors["version"]
    assert "os_id" in errors["oslist"] and "package_format" in errors["format"] and "packages" in errors["nopkgs"]
    assert "not a regular file" in errors["fifo"]
    assert "outside" in errors["outside"]
    assert "not a Debian version" in errors["status"]
    assert ("patch.collection_failed", "good:packages") not in found
    assert ("patch.vulnerable_package", "good:openssl") in found  # the good host was judged


def test_one_record_too_large_to_take_whole_is_refused(cli: Callable[..., Result], ws: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that is one OSV record is read whole, so it is bounded like a member of an archive."""
    monkeypatch.setattr(reading, "MAX_MEMBER_BYTES", 64 * 1024)
    big = tmp_path / "one.json"
    big.write_text(json.dumps({**OSV[0], "details": "x" * 100_000}))
    refused(cli, ws, big, "one.json", "one OSV record of more than 65536 bytes")
    small = tmp_path / "small.json"
    small.write_text(json.dumps(OSV[0]))
    assert cli("advisories", "import", small, "--workspace", ws).exit_code == 0


def test_one_record_whose_first_field_is_not_its_id_is_still_a_record(cli: Callable[..., Result], ws: Path,
                                                                        tmp_path: Path) -> None:
    record = {"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N"}], "references": [], **OSV[0]}
    one = tmp_path / "one.json"
    one.write_text(json.dumps(record))
    r = cli("advisories", "import", one, "--json", "--workspace", ws)
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["origin"] == "osv" and json.loads(r.stdout)["entries"] == 1


@pytest.mark.parametrize("shape", ["tracker", "list"])
def test_one_entry_too_large_in_a_streamed_file_is_refused(cli: Callable[..., Result], ws: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch, shape: str) -> None:
    """A tracker file is read package by package and a list record by record; one package (or record) that holds
    everything would be built whole in memory, so each is bounded like a member of an archive."""
    monkeypatch.setattr(reading, "MAX_MEMBER_BYTES", 64 * 1024)
    big = tmp_path / f"{shape}.json"
    huge = "x" * 300_000
    if shape == "tracker":
        big.write_text(json.dumps({"zlib": {"CVE-2026-0001": {"releases": {}}},
                                   "openssl": {f"CVE-2026-{i:04d}": {"description": huge, "releases": {}}
                                               for i in range(2, 4)}}))
    else:
        big.write_text(json.dumps([OSV[0], {**OSV[0], "details": huge}]))
    refused(cli, ws, big, f"{shape}.json", "one entry is more than 65536 bytes")
