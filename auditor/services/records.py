"""Records: list them, add one (checked together with all the others, then written whole and recorded in the
ledger), and attach evidence files to them (size-limited, type-checked by their content, kept under evidence/
with their SHA-256 in the ledger, so that `auditor verify` notices a changed or missing file)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import col, select

from auditor import clock, safeio
from auditor.context import Context
from auditor.i18n import _
from auditor.ledger.chain import append
from auditor.problems import InputError, Problem, UserError, display_path
from auditor.records.load import RECORDS_DIR, Records, load_records
from auditor.store.tables import LedgerRow
from auditor.yamlsafe import load_yaml_text

EVIDENCE_DIR = "evidence"
MAX_EVIDENCE = 8 << 20
SECTIONS = ("inspection", "drill", "response_plan")
# what an evidence file may be, told by its first bytes (an extension alone proves nothing)
KINDS: dict[str, tuple[tuple[bytes, ...], str]] = {
    "pdf": ((b"%PDF-",), "application/pdf"),
    "png": ((b"\x89PNG\r\n\x1a\n",), "image/png"),
    "jpg": ((b"\xff\xd8\xff",), "image/jpeg"),
    "jpeg": ((b"\xff\xd8\xff",), "image/jpeg"),
    "docx": ((b"PK\x03\x04",), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ((b"PK\x03\x04",), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "odt": ((b"PK\x03\x04",), "application/vnd.oasis.opendocument.text"),
}
_NAME = re.compile(r"[^\w.-]+")  # letters of any script (Vietnamese names stay readable), digits, . _ -


class EvidenceError(UserError):
    """An evidence file that cannot be kept (too large, of a type not allowed, not what its name says)."""


def list_records(ctx: Context) -> Records:
    return load_records(ctx.ws.root, ctx.loaded.inventory)


def add_record(ctx: Context, name: str, section: str, record: dict[str, Any], *, replace: bool = False,
               account: str | None = None) -> Path:
    """Check the new record together with every other one, then write its file atomically and record it."""
    folder = ctx.ws.root / RECORDS_DIR
    path = folder / f"{name}.yaml"
    if path.exists() and not replace:
        raise InputError([Problem(display_path(path), 1, 1, "", _("the file exists already; choose another id"))])
    text = ("# " + _("Written by 'auditor records add' on {date}; edit it like records.yaml.").format(
        date=clock.today().isoformat()) + "\n" + yaml.safe_dump({"version": 1, section: [record]}, allow_unicode=True,
                                                                   sort_keys=False))
    load_records(ctx.ws.root, ctx.loaded.inventory, [load_yaml_text(text, display_path(path))],
                 replacing=path if replace else None)
    folder.mkdir(exist_ok=True)
    safeio.write_text(path, text)
    with ctx.store.session() as s:  # the file is the tool's: a later edit of it shows in `auditor verify`
        append(s, "records.added", f"records/{name}", {
            "file": f"{RECORDS_DIR}/{path.name}", "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "section": section, "id": record.get("id"), **({"account": account} if account else {})})
    return path


@dataclass(frozen=True)
class Evidence:
    seq: int  # the ledger entry that recorded it (also how the console names it)
    record: str  # section/key, e.g. inspection/kt-2026-cong-dvc
    name: str
    file: str  # relative to the workspace
    sha256: str
    size: int
    media_type: str
    account: str | None
    at: str

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _record_keys(records: Records) -> set[str]:
    return ({f"inspection/{i.id}" for i in records.inspections} | {f"drill/{d.id}" for d in records.drills}
            | {f"response_plan/{p.system}" for p in records.response_plans})


def attach_evidence(ctx: Context, record: str, filename: str, data: bytes, *,
                    account: str | None = None) -> Evidence:
    """Keep ``data`` as evidence of ``record`` (``inspection/ID``, ``drill/ID`` or ``response_plan/SYSTEM``)."""
    if record not in _record_keys(list_records(ctx)):
        raise EvidenceError(_("no record {record}").format(record=record[:80]))
    if len(data) > MAX_EVIDENCE:
        raise EvidenceError(_("{name}: larger than {n} bytes").format(name=filename[:80], n=MAX_EVIDENCE))
    if not data:
        raise EvidenceError(_("{name}: the file is empty").format(name=filename[:80]))
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in KINDS:
        raise EvidenceError(_("{name}: evidence is one of {kinds}").format(name=filename[:80],
                                                                          kinds=", ".join(sorted(KINDS))))
    magic, media_type = KINDS[ext]
    if not data.startswith(magic):
        raise EvidenceError(_("{name}: the content is not a {kind} file").format(name=filename[:80],
                                                                                  kind=ext.upper()))
    digest = hashlib.sha256(data).hexdigest()
    stem = _NAME.sub("-", filename.rsplit(".", 1)[0]).strip("-.")[:60] or "evidence"
    section, key = record.split("/", 1)
    relative = f"{EVIDENCE_DIR}/{section}-{key}/{digest[:12]}-{stem}.{ext}"
    target = ctx.ws.root / relative
    safeio.check_inside(target, ctx.ws.root)  # evidence/ may not lead out of the workspace
    target.parent.mkdir(parents=True, exist_ok=True)
    safeio.write_bytes(target, data)
    with ctx.store.session() as s:
        entry = append(s, "evidence.attached", record, {
            "record": record, "name": filename[:200], "file": relative, "sha256": digest, "bytes": len(data),
            "media_type": media_type, **({"account": account} if account else {})})
    return Evidence(entry.seq, record, filename[:200], relative, digest, len(data), media_type, account,
                    clock.stamp(entry.at))


def list_evidence(ctx: Context) -> list[Evidence]:
    with ctx.store.session() as s:
        rows = s.exec(select(LedgerRow).where(LedgerRow.kind == "evidence.attached")
                      .order_by(col(LedgerRow.seq))).all()
    out = []
    for r in rows:
        p = r.payload
        out.append(Evidence(r.seq, str(p.get("record")), str(p.get("name")), str(p.get("file")),
                            str(p.get("sha256")), int(p.get("bytes") or 0), str(p.get("media_type")),
                            p.get("account"), clock.stamp(r.at)))
    return out


def evidence_file(ctx: Context, seq: int) -> tuple[Evidence, bytes]:
    """The evidence file a ledger entry recorded, read back only if it is unchanged."""
    found = next((e for e in list_evidence(ctx) if e.seq == seq), None)
    if found is None or ".." in Path(found.file).parts:
        raise EvidenceError(_("no such evidence file"))
    try:
        data = safeio.read_bytes(ctx.ws.root / found.file, max_bytes=MAX_EVIDENCE, within=ctx.ws.root)
    except (OSError, InputError):
        raise EvidenceError(_("{name} is no longer in the evidence folder").format(name=found.name)) from None
    if hashlib.sha256(data).hexdigest() != found.sha256:
        raise EvidenceError(_("{name} was changed after it was attached").format(name=found.name))
    return found, data
