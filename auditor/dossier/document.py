"""The dossier as a signed PDF: the appraiser signs it, then the approver adds their signature to the same file as an
incremental update (both stay valid). The latest signed revision is kept in the store and recorded in the ledger."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from sqlmodel import Session, select

from auditor import safeio
from auditor.i18n import _, language
from auditor.identity.officer import Officer
from auditor.identity.signer import CertSigner
from auditor.identity.trust import trust_list
from auditor.labels import label as label_of
from auditor.ledger.anchor import head
from auditor.ledger.chain import append
from auditor.reporting.dossier import dossier_stem, render_dossier_bytes
from auditor.reporting.pdfsign import sign_pdf
from auditor.store.tables import DossierRow, SignedDocumentRow
from auditor.workspace import Workspace

OFFICIAL = "vi"  # the signed document is the Vietnamese one
FIELDS = {"appraise": ("ThamDinh", 0), "approve": ("PheDuyet", 1)}


def signed_dossier(session: Session, dossier_id: int) -> SignedDocumentRow | None:
    return session.exec(select(SignedDocumentRow).where(SignedDocumentRow.kind == "dossier",
                                                        SignedDocumentRow.key == str(dossier_id),
                                                        SignedDocumentRow.lang == OFFICIAL)).first()


def sign_step(session: Session, ws: Workspace, row: DossierRow, signer: CertSigner, officer: Officer,
              step: str) -> SignedDocumentRow:
    """Sign the dossier's PDF for ``step`` (appraise: a fresh rendering of the frozen dossier; approve: the file the
    appraiser signed), keep it, and record its hash in the ledger."""
    assert row.id is not None
    doc = signed_dossier(session, row.id)
    with language(OFFICIAL):
        if doc is None or step == "appraise":
            pdf = render_dossier_bytes(ws, row, head(session), trust_list(session))[1]
        else:
            pdf = base64.b64decode(doc.pdf_b64)
        field, slot = FIELDS[step]
        label = _("Appraised") if step == "appraise" else _("Approved")
        if step == "appraise":
            detail = label_of(row.appraisal_opinion)
        else:
            detail = _("decision {number}, level {level}").format(number=row.decision_number, level=row.approved_level)
        signed = sign_pdf(pdf, signer, officer, field=field, slot=slot, label=label, detail=detail,
                          reason=_("{step} of the level dossier of {system}").format(step=label, system=row.system_id))
    digest = hashlib.sha256(signed).hexdigest()
    if doc is None:
        doc = SignedDocumentRow(kind="dossier", key=str(row.id), lang=OFFICIAL, name=f"{dossier_stem(row, OFFICIAL)}.pdf",
                                pdf_b64="", sha256="")
    doc.pdf_b64, doc.sha256 = base64.b64encode(signed).decode(), digest
    doc.signatures = 1 if step == "appraise" else doc.signatures + 1
    session.add(doc)
    session.flush()
    append(session, "document.signed", f"dossier/{row.id}", {
        "document": doc.id, "kind": "dossier", "key": str(row.id), "lang": OFFICIAL, "name": doc.name,
        "sha256": digest, "signatures": doc.signatures, "field": field, "officer": officer.fingerprint})
    return doc


def write_dossier(session: Session, ws: Workspace, row: DossierRow, out_dir: Path) -> list[Path]:
    """The dossier as HTML and PDF into ``out_dir``: the signed PDF when there is one (in Vietnamese, the official
    language), else a fresh unsigned rendering."""
    from auditor.i18n import get_language
    from auditor.reporting.dossier import render_dossier
    from auditor.reporting.render import output_dir

    assert row.id is not None
    doc = signed_dossier(session, row.id)
    anchor = head(session)
    if doc is None or get_language() != OFFICIAL:
        return render_dossier(ws, row, out_dir, anchor, trust_list(session))
    output_dir(out_dir)
    html, _pdf = render_dossier_bytes(ws, row, anchor, trust_list(session))
    html_path, pdf_path = out_dir / f"{dossier_stem(row)}.html", out_dir / doc.name
    return safeio.write_files({html_path: html.encode("utf-8"), pdf_path: base64.b64decode(doc.pdf_b64)})
