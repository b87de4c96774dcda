"""Reading advisory files as a stream of checked entries: OSV JSON (one record, a list, or an all.zip) for Debian,
Ubuntu, AlmaLinux, Rocky Linux and Red Hat Enterprise Linux, and the Debian security tracker's JSON.

Full-size data (the whole OSV Debian feed, the tracker's 100 MB file) is read one record at a time, so memory does
not grow with the file. Every record is checked against the schema of its format, and every fixed version is
parsed with the parser the patch scan compares it with, before anything is stored: a record that does not fit
is a located problem (file, record, field), and the import stores nothing. Archives are bounded in what they
expand to, as a whole and per member.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from io import BufferedReader
from pathlib import Path
from typing import IO, Any

import ijson
from pydantic import BaseModel, ConfigDict, Field, StrictStr, TypeAdapter, ValidationError

from auditor import safeio
from auditor.i18n import _
from auditor.problems import InputError, Problem, display_path
from auditor.versions import version_problem

MAX_FILE_BYTES = 2 * 1024 ** 3  # the file itself (OSV's all.zip of every ecosystem is under 1 GB)
MAX_MEMBER_BYTES = 16 * 1024 ** 2  # one record of an archive, expanded
MAX_EXPANDED_BYTES = 8 * 1024 ** 3  # a whole archive, expanded
MAX_PROBLEMS = 20  # problems reported before reading stops
DEBIAN_CODENAMES = {"9": "stretch", "10": "buster", "11": "bullseye", "12": "bookworm", "13": "trixie"}
RPM_ECOSYSTEMS = {"AlmaLinux": "almalinux", "Rocky Linux": "rocky"}  # OSV ecosystem → os-release ID
RPM_OS = {"almalinux", "rocky", "rhel"}
SKIPPED_URGENCY = {"unimportant", "end-of-life"}
# the top-level fields of the OSV schema: a file that is one object whose first key is one of them is one record
_OSV_KEYS = {"schema_version", "id", "modified", "published", "withdrawn", "aliases", "upstream", "related",
             "summary", "details", "severity", "affected", "references", "credits", "database_specific"}


@dataclass(frozen=True)
class Entry:
    advisory_id: str
    os_id: str
    release: str
    source_package: str
    fixed_version: str | None
    urgency: str | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Package(_Strict):
    ecosystem: StrictStr = ""
    name: StrictStr = Field(default="", max_length=255)


class _Range(_Strict):
    type: StrictStr
    events: list[dict[StrictStr, StrictStr]] = []


class _Affected(_Strict):
    package: _Package | None = None
    ranges: list[_Range] = []
    ecosystem_specific: dict[str, Any] | None = None


class OsvRecord(_Strict):
    id: StrictStr = Field(min_length=1, max_length=128)
    modified: StrictStr | None = None
    published: StrictStr | None = None
    affected: list[_Affected] = []


class _TrackerRelease(_Strict):
    status: StrictStr | None = None
    fixed_version: StrictStr | None = Field(default=None, max_length=255)
    urgency: StrictStr | None = None


class _TrackerIssue(_Strict):
    releases: dict[StrictStr, _TrackerRelease] = {}


_TRACKER_SOURCE = TypeAdapter(dict[StrictStr, _TrackerIssue])


@dataclass
class Reading:
    """What a file holds, as it is read: its format, its entries (a generator: read once), and, once they are
    read, the newest record date and the problems found."""

    origin: str
    entries: Iterator[Entry]
    newest: dt.date | None = None
    problems: list[Problem] = field(default_factory=list)

    def check(self) -> None:
        """Raise the problems found, after the entries were read."""
        if self.problems:
            raise InputError(self.problems[:MAX_PROBLEMS])


def _release_of(ecosystem: str) -> tuple[str, str] | None:
    parts = ecosystem.split(":")
    if parts[0] == "Debian" and len(parts) >= 2:
        return "debian", DEBIAN_CODENAMES.get(parts[1], parts[1])
    if parts[0] == "Ubuntu" and len(parts) >= 2:
        if parts[1] == "Pro" and len(parts) >= 3:
            return "ubuntu", parts[2]
        return "ubuntu", parts[-2] if parts[-1] in ("LTS", "ESM") else parts[1]
    if parts[0] in RPM_ECOSYSTEMS and len(parts) >= 2:
        return RPM_ECOSYSTEMS[parts[0]], parts[1].split(".")[0]
    if parts[0] == "Red Hat" and len(parts) >= 3 and parts[1] == "enterprise_linux":
        return "rhel", parts[2].split(".")[0]
    return None


def _osv_entries(record: OsvRecord) -> Iterator[tuple[str, Entry]]:
    """(field, entry) for each release a record affects; field locates the fixed version in the record."""
    for i, affected in enumerate(record.affected):
        pkg = affected.package
        release = _release_of(pkg.ecosystem) if pkg is not None else None
        if pkg is None or release is None or not pkg.name:
            continue
        urgency = (affected.ecosystem_specific or {}).get("urgency")
        if urgency in SKIPPED_URGENCY:
            continue
        fixed, where = None, f"affected[{i}]"
        for j, rng in enumerate(affected.ranges):
            if rng.type != "ECOSYSTEM":
                continue
            for k, event in enumerate(rng.events):
                if "fixed" in event:
                    fixed, where = event["fixed"], f"affected[{i}].ranges[{j}].events[{k}].fixed"
        yield where, Entry(record.id, release[0], release[1], pkg.name, fixed,
                           urgency if isinstance(urgency, str) else None)


def _osv_date(record: OsvRecord) -> dt.date | None:
    stamp = record.modified or record.published
    try:
        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).date() if stamp else None
    except ValueError:
        return None


def _located(errors: ValidationError, file: str, prefix: str) -> list[Problem]:
    out = []
    for e in errors.errors()[:5]:
        where = ".".join(str(p) for p in e["loc"])
        out.append(Problem(file, 1, 1, f"{prefix}.{where}" if where else prefix, e["msg"]))
    return out


class _Reader:
    """Turns raw records into entries, collecting located problems."""

    def __init__(self, reading: Reading) -> None:
        self.reading = reading

    def full(self) -> bool:
        return len(self.reading.problems) >= MAX_PROBLEMS

    def problem(self, file: str, where: str, message: str) -> None:
        self.reading.problems.append(Problem(file, 1, 1, where, message))

    def osv(self, raw: Any, file: str, where: str) -> Iterator[Entry]:
        if not isinstance(raw, dict):
            self.problem(file, where, _("an OSV record must be a JSON object, not {kind}").format(
                kind=type(raw).__name__))
            return
        try:
            record = OsvRecord.model_validate(raw)
        except ValidationError as exc:
            self.reading.problems += _located(exc, file, where)
            return
        date = _osv_date(record)
        if date is not None and (self.reading.newest is None or date > self.reading.newest):
            self.reading.newest = date
        for field_, entry in _osv_entries(record):
            yield from self._checked(entry, file, f"{where}.{field_}" if where else field_)

    def tracker(self, source: str, raw: Any, file: str) -> Iterator[Entry]:
        try:
            issues = _TRACKER_SOURCE.validate_python(raw)
        except ValidationError as exc:
            self.reading.problems += _located(exc, file, source)
            return
        for issue_id, issue in issues.items():
            for codename, rel in issue.releases.items():
                if rel.urgency in SKIPPED_URGENCY:
                    continue
                fixed = rel.fixed_version if rel.status == "resolved" else None
                if fixed == "0":  # never affected
                    continue
                yield from self._checked(Entry(issue_id[:128], "debian", codename[:32], source[:255], fixed,
                                               rel.urgency), file,
                                         f"{source}.{issue_id}.releases.{codename}.fixed_version")

    def _checked(self, entry: Entry, file: str, where: str) -> Iterator[Entry]:
        if entry.fixed_version is not None:
            why = version_problem("rpm" if entry.os_id in RPM_OS else "deb", entry.fixed_version)
            if why is not None:
                self.problem(file, where, f"{why}: {entry.fixed_version[:80]!r}")
                return
        yield entry


class EntryTooLarge(ValueError):
    """One entry of a JSON file (a tracker's package, a record of a list) is larger than MAX_MEMBER_BYTES."""


class _PerEntry:
    """The file as ijson reads it, counting the bytes read since the last entry was taken: one entry of a
    2 GB file (a tracker whose single package holds everything) would otherwise be built whole in memory."""

    def __init__(self, fh: IO[bytes], limit: int) -> None:
        self._fh = fh
        self._limit = limit
        self.since = 0

    def read(self, size: int = -1) -> bytes:
        data = self._fh.read(size if size >= 0 else self._limit + 1)
        self.since += len(data)
        if self.since > self._limit + (1 << 16):  # ijson reads ahead one buffer of 64 KiB
            raise EntryTooLarge(f"one entry of more than {self._limit} bytes")
        return data

    def entries(self, items: Iterator[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
        for item in items:
            self.since = 0
            yield item


def _json_items(fh: IO[bytes]) -> tuple[str, Iterator[tuple[str, Any]]]:
    """("list", (index, item)...), ("record", one OSV record) or ("map", (key, value)...), from a stream."""
    events = ijson.parse(fh)
    try:
        _prefix, event, _value = next(events)
    except StopIteration:
        raise ValueError("empty file") from None
    fh.seek(0)
    counted = _PerEntry(fh, MAX_MEMBER_BYTES)
    if event == "start_array":
        return "list", counted.entries((f"[{i}]", item)
                                       for i, item in enumerate(ijson.items(counted, "item", use_float=True)))
    if event != "start_map":
        raise ValueError(f"a JSON {event}, not an object or a list")
    pairs = counted.entries(ijson.kvitems(counted, "", use_float=True))
    first = next(pairs, None)
    if first is None:
        return "map", iter(())
    if first[0] in _OSV_KEYS:  # one OSV record, taken whole: no larger than a record of an archive may be
        if os.fstat(fh.fileno()).st_size > MAX_MEMBER_BYTES:
            raise ValueError(f"one OSV record of more than {MAX_MEMBER_BYTES} bytes")
        record = dict([first, *pairs])
        return "record", iter([("", record)])
    return "map", _chain([first], pairs)


def _chain(head: Iterable[tuple[str, Any]], rest: Iterator[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
    yield from head
    yield from rest


def _zip_members(zf: zipfile.ZipFile, shown: str) -> Iterator[tuple[str, bytes]]:
    members = [i for i in zf.infolist() if i.filename.endswith(".json") and not i.is_dir()]
    declared = sum(i.file_size for i in members)
    if declared > MAX_EXPANDED_BYTES:
        raise InputError([Problem(shown, 1, 1, "", _("the archive expands to {size} bytes; the limit is {limit}")
                                  .format(size=declared, limit=MAX_EXPANDED_BYTES))])
    for info in members:
        name = f"{shown}:{info.filename}"
        if info.file_size > MAX_MEMBER_BYTES:
            raise InputError([Problem(name, 1, 1, "", _("the member expands to {size} bytes; the limit is {limit}")
                                      .format(size=info.file_size, limit=MAX_MEMBER_BYTES))])
        try:
            with zf.open(info) as member:
                data = member.read(MAX_MEMBER_BYTES + 1)  # the header's size is not trusted
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
            raise InputError([Problem(name, 1, 1, "", _("the member cannot be read: {error}").format(
                error=str(exc)[:200]))]) from None
        if len(data) > MAX_MEMBER_BYTES:
            raise InputError([Problem(name, 1, 1, "", _("the member expands to more than {limit} bytes")
                                      .format(limit=MAX_MEMBER_BYTES))])
        yield name, data


def read(path: Path, fh: IO[bytes]) -> Reading:
    """The file's format and its entries, read from ``fh`` as they are asked for."""
    shown = display_path(path)
    if zipfile.is_zipfile(fh):
        fh.seek(0)
        reading = Reading("osv", iter(()))
        reader = _Reader(reading)

        def from_zip() -> Iterator[Entry]:
            try:
                zf = zipfile.ZipFile(fh)
            except (zipfile.BadZipFile, OSError) as exc:
                raise InputError([Problem(shown, 1, 1, "", _("not a readable zip archive: {error}").format(
                    error=str(exc)[:200]))]) from None
            with zf:
                for name, data in _zip_members(zf, shown):
                    if reader.full():
                        return
                    try:
                        raw = json.loads(data)
                    except (ValueError, UnicodeDecodeError) as exc:
                        reader.problem(name, "", _("not JSON: {error}").format(error=exc))
                        continue
                    yield from reader.osv(raw, name, "")

        reading.entries = from_zip()
        return reading
    fh.seek(0)
    try:
        kind, items = _json_items(fh)
    except (ValueError, ijson.JSONError) as exc:
        raise InputError([Problem(shown, 1, 1, "", _("not an OSV or Debian tracker JSON file: {error}")
                                  .format(error=exc))]) from None
    reading = Reading("debian-tracker" if kind == "map" else "osv", iter(()))
    reader = _Reader(reading)
    convert: Callable[[str, Any], Iterator[Entry]]
    if kind == "map":
        def convert(key: str, value: Any) -> Iterator[Entry]:
            return reader.tracker(key, value, shown)
    else:
        def convert(key: str, value: Any) -> Iterator[Entry]:
            return reader.osv(value, shown, f"records{key}" if key else "")

    def from_json() -> Iterator[Entry]:
        try:
            for key, value in items:
                if reader.full():
                    return
                yield from convert(key, value)
        except ijson.JSONError as exc:
            reader.problem(shown, "", _("not valid JSON: {error}").format(error=str(exc)[:200]))
        except EntryTooLarge:
            reader.problem(shown, "", _("one entry is more than {limit} bytes; the rest is not read").format(
                limit=MAX_MEMBER_BYTES))

    reading.entries = from_json()
    return reading


def open_bounded(path: Path) -> BufferedReader:
    """The advisory file, a regular file of at most MAX_FILE_BYTES (no FIFO, device or folder)."""
    return safeio.open_regular(path, max_bytes=MAX_FILE_BYTES)
