"""Check the whole ledger: the hash chain, every signature, and the store against the state the chain records.

Reports exactly which entry was altered, removed, reordered or forged, which dossier changed after its appraisal
or approval was signed, and every row of the store (finding, run, acceptance, dossier, key, report, advisory
data, record file) that differs from what the ledger says, by table, row and field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from auditor.i18n import _
from auditor.ledger.anchor import Anchor
from auditor.ledger.chain import GENESIS, canonical, entry_hash, sha256_hex
from auditor.ledger.state import differences, replay
from auditor.signing import decision_digest, verify_signature
from auditor.store.tables import DossierRow, LedgerRow


@dataclass(frozen=True)
class Break:
    # altered, missing, reordered, forged, snapshot_changed, not_recorded (a signed entry with no dossier);
    # row_altered, row_missing, row_unrecorded (the store against the ledger); anchor_missing, anchor_mismatch
    kind: str
    where: str
    message: str
    field: str = ""

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "where": self.where, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class VerifyReport:
    entries: int
    signatures: int
    dossiers: int
    breaks: tuple[Break, ...]

    @property
    def ok(self) -> bool:
        return not self.breaks


def _chain(rows: list[LedgerRow]) -> list[Break]:
    out: list[Break] = []
    seqs = [r.seq for r in rows]
    present = set(seqs)
    for seq in sorted(set(range(1, max(seqs, default=0) + 1)) - present):
        out.append(Break("missing", f"#{seq}", _("entry {seq} was removed: the sequence has no entry {seq}")
                         .format(seq=seq)))
    highest = 0
    for row in rows:  # in the order they are stored
        if row.seq < highest:
            out.append(Break("reordered", f"#{row.seq}", _("entry {seq} stands at position {pos}, after entry {prev}: "
                                                            "entries were reordered").format(seq=row.seq, pos=row.id,
                                                                                             prev=highest)))
        highest = max(highest, row.seq)
    by_seq = {r.seq: r for r in rows}
    for row in sorted(rows, key=lambda r: r.seq):
        where = f"#{row.seq}"
        if entry_hash(row.seq, row.at, row.kind, row.subject, row.payload, row.prev_hash) != row.hash:
            out.append(Break("altered", where, _("entry {seq} ({kind}) was altered: its content no longer matches "
                                                 "its hash").format(seq=row.seq, kind=row.kind)))
        before = by_seq.get(row.seq - 1)
        expected_prev = GENESIS if row.seq == 1 else (before.hash if before else None)
        if expected_prev is not None and row.prev_hash != expected_prev:
            out.append(Break("altered", f"#{row.seq - 1}", _("entry {prev} was rewritten: entry {seq} points to a "
                                                               "different entry {prev}").format(prev=row.seq - 1,
                                                                                                seq=row.seq)))
    return out


def verify_ledger(session: Session, workspace: Path) -> VerifyReport:
    rows = list(session.exec(select(LedgerRow).order_by(col(LedgerRow.id))))
    breaks = _chain(rows)
    keys: dict[str, str] = {}
    for row in rows:
        if row.kind == "key.registered":
            keys[row.payload.get("name", "")] = row.payload.get("public_key", "")
    dossiers = {d.id: d for d in session.exec(select(DossierRow))}
    signatures = 0
    for row in rows:
        dossier_id = row.payload.get("dossier") if isinstance(row.payload, dict) else None
        if row.kind not in ("dossier.appraised", "dossier.approved"):
            continue
        signatures += 1
        breaks += _signed(row, dossiers.get(dossier_id) if isinstance(dossier_id, int) else None, keys)
    for diff in differences(session, replay(rows), workspace):
        kind = "row_altered" if diff.field else ("row_missing" if diff.store is None else "row_unrecorded")
        breaks.append(Break(kind, f"{diff.table}/{diff.row}", diff.message(), diff.field))
    return VerifyReport(len(rows), signatures, len(dossiers), tuple(breaks))


def check_anchors(session: Session, anchors: list[tuple[str, Anchor]]) -> list[Break]:
    """Each head a published file names must still be in the chain, with the same hash (the chain's own checks
    then tie every later entry to it)."""
    by_seq = {r.seq: r.hash for r in session.exec(select(LedgerRow))}
    out = []
    for source, a in anchors:
        found = by_seq.get(a.seq)
        if found is None:
            out.append(Break("anchor_missing", f"#{a.seq}", _(
                "the ledger no longer holds entry {seq}, the head when {file} was written: its end was cut off or it "
                "was emptied after that").format(seq=a.seq, file=source)))
        elif found != a.hash:
            out.append(Break("anchor_mismatch", f"#{a.seq}", _(
                "entry {seq} is not the one {file} was written from (hash {found} ≠ {anchor}): the chain was "
                "rewritten after that").format(seq=a.seq, file=source, found=found[:16], anchor=a.hash[:16])))
    return out


def _signed(row: LedgerRow, dossier: DossierRow | None, keys: dict[str, str]) -> list[Break]:
    where = f"#{row.seq}"
    p: dict[str, Any] = row.payload
    sig = p.get("signature") or {}
    if dossier is None:
        return [Break("not_recorded", where, _("entry {seq} signs dossier {id}, which is not in the store")
                      .format(seq=row.seq, id=p.get("dossier")))]
    out = []
    actual = sha256_hex(canonical(dossier.snapshot))
    if actual != p.get("snapshot_sha256") or actual != dossier.snapshot_sha256:
        out.append(Break("snapshot_changed", f"dossier/{dossier.id}", _(
            "dossier {id} changed after it was signed in entry {seq}: snapshot SHA-256 {actual} ≠ {signed}").format(
            id=dossier.id, seq=row.seq, actual=actual[:16], signed=str(p.get("snapshot_sha256"))[:16])))
    public = keys.get(sig.get("key", ""))
    if not public:
        out.append(Break("forged", where, _("entry {seq} is signed with {key}, a key the ledger never registered")
                         .format(seq=row.seq, key=sig.get("key"))))
        return out
    digest = decision_digest(dossier.snapshot, p.get("decision") or {})
    if not verify_signature(public, str(sig.get("signature", "")), digest):
        out.append(Break("forged", where, _("the signature in entry {seq} ({kind}) does not verify with the key of "
                                            "{key}").format(seq=row.seq, kind=row.kind, key=sig.get("key"))))
    return out
