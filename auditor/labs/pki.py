"""A small certification authority for the demo and the tests: officers' certificates (PKCS#12 files, or keys on a
SoftHSM2 token), a revocation list, and a second CA nobody trusts. It is named as a demo everywhere it appears."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from auditor import clock
from auditor.identity.officer import ORGANIZATION_IDENTIFIER

SOFTHSM_LIB = Path("/usr/lib/softhsm/libsofthsm2.so")


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=not ca, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


@dataclass
class IssuedOfficer:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    ca: LabCA

    def p12(self, path: Path, passphrase: str) -> Path:
        data = pkcs12.serialize_key_and_certificates(
            b"officer", self.key, self.cert, [self.ca.cert], serialization.BestAvailableEncryption(passphrase.encode()))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return path

    @property
    def serial(self) -> int:
        return self.cert.serial_number


@dataclass
class LabCA:
    name: str
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    cert: x509.Certificate = field(init=False)

    def __post_init__(self) -> None:
        now = clock.now()
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.name),
                             x509.NameAttribute(NameOID.ORGANIZATION_NAME, "auditor demo PKI (not for real use)")])
        self.cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - dt.timedelta(days=30)).not_valid_after(now + dt.timedelta(days=3650))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                     .add_extension(_key_usage(ca=True), critical=True)
                     .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
                     .sign(self.key, hashes.SHA256()))

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def officer(self, name: str, organisation: str, title: str, *, identifier: str | None = None,
                serial_number: str | None = None, not_before: dt.datetime | None = None,
                not_after: dt.datetime | None = None) -> IssuedOfficer:
        now = clock.now()
        key = ec.generate_private_key(ec.SECP256R1())
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, name), x509.NameAttribute(NameOID.TITLE, title),
                 x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation)]
        if identifier:
            attrs.append(x509.NameAttribute(ORGANIZATION_IDENTIFIER, identifier))
        if serial_number:
            attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number))
        cert = (x509.CertificateBuilder().subject_name(x509.Name(attrs)).issuer_name(self.cert.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(not_before or now - dt.timedelta(days=30))
                .not_valid_after(not_after or now + dt.timedelta(days=1095))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(_key_usage(ca=False), critical=True)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                               critical=False)
                .sign(self.key, hashes.SHA256()))
        return IssuedOfficer(cert, key, self)

    def crl(self, revoked: list[IssuedOfficer], *, revoked_at: dt.datetime | None = None) -> bytes:
        """A CRL issued an hour ago listing ``revoked`` (revoked two hours ago, or at ``revoked_at``)."""
        now = clock.now()
        builder = (x509.CertificateRevocationListBuilder().issuer_name(self.cert.subject)
                   .last_update(now - dt.timedelta(hours=1)).next_update(now + dt.timedelta(days=30)))
        for o in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(o.serial)
                .revocation_date(revoked_at or now - dt.timedelta(hours=2)).build())
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


@dataclass
class SoftToken:
    """A SoftHSM2 token in a folder of its own (SOFTHSM2_CONF), removed with :meth:`close`."""

    label: str
    pin: str
    directory: Path

    @classmethod
    def create(cls, label: str = "auditor-test", pin: str = "123456") -> SoftToken:
        if shutil.which("softhsm2-util") is None or shutil.which("pkcs11-tool") is None:
            raise RuntimeError("softhsm2 and opensc are needed (Debian packages softhsm2, opensc)")
        directory = Path(tempfile.mkdtemp(prefix="auditor-softhsm-"))
        (directory / "tokens").mkdir()
        (directory / "softhsm2.conf").write_text(f"directories.tokendir = {directory / 'tokens'}\n"
                                                 "objectstore.backend = file\nlog.level = ERROR\n")
        token = cls(label, pin, directory)
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin",
                        "so-" + pin], check=True, capture_output=True, env=token.env)
        return token

    @property
    def conf(self) -> Path:
        """The SoftHSM2 configuration: whoever opens the token (the auditor) needs SOFTHSM2_CONF set to it."""
        return self.directory / "softhsm2.conf"

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SOFTHSM2_CONF": str(self.conf)}

    def put(self, officer: IssuedOfficer, key_label: str, key_id: str) -> None:
        """The officer's private key and certificate on the token (the key never leaves it afterwards)."""
        work = self.directory / f"import-{key_id}"
        work.mkdir()
        key_pem = work / "key.pem"
        key_pem.write_bytes(officer.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
        cert_der = work / "cert.der"
        cert_der.write_bytes(officer.cert.public_bytes(serialization.Encoding.DER))
        subprocess.run(["softhsm2-util", "--import", str(key_pem), "--token", self.label, "--label", key_label,
                        "--id", key_id, "--pin", self.pin], check=True, capture_output=True, env=self.env)
        subprocess.run(["pkcs11-tool", "--module", str(SOFTHSM_LIB), "--token-label", self.label, "--login", "--pin",
                        self.pin, "--write-object", str(cert_der), "--type", "cert", "--id", key_id, "--label",
                        key_label], check=True, capture_output=True, env=self.env)
        shutil.rmtree(work)

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
