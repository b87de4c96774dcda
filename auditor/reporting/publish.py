"""Write a report from its frozen snapshot (HTML, PDF, JSON and any CSV), then record the snapshot's hash and each
file's hash in the ledger, so that a printed or forwarded report can be checked later with `auditor verify FILE`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from auditor import safeio
from auditor.context import Context
from auditor.i18n import _, get_language
from auditor.identity.mandate import organisation_for
from auditor.identity.officer import Officer
from auditor.identity.signer import CertSigner
from auditor.identity.trust import trust_list
from auditor.inventory.model import Inventory
from auditor.ledger.anchor import head
from auditor.ledger.chain import append, canonical, sha256_hex
from auditor.reporting.pdfsign import sign_pdf
from auditor.reporting.render import PdfLater, output_dir, render_html
from auditor.store.tables import LedgerRow, ReportRow


@dataclass(frozen=True)
class Published:
    report_id: int
    ledger_seq: int
    snapshot_sha256: str
    files: list[Path]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run: text that starts like a formula gets a leading apostrophe (the OWASP
    rule for CSV injection). Numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_text(header: list[str], rows: list[list[Any]]) -> str:
    """CSV with a byte-order mark, so that spreadsheet programs open the Vietnamese text correctly; every cell
    inert."""
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([inert(h) for h in header])
    first = frozenset(FORMULA_START)
    # inert() written out in the loop: a province's findings CSV has two million cells
    writer.writerows([("" if v is None else "'" + v if isinstance(v, str) and v[:1] in first else v) for v in row]
                     for row in rows)
    return buf.getvalue()


@dataclass(frozen=True)
class Issuer:
    """The leader who issues a report and signs its PDF, for an organisation of the inventory."""

    signer: CertSigner
    officer: Officer
    organisation: str

    @classmethod
    def of(cls, inventory: Inventory, signer: CertSigner, officer: Officer) -> Issuer:
        """The officer issues for the owner or security unit their certificate identifies (the province's reports
        are theirs), or not at all."""
        orgs = [o for o in inventory.organisations if {"owner", "security_unit"} & set(o.roles)]
        return cls(signer, officer, organisation_for(officer, orgs, _("issuing a report")).id)


def publish(ctx: Context, snapshot: dict[str, Any], template: str, context: dict[str, Any], out_dir: Path, stem: str,
            issuer: Issuer | None = None, account: str | None = None,
            extra: Callable[[dict[str, Any]], dict[str, bytes]] | None = None, pdf: PdfLater | None = None) -> Published:
    """Render everything first, then write each file whole (never through a link), then record them. The snapshot
    carries the ledger head it was made from (the anchor that `auditor verify --anchor` checks). ``extra``: the
    other files made from the snapshot (CSV, DOCX), by name suffix; they are made while the PDF is laid out (by
    ``pdf``, when the caller started it early)."""
    if pdf is None:
        with PdfLater(ctx.ws) as own:
            return publish(ctx, snapshot, template, context, out_dir, stem, issuer, account, extra, own)
    with ctx.store.session() as s:
        anchor = head(s)
        snapshot["trust_anchors"] = trust_list(s)
    snapshot["ledger_head"] = anchor.as_json() if anchor else None
    digest = sha256_hex(canonical(snapshot))
    output_dir(out_dir)
    html = render_html(ctx.ws, template, {**context, "r": snapshot, "snapshot_sha256": digest,
                                          "anchor": anchor.marker() if anchor else None})
    pdf.start(html)
    contents: dict[str, bytes] = {
        f"{stem}.html": html.encode("utf-8"),
        f"{stem}.json": json.dumps(snapshot, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")}
    contents |= {f"{stem}{suffix}": data for suffix, data in (extra(snapshot) if extra else {}).items()}
    document = pdf.result()
    if issuer is not None:
        document = sign_pdf(document, issuer.signer, issuer.officer, field="BanHanh", slot=1, label=_("Issued by"),
                            reason=_("Issue of the report"))
    contents[f"{stem}.pdf"] = document
    files = [{"name": name, "sha256": sha256_hex(data), "bytes": len(data)} for name, data in sorted(contents.items())]
    # every file is on the disk beside its name before the ledger records it, and is put in place only once it is
    # recorded: a full disk, a store that fails or a kill leaves neither a record of missing files nor a new HTML
    # beside an old PDF (at most the temporary files of a killed process, named .NAME.*.tmp)
    with safeio.Staged({out_dir / name: data for name, data in sorted(contents.items())}) as staged:
        with ctx.store.session() as s:
            row = ReportRow(kind=snapshot["kind"], key=str(snapshot.get("year") or snapshot.get("drill", {}).get("id")),
                            lang=get_language(), snapshot=snapshot, snapshot_sha256=digest, files=files)
            s.add(row)
            s.flush()
            assert row.id is not None
            entry = append(s, "report.written", f"report/{row.id}", {
                "report": row.id, "kind": row.kind, "key": row.key, "lang": row.lang, "snapshot_sha256": digest,
                "files": files, "signed_by": issuer.officer.as_json() if issuer else None,
                "organisation": issuer.organisation if issuer else None, **({"account": account} if account else {})})
        written = staged.commit()
    return Published(row.id, entry.seq, digest, written)


@dataclass(frozen=True)
class FileMatch:
    seq: int
    at: str
    report: int
    kind: str
    key: str
    lang: str
    name: str
    snapshot_sha256: str
    snapshot_matches: bool  # the stored snapshot still hashes to what the ledger recorded

    def as_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def find_file(session: Session, path: Path) -> tuple[str, list[FileMatch]]:
    """Every ledger entry that recorded a file with the same SHA-256 as ``path``: a report's file, or a signed
    dossier."""
    return find_bytes(session, safeio.read_bytes(path, max_bytes=1 << 30))


def find_bytes(session: Session, data: bytes) -> tuple[str, list[FileMatch]]:
    """Every ledger entry that recorded a file with these bytes (by SHA-256)."""
    digest = sha256_hex(data)
    matches = []
    for entry in session.exec(select(LedgerRow).where(LedgerRow.kind == "document.signed")
                              .order_by(col(LedgerRow.seq))):
        p = entry.payload
        if p.get("sha256") == digest:
            matches.append(FileMatch(entry.seq, entry.at.isoformat(), int(p.get("document") or 0), str(p.get("kind")),
                                     str(p.get("key")), str(p.get("lang")), str(p.get("name")), "", True))
    for entry in session.exec(select(LedgerRow).where(LedgerRow.kind == "report.written").order_by(col(LedgerRow.seq))):
        for f in entry.payload.get("files", []):
            if f.get("sha256") == digest:
                stored = session.get(ReportRow, entry.payload.get("report"))
                same = stored is not None and sha256_hex(canonical(stored.snapshot)) == entry.payload["snapshot_sha256"]
                matches.append(FileMatch(entry.seq, entry.at.isoformat(), entry.payload["report"], entry.payload["kind"],
                                         entry.payload["key"], entry.payload["lang"], f["name"],
                                         entry.payload["snapshot_sha256"], same))
    return digest, matches
