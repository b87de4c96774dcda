"""The workspace's trust list: the CA certificates it accepts (pinned, `auditor trust add`) and the revocation lists
imported from files (`auditor trust crl`), each recorded in the ledger; and the validation of an officer's
certificate against them, offline."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlmodel import Session, col, select

from auditor import clock
from auditor.i18n import _
from auditor.identity.officer import Officer
from auditor.ledger.chain import append
from auditor.problems import UserError
from auditor.store.tables import CrlRow, TrustAnchorRow


class IdentityError(UserError):
    """A certificate that cannot sign, or a trust file that cannot be taken; the message says why (exit 2)."""


def _der_certificates(data: bytes) -> list[x509.Certificate]:
    try:
        if b"-----BEGIN" in data:
            return list(x509.load_pem_x509_certificates(data))
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise IdentityError(_("not a certificate (PEM or DER)")) from None


def add_anchors(session: Session, data: bytes, source: str) -> list[TrustAnchorRow]:
    """Pin the CA certificates of a file as trust anchors (each once), each recorded in the ledger."""
    out = []
    for cert in _der_certificates(data):
        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value \
            if _has(cert, x509.BasicConstraints) else None
        if basic is None or not basic.ca:
            raise IdentityError(_("{subject} is not a CA certificate; only a CA can be a trust anchor").format(
                subject=cert.subject.rfc4514_string()))
        der = cert.public_bytes(serialization.Encoding.DER)
        digest = hashlib.sha256(der).hexdigest()
        existing = session.exec(select(TrustAnchorRow).where(TrustAnchorRow.sha256 == digest)).first()
        if existing is not None:
            out.append(existing)
            continue
        pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        row = TrustAnchorRow(sha256=digest, subject=cert.subject.rfc4514_string(), not_before=cert.not_valid_before_utc,
                             not_after=cert.not_valid_after_utc, pem=pem)
        session.add(row)
        session.flush()
        append(session, "trust.added", f"trust/{digest[:16]}", {"anchor": row.id, "sha256": digest,
                                                                 "subject": row.subject, "pem": pem, "file": source})
        out.append(row)
    return out


def _has(cert: x509.Certificate, kind: type[x509.ExtensionType]) -> bool:
    try:
        cert.extensions.get_extension_for_class(kind)
    except x509.ExtensionNotFound:
        return False
    return True


def import_crl(session: Session, data: bytes, source: str) -> CrlRow:
    """Take a CRL file (PEM or DER) whose issuer is a pinned anchor and whose signature verifies."""
    try:
        crl = x509.load_pem_x509_crl(data) if b"-----BEGIN" in data else x509.load_der_x509_crl(data)
    except ValueError:
        raise IdentityError(_("not a certificate revocation list (PEM or DER)")) from None
    keys = [a.public_key() for a in anchors(session) if a.subject == crl.issuer]
    if not any(isinstance(k, rsa.RSAPublicKey | ec.EllipticCurvePublicKey) and crl.is_signature_valid(k) for k in keys):
        raise IdentityError(_("the CRL of {issuer} is not signed by a pinned trust anchor").format(
            issuer=crl.issuer.rfc4514_string()))
    der = crl.public_bytes(serialization.Encoding.DER)
    digest = hashlib.sha256(der).hexdigest()
    existing = session.exec(select(CrlRow).where(CrlRow.sha256 == digest)).first()
    if existing is not None:
        return existing
    row = CrlRow(sha256=digest, issuer=crl.issuer.rfc4514_string(), this_update=crl.last_update_utc,
                 next_update=crl.next_update_utc, der_b64=base64.b64encode(der).decode())
    session.add(row)
    session.flush()
    append(session, "crl.imported", f"crl/{digest[:16]}", {
        "crl": row.id, "sha256": digest, "issuer": row.issuer, "this_update": clock.stamp(row.this_update),
        "revoked": sorted(format(r.serial_number, "x") for r in crl), "file": source})
    return row


def anchors(session: Session) -> list[x509.Certificate]:
    return [x509.load_pem_x509_certificate(r.pem.encode())
            for r in session.exec(select(TrustAnchorRow).order_by(col(TrustAnchorRow.id)))]


def trust_list(session: Session) -> list[dict[str, str]]:
    """The pinned CAs as every report lists them: subject, SHA-256 of the certificate, end of validity."""
    return [{"subject": r.subject, "sha256": r.sha256, "not_after": clock.as_utc(r.not_after).date().isoformat()}
            for r in session.exec(select(TrustAnchorRow).order_by(col(TrustAnchorRow.id)))]


def crls(session: Session) -> list[bytes]:
    return [base64.b64decode(r.der_b64) for r in session.exec(select(CrlRow).order_by(col(CrlRow.id)))]


def validate(session: Session, cert: x509.Certificate, chain: list[x509.Certificate], moment: dt.datetime) -> Officer:
    """The officer a certificate names, if it may sign at ``moment``: it chains to a pinned anchor, it is valid
    then, no imported CRL revokes it, and its key may sign (digital signature or non-repudiation)."""
    return validate_with(cert, chain, anchors(session), crls(session), moment)


def validate_with(cert: x509.Certificate, chain: list[x509.Certificate], roots: list[x509.Certificate],
                  crl_ders: list[bytes], moment: dt.datetime, *, afterwards: bool = False) -> Officer:
    """As :func:`validate`, against the given anchors and CRLs (`auditor verify` takes them from the ledger).

    ``afterwards``: judging a signature made at ``moment`` later on, when a CRL issued since also tells whether the
    certificate was revoked then (revoked after the signature: it stands; revoked before: it does not)."""
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator import errors as e
    from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule

    if not roots:
        raise IdentityError(_("no trust anchor is pinned in this workspace: add the CA that certifies its "
                              "officers with 'auditor trust add CA.pem'"))

    def load(c: x509.Certificate) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))

    lists = [asn1_crl.CertificateList.load(d) for d in crl_ders]
    # offline: when a CRL of the issuer was imported, the certificate must be checked against it (and that CRL
    # must still be current); without one, there is nothing to check against
    issuer = load(cert).issuer
    rule = RevocationCheckingRule.CRL_REQUIRED if any(c.issuer == issuer for c in lists) \
        else RevocationCheckingRule.NO_CHECK
    policy = CertRevTrustPolicy(RevocationCheckingPolicy(ee_certificate_rule=rule,
                                                         intermediate_ca_cert_rule=RevocationCheckingRule.NO_CHECK),
                                retroactive_revinfo=afterwards)
    context = ValidationContext(trust_roots=[load(r) for r in roots], other_certs=[load(c) for c in chain],
                                crls=lists, moment=moment, allow_fetching=False, revinfo_policy=policy)
    validator = CertificateValidator(load(cert), validation_context=context)
    officer = Officer.of(cert)
    try:
        asyncio.run(validator.async_validate_usage(set(), extended_optional=True))
    except e.ExpiredError:
        raise IdentityError(_("the certificate of {name} expired on {date}; it cannot sign").format(
            name=officer.name, date=officer.not_after[:10])) from None
    except e.NotYetValidError:
        raise IdentityError(_("the certificate of {name} is not valid before {date}; it cannot sign").format(
            name=officer.name, date=officer.not_before[:10])) from None
    except e.RevokedError:
        raise IdentityError(_("the certificate of {name} is revoked (CRL); it cannot sign").format(
            name=officer.name)) from None
    except (e.InsufficientRevinfoError, e.StaleRevinfoError):
        raise IdentityError(_("the imported revocation list of {issuer} does not cover {moment}; import a current "
                              "one ('auditor trust crl FILE')").format(issuer=officer.issuer,
                                                                        moment=clock.stamp(moment))) from None
    except (e.PathBuildingError, e.PathValidationError, e.InvalidCertificateError) as exc:
        raise IdentityError(_("the certificate of {name} does not chain to a trust anchor of this workspace "
                              "({error}); it cannot sign").format(name=officer.name, error=str(exc)[:200])) from None
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value if _has(cert, x509.KeyUsage) else None
    if usage is not None and not (usage.digital_signature or usage.content_commitment):
        raise IdentityError(_("the key of {name}'s certificate is not for signatures").format(name=officer.name))
    return officer
