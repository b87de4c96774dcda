"""Import advisory files into the store (the formats: auditor/advisories/reading.py). Nothing is fetched from the
network.

The file is read as a stream and stored in batches inside one transaction: an import of the whole OSV Debian
feed takes memory for one batch, not for the file, and a problem found anywhere in the file rolls back
everything (nothing stored, exit code 2).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from auditor import clock
from auditor.advisories.reading import Entry, open_bounded, read
from auditor.ledger.chain import append
from auditor.ledger.state import advisory_table_digest
from auditor.problems import display_path
from auditor.store.tables import AdvisoryImportRow, AdvisoryRow, table_of

BATCH = 5000  # entries stored per statement
_KEY = ("origin", "advisory_id", "os_id", "release", "source_package")


def _batches(entries: Iterator[Entry]) -> Iterator[list[Entry]]:
    batch: list[Entry] = []
    for e in entries:
        batch.append(e)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _upsert(session: Session, origin: str, import_id: int, batch: list[Entry]) -> None:
    """Replace what earlier imports of the same origin said about these advisories, then store the batch (an
    entry repeated later in the same file replaces the earlier one)."""
    ids = sorted({e.advisory_id for e in batch})
    for i in range(0, len(ids), 500):
        session.execute(delete(AdvisoryRow).where(col(AdvisoryRow.origin) == origin,
                                                  col(AdvisoryRow.advisory_id).in_(ids[i:i + 500]),
                                                  col(AdvisoryRow.import_id) != import_id))
    rows = {(e.advisory_id, e.os_id, e.release, e.source_package): {
        "origin": origin, "advisory_id": e.advisory_id, "os_id": e.os_id, "release": e.release,
        "source_package": e.source_package, "fixed_version": e.fixed_version, "urgency": e.urgency,
        "data_date": clock.today(), "import_id": import_id} for e in batch}
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table_of(AdvisoryRow))
    stmt = stmt.on_conflict_do_update(index_elements=list(_KEY), set_={
        "fixed_version": stmt.excluded.fixed_version, "urgency": stmt.excluded.urgency})
    session.execute(stmt, list(rows.values()))


def import_file(session: Session, path: Path, data_date: dt.date | None = None) -> AdvisoryImportRow:
    """Read, check and store an advisory file in one transaction; nothing is stored when any record is wrong."""
    with open_bounded(path) as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
        fh.seek(0)
        reading = read(path, fh)
        row = AdvisoryImportRow(file=display_path(path), sha256=digest, origin=reading.origin, entries=0,
                                data_date=data_date or clock.today())
        session.add(row)
        session.flush()
        assert row.id is not None
        for batch in _batches(reading.entries):
            if not reading.problems:  # once one is found, the rest is only read for more problems
                _upsert(session, reading.origin, row.id, batch)
        reading.check()
    stamp = data_date or reading.newest or clock.file_date(path)
    t = table_of(AdvisoryRow)
    session.execute(update(t).where(t.c.import_id == row.id).values(data_date=stamp))
    row.data_date = stamp
    row.entries = session.execute(select(func.count()).select_from(t).where(t.c.import_id == row.id)).scalar_one()
    session.add(row)
    session.flush()
    append(session, "advisories.imported", f"advisories/{row.id}", {
        "import": row.id, "file": row.file, "sha256": digest, "origin": row.origin, "entries": row.entries,
        "data_date": stamp.isoformat(), "table_sha256": advisory_table_digest(session)})
    return row
