"""Check the whole ledger: the hash chain, every signature, and every dossier against what was recorded.

Reports exactly which entry was altered, removed, reordered or forged, and which dossier changed after
its appraisal or approval was signed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from auditor.i18n import _
from auditor.ledger.chain import GENESIS, canonical, entry_hash, sha256_hex
from auditor.signing import decision_digest, verify_signature
from auditor.store.tables import DossierRow, LedgerRow, OfficerKeyRow
from auditor.vocabulary import DossierState


@dataclass(frozen=True)
class Break:
    kind: str  # altered, missing, reordered, broken_link, forged, key_mismatch, snapshot_changed, not_recorded
    where: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "where": self.where, "message": self.message}


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


def verify_ledger(session: Session) -> VerifyReport:
    rows = list(session.exec(select(LedgerRow).order_by(col(LedgerRow.id))))
    breaks = _chain(rows)
    keys: dict[str, str] = {}
    for row in rows:
        if row.kind == "key.registered":
            keys[row.payload.get("name", "")] = row.payload.get("public_key", "")
    for key in session.exec(select(OfficerKeyRow)):
        if keys.get(key.name) != key.public_key:
            message = _("the stored public key of {name} differs from the one registered in the ledger")
            breaks.append(Break("key_mismatch", f"key/{key.name}", message.format(name=key.name)))
    dossiers = {d.id: d for d in session.exec(select(DossierRow))}
    signatures = 0
    last_event: dict[int, LedgerRow] = {}
    for row in rows:
        dossier_id = row.payload.get("dossier") if isinstance(row.payload, dict) else None
        if isinstance(dossier_id, int):
            last_event[dossier_id] = row
        if row.kind not in ("dossier.appraised", "dossier.approved"):
            continue
        signatures += 1
        breaks += _signed(row, dossiers.get(dossier_id) if isinstance(dossier_id, int) else None, keys)
    for d in dossiers.values():
        breaks += _recorded(d, last_event.get(d.id or 0))
    return VerifyReport(len(rows), signatures, len(dossiers), tuple(breaks))


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


_STATE_OF_KIND = {"dossier.created": DossierState.DRAFT, "dossier.submitted": DossierState.SUBMITTED,
                  "dossier.approved": DossierState.APPROVED, "dossier.returned": DossierState.RETURNED}


def _recorded(d: DossierRow, last: LedgerRow | None) -> list[Break]:
    where = f"dossier/{d.id}"
    if last is None:
        return [Break("not_recorded", where, _("dossier {id} has no entry in the ledger").format(id=d.id))]
    expected = _STATE_OF_KIND.get(last.kind)
    if last.kind == "dossier.appraised":
        expected = (DossierState.RETURNED if (last.payload.get("decision") or {}).get("opinion") == "disagree"
                    else DossierState.APPRAISED)
    if expected != d.state:
        return [Break("not_recorded", where, _("dossier {id} is {state} in the store, but the ledger's last entry for "
                                               "it ({seq}) records {expected}").format(
            id=d.id, state=d.state, seq=last.seq, expected=expected))]
    if d.state == DossierState.APPROVED:
        decision = last.payload.get("decision") or {}
        if decision.get("approved_level") != d.approved_level or decision.get("decision_number") != d.decision_number:
            return [Break("not_recorded", where, _("dossier {id}: the approved level or decision number differs from "
                                                   "the signed approval (entry {seq})").format(id=d.id, seq=last.seq))]
    return []
