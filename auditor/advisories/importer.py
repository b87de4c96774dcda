"""Import advisory files into the store: OSV JSON (one record, a list, or an all.zip) for Debian, Ubuntu,
AlmaLinux, Rocky Linux and Red Hat Enterprise Linux, and the Debian security tracker's JSON. Nothing is fetched
from the network.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert
from sqlmodel import Session, col

from auditor import clock
from auditor.i18n import _
from auditor.ledger.chain import append
from auditor.ledger.state import advisory_table_digest
from auditor.problems import InputError, Problem, display_path
from auditor.store.tables import AdvisoryImportRow, AdvisoryRow

MAX_BYTES = 1024 * 1024 * 1024
DEBIAN_CODENAMES = {"9": "stretch", "10": "buster", "11": "bullseye", "12": "bookworm", "13": "trixie"}
RPM_ECOSYSTEMS = {"AlmaLinux": "almalinux", "Rocky Linux": "rocky"}  # OSV ecosystem → os-release ID
SKIPPED_URGENCY = {"unimportant", "end-of-life"}


@dataclass(frozen=True)
class Entry:
    advisory_id: str
    os_id: str
    release: str
    source_package: str
    fixed_version: str | None
    urgency: str | None


def _osv_entries(record: dict[str, Any]) -> Iterator[Entry]:
    for affected in record.get("affected", []):
        pkg = affected.get("package", {})
        eco = str(pkg.get("ecosystem", ""))
        parts = eco.split(":")
        if parts[0] == "Debian" and len(parts) >= 2:
            os_id, release = "debian", DEBIAN_CODENAMES.get(parts[1], parts[1])
        elif parts[0] == "Ubuntu" and len(parts) >= 2:
            os_id, release = "ubuntu", parts[-2] if parts[-1] in ("LTS", "ESM") else parts[1]
            if parts[1] == "Pro":
                release = parts[2]
        elif parts[0] in RPM_ECOSYSTEMS and len(parts) >= 2:
            os_id, release = RPM_ECOSYSTEMS[parts[0]], parts[1].split(".")[0]
        elif parts[0] == "Red Hat" and len(parts) >= 3 and parts[1] == "enterprise_linux":
            os_id, release = "rhel", parts[2].split(".")[0]
        else:
            continue
        fixed = None
        for rng in affected.get("ranges", []):
            if rng.get("type") != "ECOSYSTEM":
                continue
            for event in rng.get("events", []):
                if "fixed" in event:
                    fixed = event["fixed"]
        urgency = (affected.get("ecosystem_specific") or {}).get("urgency")
        if urgency in SKIPPED_URGENCY:
            continue
        yield Entry(str(record.get("id")), os_id, release, str(pkg.get("name")), fixed, urgency)


def _osv_date(record: dict[str, Any]) -> dt.date | None:
    stamp = record.get("modified") or record.get("published")
    try:
        return dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).date() if stamp else None
    except ValueError:
        return None


def _tracker_entries(data: dict[str, Any]) -> Iterator[Entry]:
    for source, issues in data.items():
        if not isinstance(issues, dict):
            continue
        for issue_id, issue in issues.items():
            for codename, rel in (issue.get("releases") or {}).items():
                if rel.get("urgency") in SKIPPED_URGENCY:
                    continue
                fixed = rel.get("fixed_version") if rel.get("status") == "resolved" else None
                if fixed == "0":  # never affected
                    continue
                yield Entry(issue_id, "debian", codename, source, fixed, rel.get("urgency"))


def read_file(path: Path) -> tuple[str, list[Entry], dt.date]:
    shown = display_path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError([Problem(shown, 1, 1, "", _("cannot read the file: {error}").format(error=exc.strerror))]) from None
    if size > MAX_BYTES:
        raise InputError([Problem(shown, 1, 1, "", _("the file is {size} bytes; the limit is {limit}")
                                  .format(size=size, limit=MAX_BYTES))])
    file_date = clock.file_date(path)
    try:
        if zipfile.is_zipfile(path):
            entries, dates = [], []
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    if name.endswith(".json"):
                        record = json.loads(zf.read(name))
                        entries += list(_osv_entries(record))
                        dates.append(_osv_date(record))
            return "osv", entries, max((d for d in dates if d), default=file_date)
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
        raise InputError([Problem(shown, 1, 1, "", _("not an OSV or Debian tracker JSON file: {error}")
                                  .format(error=exc))]) from None
    if isinstance(data, dict) and "affected" in data:
        data = [data]
    if isinstance(data, list):
        records = [r for r in data if isinstance(r, dict)]
        entries = [e for r in records for e in _osv_entries(r)]
        return "osv", entries, max((d for r in records if (d := _osv_date(r))), default=file_date)
    if isinstance(data, dict):
        return "debian-tracker", list(_tracker_entries(data)), file_date
    raise InputError([Problem(shown, 1, 1, "", _("not an OSV or Debian tracker JSON file: {error}")
                              .format(error=type(data).__name__))])


def import_file(session: Session, path: Path, data_date: dt.date | None = None) -> AdvisoryImportRow:
    """Replace what an earlier import of the same origin said about the same advisories; one transaction."""
    origin, entries, found_date = read_file(path)
    stamp = data_date or found_date
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    row = AdvisoryImportRow(file=display_path(path), sha256=digest, origin=origin, entries=len(entries),
                            data_date=stamp)
    session.add(row)
    session.flush()
    ids = sorted({e.advisory_id for e in entries})
    for i in range(0, len(ids), 500):
        session.execute(delete(AdvisoryRow).where(col(AdvisoryRow.origin) == origin,
                                                  col(AdvisoryRow.advisory_id).in_(ids[i:i + 500])))
    unique = {(e.advisory_id, e.os_id, e.release, e.source_package): e for e in entries}
    if unique:
        session.execute(insert(AdvisoryRow), [
            {"origin": origin, "advisory_id": e.advisory_id, "os_id": e.os_id, "release": e.release,
             "source_package": e.source_package, "fixed_version": e.fixed_version, "urgency": e.urgency,
             "data_date": stamp, "import_id": row.id} for e in unique.values()])
    session.flush()
    append(session, "advisories.imported", f"advisories/{row.id}", {
        "import": row.id, "file": row.file, "sha256": digest, "origin": origin, "entries": len(unique),
        "data_date": stamp.isoformat(), "table_sha256": advisory_table_digest(session)})
    return row
