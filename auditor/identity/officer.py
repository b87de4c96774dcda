"""Who a certificate names: the officer's name and title, and the organisation it identifies."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID, ObjectIdentifier

ORGANIZATION_IDENTIFIER = ObjectIdentifier("2.5.4.97")  # X.520 organizationIdentifier


def _attr(name: x509.Name, oid: ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


@dataclass(frozen=True)
class Officer:
    """An officer as their certificate names them (never from free text)."""

    name: str
    title: str | None
    organisation: str | None
    organisation_identifier: str | None
    serial_number: str | None  # the subject's serial number (the officer's ID), when the CA puts one
    issuer: str
    fingerprint: str  # SHA-256 of the certificate
    not_before: str
    not_after: str

    @classmethod
    def of(cls, cert: x509.Certificate) -> Officer:
        s = cert.subject
        return cls(name=_attr(s, NameOID.COMMON_NAME) or s.rfc4514_string(), title=_attr(s, NameOID.TITLE),
                   organisation=_attr(s, NameOID.ORGANIZATION_NAME),
                   organisation_identifier=_attr(s, ORGANIZATION_IDENTIFIER),
                   serial_number=_attr(s, NameOID.SERIAL_NUMBER), issuer=cert.issuer.rfc4514_string(),
                   fingerprint=hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
                   not_before=cert.not_valid_before_utc.isoformat(), not_after=cert.not_valid_after_utc.isoformat())

    @property
    def person(self) -> str:
        """One person, whichever certificate they hold: their ID when the CA gives one, else their name and
        organisation."""
        return self.serial_number or f"{self.name}|{self.organisation or ''}"

    def signs_for(self, organisation: str | None, identifier: str | None) -> bool:
        """Whether the certificate identifies the organisation declared by these values (both, when both given)."""
        if not organisation and not identifier:
            return False
        if identifier and self.organisation_identifier != identifier:
            return False
        return not (organisation and (self.organisation or "").casefold() != organisation.casefold())

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)
