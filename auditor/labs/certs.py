"""Certificates for loopback services, made with ``cryptography``: a CA and leaves good or broken."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from auditor import clock

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
SigningHash = hashes.SHA256 | hashes.SHA384 | hashes.SHA512  # what cryptography's builder signs with


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: PrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())

    def write(self, directory: Path, stem: str, chain: list[Issued] | None = None) -> tuple[Path, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
        cert_path.write_bytes(self.cert_pem + b"".join(c.cert_pem for c in chain or []))
        key_path.write_bytes(self.key_pem)
        key_path.chmod(0o600)
        return cert_path, key_path


def new_key(kind: str = "rsa", size: int = 2048) -> PrivateKey:
    if kind == "ec":
        curve = {256: ec.SECP256R1(), 384: ec.SECP384R1(), 521: ec.SECP521R1()}.get(size, ec.SECP256R1())
        return ec.generate_private_key(curve)
    return rsa.generate_private_key(public_exponent=65537, key_size=size)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Auditor loopback lab")])


def make_ca(cn: str = "Auditor Lab Root CA", *, key: PrivateKey | None = None,
            hash_alg: SigningHash | None = None) -> Issued:
    key = key or new_key("ec", 256)
    now = clock.now()
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hash_alg or hashes.SHA256()))
    return Issued(cert, key)


def issue(ca: Issued | None, names: list[str], *, key: PrivateKey | None = None,
          not_before: dt.datetime | None = None, not_after: dt.datetime | None = None,
          hash_alg: SigningHash | None = None) -> Issued:
    """A server certificate for ``names`` (DNS names or IP addresses); self-signed when ``ca`` is None."""
    key = key or new_key("ec", 256)
    now = clock.now()
    sans: list[x509.GeneralName] = []
    for n in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            sans.append(x509.DNSName(n))
    subject = _name(names[0])
    issuer_name = ca.cert.subject if ca else subject
    signing_key = ca.key if ca else key
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before or now - dt.timedelta(days=1))
               .not_valid_after(not_after or now + dt.timedelta(days=365))
               .add_extension(x509.SubjectAlternativeName(sans), critical=False)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
    if ca:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
    return Issued(builder.sign(signing_key, hash_alg or hashes.SHA256()), key)


_SHA256_RSA = bytes.fromhex("06092a864886f70d01010b")  # the OID sha256WithRSAEncryption, DER
_SHA1_RSA = bytes.fromhex("06092a864886f70d010105")  # sha1WithRSAEncryption (same length)


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    length = bytes([n]) if n < 0x80 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes(
        (n.bit_length() + 7) // 8, "big")
    return bytes([tag]) + length + body


def resign_sha1(leaf: Issued, ca: Issued) -> Issued:
    """The same certificate, signed by ``ca``'s RSA key with SHA-1 (which ``cryptography``'s builder refuses):
    the signature algorithm in the to-be-signed part is swapped and the signature made with the RSA primitive,
    so the validity dates stay exactly those of ``leaf`` (the auditor's clock, not the machine's)."""
    assert isinstance(ca.key, rsa.RSAPrivateKey) and _SHA256_RSA in leaf.cert.tbs_certificate_bytes
    tbs = leaf.cert.tbs_certificate_bytes.replace(_SHA256_RSA, _SHA1_RSA, 1)
    signature = ca.key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())
    algorithm = _der(0x30, _SHA1_RSA + b"\x05\x00")
    der = _der(0x30, tbs + algorithm + _der(0x03, b"\x00" + signature))
    return Issued(x509.load_der_x509_certificate(der), leaf.key)
