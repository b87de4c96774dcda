"""Anchors: the chain head a published document was made from, kept outside the store.

Every report and dossier carries the ledger's head (sequence number and hash) when it was written: in its JSON, in
the text of its HTML and PDF, and in the PDF's metadata. Someone who can rewrite the store can rewrite the chain
and recompute every hash after the change, or cut its end off; they cannot change the copies of a report that were
printed, mailed or filed. `auditor verify --anchor FILE` proves the ledger still holds each head a file names.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from auditor import safeio
from auditor.i18n import _
from auditor.problems import InputError, Problem, display_path
from auditor.store.tables import LedgerRow

MARK = "auditor-ledger-head"
_FOUND = re.compile(rb"auditor-ledger-head:(\d{1,12}):([0-9a-f]{64})")
MAX_FILE = 256 << 20  # a published report; a larger file is not one
MAX_STREAM = 64 << 20  # what one compressed PDF stream may expand to while looking for the head


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str

    def marker(self) -> str:
        return f"{MARK}:{self.seq}:{self.hash}"

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash}


def head(session: Session) -> Anchor | None:
    row = session.exec(select(LedgerRow).order_by(col(LedgerRow.seq).desc()).limit(1)).first()
    return Anchor(row.seq, row.hash) if row else None


def _inflated(data: bytes) -> list[bytes]:
    """The content of a PDF's compressed streams (WeasyPrint keeps the metadata in an object stream)."""
    out = []
    for m in re.finditer(rb"stream\r?\n", data):
        start = m.end()
        end = data.find(b"endstream", start)
        if end < 0:
            break
        try:
            d = zlib.decompressobj()
            out.append(d.decompress(data[start:end], MAX_STREAM))
        except zlib.error:
            continue
    return out


def anchors_in(path: Path) -> list[Anchor]:
    """The heads a file names: a report's JSON, HTML or PDF, or a file `auditor anchor --out` wrote."""
    data = safeio.read_bytes(path, max_bytes=MAX_FILE)
    found: set[tuple[int, str]] = set()
    try:
        doc = json.loads(data)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("ledger_head"), dict):
        h = doc["ledger_head"]
        if isinstance(h.get("seq"), int) and isinstance(h.get("hash"), str) and re.fullmatch(r"[0-9a-f]{64}", h["hash"]):
            found.add((h["seq"], h["hash"]))
    for chunk in [data, *(_inflated(data) if data.startswith(b"%PDF") else [])]:
        found.update((int(m.group(1)), m.group(2).decode()) for m in _FOUND.finditer(chunk))
    if not found:
        raise InputError([Problem(display_path(path), 1, 1, "--anchor", _(
            "no ledger head in this file: give a report or dossier this auditor wrote, or a file of "
            "'auditor anchor --out'"))])
    return [Anchor(seq, digest) for seq, digest in sorted(found)]


def write_anchor(path: Path, anchor: Anchor, workspace: str, at: str) -> None:
    safeio.write_text(path, json.dumps({"format": "auditor-ledger-anchor/1", "workspace": workspace, "at": at,
                                        "ledger_head": anchor.as_json()}, indent=1) + "\n")
