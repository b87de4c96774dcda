"""Check the whole ledger: the hash chain, every signature, and the store against the state the chain records.

Reports exactly which entry was altered, removed, reordered or forged, which dossier changed after its appraisal
or approval was signed, and every row of the store (finding, run, acceptance, dossier, key, report, advisory
data, record file) that differs from what the ledger says, by table, row and field.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from sqlmodel import Session, col, select

from auditor.dossier import authority
from auditor.i18n import _
from auditor.identity.officer import Officer
from auditor.identity.signer import verify_raw
from auditor.identity.trust import IdentityError, validate_with
from auditor.ledger.anchor import Anchor
from auditor.ledger.chain import GENESIS, canonical, entry_hash, sha256_hex
from auditor.ledger.state import differences, replay
from auditor.levels.regimes import Regimes
from auditor.problems import InputError
from auditor.signing import decision_digest, verify_signature
from auditor.store.tables import CrlRow, DossierRow, LedgerRow


@dataclass(frozen=True)
class Break:
    # altered, missing, reordered, forged, snapshot_changed, not_recorded (a signed entry with no dossier),
    # untrusted (a certificate the pinned anchors do not vouch for), unauthorised (a signer who may not sign it);
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


@dataclass
class Trust:
    """The anchors the ledger pinned (up to each entry) and the CRLs it recorded, to judge certified signatures."""

    anchors: list[tuple[int, x509.Certificate]]
    crls: list[bytes]

    def at(self, seq: int) -> list[x509.Certificate]:
        return [cert for pinned, cert in self.anchors if pinned < seq]


def _trust(session: Session, rows: list[LedgerRow]) -> Trust:
    anchors = [(r.seq, x509.load_pem_x509_certificate(str(r.payload["pem"]).encode())) for r in rows
               if r.kind == "trust.added" and isinstance(r.payload.get("pem"), str)]
    recorded = {r.payload.get("sha256") for r in rows if r.kind == "crl.imported"}
    lists = [base64.b64decode(c.der_b64) for c in session.exec(select(CrlRow)) if c.sha256 in recorded]
    return Trust(anchors, lists)


def _accepted(row: LedgerRow, trust: Trust) -> list[Break]:
    """A risk acceptance signed with an officer's certificate: the signed decision is the one the entry records."""
    p: dict[str, Any] = row.payload
    decision = p.get("decision") or {}
    if any(decision.get(k) != p.get(k) for k in ("finding", "justification", "expires_on")):
        return [Break("forged", f"#{row.seq}", _("entry {seq}: the acceptance differs from the decision that was "
                                                  "signed").format(seq=row.seq))]
    return _certified(row, hashlib.sha256(canonical(decision)).digest(), trust)


def _certified(row: LedgerRow, digest: bytes, trust: Trust) -> list[Break]:
    """A decision signed with an officer's certificate: the signature verifies with it, it is the certificate the
    decision names, and it chained to an anchor pinned before the step, valid and unrevoked when it signed."""
    where = f"#{row.seq}"
    p: dict[str, Any] = row.payload
    sig, decision = p.get("signature") or {}, p.get("decision") or {}
    try:
        cert = x509.load_der_x509_certificate(base64.b64decode(str(sig.get("certificate"))))
        chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in sig.get("chain") or []]
        signature = bytes.fromhex(str(sig.get("signature")))
    except ValueError:
        return [Break("forged", where, _("entry {seq} carries no readable certificate or signature").format(
            seq=row.seq))]
    officer = Officer.of(cert)
    if (decision.get("officer") or {}).get("fingerprint") != officer.fingerprint or not verify_raw(cert, signature,
                                                                                                   digest):
        return [Break("forged", where, _("the signature in entry {seq} ({kind}) does not verify with the certificate "
                                         "of {name}").format(seq=row.seq, kind=row.kind, name=officer.name))]
    try:
        validate_with(cert, chain, trust.at(row.seq), trust.crls, row.at, afterwards=True)
    except IdentityError as exc:
        return [Break("untrusted", where, _("entry {seq} ({kind}): {reason}").format(seq=row.seq, kind=row.kind,
                                                                                   reason=exc))]
    return []


