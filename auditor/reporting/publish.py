"""Write a report from its frozen snapshot (HTML, PDF, JSON and any CSV), then record the snapshot's hash and each
file's hash in the ledger, so that a printed or forwarded report can be checked later with `auditor verify FILE`."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from auditor.context import Context
from auditor.i18n import get_language
from auditor.ledger.chain import append, canonical, sha256_hex
from auditor.reporting.render import output_dir, render_html
from auditor.store.tables import LedgerRow, ReportRow


@dataclass(frozen=True)
class Published:
    report_id: int
    ledger_seq: int
    snapshot_sha256: str
    files: list[Path]


def csv_text(header: list[str], rows: list[list[Any]]) -> str:
    """CSV with a byte-order mark, so that spreadsheet programs open the Vietnamese text correctly."""
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return buf.getvalue()


def publish(ctx: Context, snapshot: dict[str, Any], template: str, context: dict[str, Any], out_dir: Path, stem: str,
            csvs: dict[str, str] | None = None) -> Published:
    """Render into a temporary folder next to the destination, move the files in place, then record them."""
    from weasyprint import HTML

    digest = sha256_hex(canonical(snapshot))
    output_dir(out_dir)
    html = render_html(ctx.ws, template, {**context, "r": snapshot, "snapshot_sha256": digest})
    written: list[Path] = []
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".report-") as tmp:
        staging = Path(tmp)
        (staging / f"{stem}.html").write_text(html, encoding="utf-8")
        HTML(string=html, base_url=str(ctx.ws.content("reports"))).write_pdf(staging / f"{stem}.pdf")
        (staging / f"{stem}.json").write_text(json.dumps(snapshot, ensure_ascii=False, indent=1, sort_keys=True),
                                              encoding="utf-8")
        for suffix, text in (csvs or {}).items():
            (staging / f"{stem}{suffix}.csv").write_text(text, encoding="utf-8")
        for f in sorted(staging.iterdir()):
            target = out_dir / f.name
            os.replace(f, target)
            written.append(target)
    files = [{"name": f.name, "sha256": sha256_hex(f.read_bytes()), "bytes": f.stat().st_size} for f in written]
    with ctx.store.session() as s:
        row = ReportRow(kind=snapshot["kind"], key=str(snapshot.get("year") or snapshot.get("drill", {}).get("id")),
                        lang=get_language(), snapshot=snapshot, snapshot_sha256=digest, files=files)
        s.add(row)
        s.flush()
        assert row.id is not None
        entry = append(s, "report.written", f"report/{row.id}", {
            "report": row.id, "kind": row.kind, "key": row.key, "lang": row.lang, "snapshot_sha256": digest,
            "files": files})
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
    """Every ledger entry that recorded a file with the same SHA-256 as ``path``."""
    digest = sha256_hex(path.read_bytes())
    matches = []
    for entry in session.exec(select(LedgerRow).where(LedgerRow.kind == "report.written").order_by(col(LedgerRow.seq))):
        for f in entry.payload.get("files", []):
            if f.get("sha256") == digest:
                stored = session.get(ReportRow, entry.payload.get("report"))
                same = stored is not None and sha256_hex(canonical(stored.snapshot)) == entry.payload["snapshot_sha256"]
                matches.append(FileMatch(entry.seq, entry.at.isoformat(), entry.payload["report"], entry.payload["kind"],
                                         entry.payload["key"], entry.payload["lang"], f["name"],
                                         entry.payload["snapshot_sha256"], same))
    return digest, matches
