"""Is this file one the auditor wrote, unchanged, and are its signatures valid?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditor.context import Context
from auditor.identity.trust import anchors, crls
from auditor.ledger.verify import VerifyReport, verify_ledger
from auditor.levels.propose import LevelRules
from auditor.reporting.pdfsign import PdfSignature, pdf_signatures
from auditor.reporting.publish import FileMatch, find_bytes


@dataclass(frozen=True)
class FileCheck:
    sha256: str
    matches: list[FileMatch]
    signatures: list[PdfSignature]
    ledger: VerifyReport

    @property
    def ok(self) -> bool:
        return (self.ledger.ok and bool(self.matches) and all(m.snapshot_matches for m in self.matches)
                and all(sig.ok for sig in self.signatures))

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "sha256": self.sha256, "matches": [m.as_json() for m in self.matches],
                "signatures": [sig.as_json() for sig in self.signatures], "ledger_ok": self.ledger.ok,
                "breaks": [b.as_json() for b in self.ledger.breaks]}


def check_file(ctx: Context, data: bytes) -> FileCheck:
    """The ledger verified whole, the file looked up by its hash, and a PDF's signatures validated against the
    pinned CAs and imported CRLs."""
    with ctx.store.session() as s:
        report = verify_ledger(s, ctx.ws.root, LevelRules(ctx.ws.content("profiles")).regimes)
        digest, matches = find_bytes(s, data)
        signatures = pdf_signatures(data, anchors(s), crls(s)) if data.startswith(b"%PDF") else []
    return FileCheck(digest, matches, signatures, report)