def _authorised(row: LedgerRow, history: dict[str, Any], regimes: Regimes) -> list[Break]:
    """The certificate that signed a dossier step identifies an organisation that may take it, among those frozen
    when the dossier was submitted, and the approver is not the appraiser: as when it was signed."""
    where, p = f"#{row.seq}", row.payload
    decision, created, frozen = p.get("decision") or {}, history.get("created") or {}, history.get("organisations")
    try:
        cert = x509.load_der_x509_certificate(base64.b64decode(str((p.get("signature") or {}).get("certificate"))))
    except ValueError:
        return []  # (_certified says so)
    officer = Officer.of(cert)
    step = "appraise" if row.kind == "dossier.appraised" else "approve"
    try:
        if not isinstance(frozen, dict):
            raise authority.AuthorityError(_("the ledger holds no submission of dossier {id} naming who may sign it")
                                           .format(id=p.get("dossier")))
        regime = regimes.get(str(created.get("regime")))
        proposed = int(created.get("proposed_level") or 0)
        level = proposed if step == "appraise" else max(proposed, int(decision.get("approved_level") or 0))
        org = authority.signing_org(officer, frozen, regime, level, step)
        if org.get("id") != decision.get("organisation"):
            raise authority.AuthorityError(_("the decision names {named}; the certificate of {name} identifies {org}")
                                           .format(named=decision.get("organisation"), name=officer.name,
                                                   org=org.get("id")))
        if step == "approve":
            authority.separate(officer, org, history.get("appraisal") or {}, regime, level)
    except (authority.AuthorityError, InputError, KeyError, ValueError) as exc:
        return [Break("unauthorised", where, _("entry {seq} ({kind}): {reason}").format(seq=row.seq, kind=row.kind,
                                                                                      reason=exc))]
    return []


def verify_ledger(session: Session, workspace: Path, regimes: Regimes) -> VerifyReport:
    rows = list(session.exec(select(LedgerRow).order_by(col(LedgerRow.id))))
    breaks = _chain(rows)
    trust = _trust(session, rows)
    keys: dict[str, str] = {}
    for row in rows:
        if row.kind == "key.registered":
            keys[row.payload.get("name", "")] = row.payload.get("public_key", "")
    dossiers = {d.id: d for d in session.exec(select(DossierRow))}
    signatures = 0
    histories: dict[int, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: r.seq):
        dossier_id = row.payload.get("dossier") if isinstance(row.payload, dict) else None
        if not isinstance(dossier_id, int) or not row.kind.startswith("dossier."):
            continue
        history = histories.setdefault(dossier_id, {})
        if row.kind == "dossier.created":
            history.clear()
            history["created"] = row.payload
        elif row.kind == "dossier.submitted":
            history["organisations"] = row.payload.get("organisations")
        if row.kind not in ("dossier.appraised", "dossier.approved"):
            continue
        signatures += 1
        breaks += _signed(row, dossiers.get(dossier_id), keys, trust)
        if (row.payload.get("signature") or {}).get("type") == "x509":
            breaks += _authorised(row, history, regimes)
        if row.kind == "dossier.appraised":
            history["appraisal"] = row.payload
    for row in rows:
        if row.kind == "finding.accepted" and (row.payload.get("signature") or {}).get("type") == "x509":
            signatures += 1
            breaks += _accepted(row, trust)
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


def _signed(row: LedgerRow, dossier: DossierRow | None, keys: dict[str, str], trust: Trust) -> list[Break]:
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
    if sig.get("type") == "x509":
        return out + _certified(row, decision_digest(dossier.snapshot, p.get("decision") or {}), trust)
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
