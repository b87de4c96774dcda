"""PDF signatures (PAdES) with pyHanko: an officer signs a dossier or a report as an incremental update, so a second
signature leaves the first one valid; and every signature of a PDF validated against the workspace's trust list."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from auditor import clock
from auditor.i18n import _
from auditor.identity.officer import Officer
from auditor.identity.signer import CertSigner


def _stamp(label: str, detail: str | None, officer: Officer, when: dt.datetime) -> bytes:
    """The visible appearance of a signature, typeset by WeasyPrint (Vietnamese diacritics exact): who signed, as
    the certificate names them, and when."""
    from html import escape

    from weasyprint import HTML

    lines = [f"<b>{escape(label)}</b>" + (f" — {escape(detail)}" if detail else ""),
             escape(officer.name + (f" — {officer.title}" if officer.title else "")),
             escape(officer.organisation or ""),
             escape(_("Signed {time}").format(time=when.strftime("%d/%m/%Y %H:%M:%S %z")))]
    html = ("<style>@page{size:260pt 80pt;margin:5pt} body{font-family:'DejaVu Sans',sans-serif;font-size:7.5pt;"
            "line-height:1.3;margin:0}</style>" + "<br>".join(lines))
    pdf = HTML(string=html).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf


def sign_pdf(pdf: bytes, signer: CertSigner, officer: Officer, *, field: str, slot: int, label: str,
             reason: str, detail: str | None = None) -> bytes:
    """``pdf`` with one more signature (PAdES), added as an incremental update so earlier signatures stay valid, in
    a visible field of the last page (``slot`` 0 left, 1 right) showing who signed and when."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import StaticStampStyle

    when = clock.in_vietnam(clock.now())

    class AtOurTime(signers.PdfSigner):
        """The signing time the auditor's clock gives (Vietnam time), not the machine's."""

        def init_signing_session(self, pdf_out: Any, existing_fields_only: bool = False) -> Any:
            session = super().init_signing_session(pdf_out, existing_fields_only)
            session.system_time = when
            return session

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    pages = int(writer.root["/Pages"]["/Count"])
    left = 40 + 280 * slot
    fields.append_signature_field(writer, fields.SigFieldSpec(field, box=(left, 36, left + 260, 116),
                                                              on_page=pages - 1))
    meta = signers.PdfSignatureMetadata(field_name=field, md_algorithm="sha256", reason=reason,
                                        location=officer.organisation, name=officer.name,
                                        subfilter=fields.SigSeedSubFilter.PADES)
    with tempfile.TemporaryDirectory(prefix="auditor-stamp-") as tmp:
        stamp = Path(tmp) / "stamp.pdf"
        stamp.write_bytes(_stamp(label, detail, officer, when))
        style = StaticStampStyle.from_pdf_file(str(stamp), border_width=1)
        out = io.BytesIO()
        AtOurTime(meta, signer=signer.pdf, stamp_style=style).sign_pdf(writer, output=out)
    return out.getvalue()


@dataclass(frozen=True)
class PdfSignature:
    field: str
    signer: Officer
    signed_at: str | None
    intact: bool  # the signed bytes are unchanged
    trusted: bool  # the certificate chains to a pinned anchor and was valid, not revoked, when it signed
    covers: str  # the whole file, or an earlier revision (a later signature was added)
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.intact and self.trusted

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "signer": self.signer.as_json(), "signed_at": self.signed_at,
                "intact": self.intact, "trusted": self.trusted, "covers": self.covers, "problem": self.problem,
                "ok": self.ok}


def pdf_signatures(data: bytes, anchors: list[x509.Certificate], crls: list[bytes]) -> list[PdfSignature]:
    """Every signature of a PDF, validated with pyHanko against the pinned anchors and the imported CRLs, each at
    the time it says it was made."""
    from asn1crypto import crl as asn1_crl
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    roots = [asn1_x509.Certificate.load(a.public_bytes(serialization.Encoding.DER)) for a in anchors]
    lists = [asn1_crl.CertificateList.load(c) for c in crls]
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    out = []
    for sig in reader.embedded_signatures:
        cert = x509.load_der_x509_certificate(sig.signer_cert.dump())
        officer = Officer.of(cert)
        when = sig.self_reported_timestamp
        moment = when if isinstance(when, dt.datetime) else clock.now()
        problem = None
        try:
            status = validate_pdf_signature(sig, ValidationContext(trust_roots=roots, crls=lists, moment=moment,
                                                                   allow_fetching=False))
            intact, trusted = bool(status.intact and status.valid), bool(status.trusted)
            if not trusted:
                problem = _("the certificate does not chain to a trust anchor of this workspace, or was not valid "
                            "then")
            if status.revoked:
                trusted, problem = False, _("the certificate was revoked")
            covers = "file" if status.coverage is not None and status.coverage.name == "ENTIRE_FILE" else "revision"
        except Exception as exc:  # pyHanko raises many kinds on a damaged file: it is not valid, whatever the kind
            intact = trusted = False
            covers, problem = "—", f"{type(exc).__name__}: {str(exc)[:200]}"
        out.append(PdfSignature(sig.field_name, officer, clock.stamp(moment) if moment else None, intact, trusted,
                                covers, problem))
    return out
