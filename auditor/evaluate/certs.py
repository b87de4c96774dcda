"""Certificate judgements, each on its own: trust path, host name, validity dates, key, signature hash.

sslyze's own path validation (cryptography's web PKI verifier) folds the host name, the dates and the
key and hash policy into one failure; we judge them apart so that each cause is one finding.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from auditor import safeio
from auditor.problems import InputError

MAX_BUNDLE_BYTES = 16 << 20  # Debian's whole bundle is 0.2 MB
SYSTEM_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")


@lru_cache(maxsize=32)
def load_anchors(path: str) -> tuple[x509.Certificate, ...]:
    try:
        with warnings.catch_warnings():  # some distribution roots have non-positive serial numbers
            warnings.simplefilter("ignore")
            return tuple(x509.load_pem_x509_certificates(safeio.read_bytes(Path(path), max_bytes=MAX_BUNDLE_BYTES)))
    except (OSError, ValueError, InputError):
        return ()


def system_anchors() -> tuple[x509.Certificate, ...]:
    for p in SYSTEM_BUNDLES:
        if Path(p).is_file():
            return load_anchors(p)
    return ()


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Is ``cert`` signed by ``issuer``'s key? Checked with the primitives, so that SHA-1 and MD5
    signatures can still be verified (and reported by the weak-signature check, not as untrusted)."""
    if cert.issuer != issuer.subject:
        return False
    key = issuer.public_key()
    alg = cert.signature_hash_algorithm
    try:
        if isinstance(key, rsa.RSAPublicKey) and alg is not None:
            key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), alg)
        elif isinstance(key, ec.EllipticCurvePublicKey) and alg is not None:
            key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(alg))
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes)
        elif isinstance(key, dsa.DSAPublicKey) and alg is not None:
            key.verify(cert.signature, cert.tbs_certificate_bytes, alg)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return cert.version == x509.Version.v1


@dataclass(frozen=True)
class Anchors:
    """A trust store indexed for path building: its certificates' DER, and the certificates by subject."""

    der: frozenset[bytes]
    by_subject: dict[x509.Name, tuple[x509.Certificate, ...]]

    @classmethod
    def of(cls, certificates: Iterable[x509.Certificate]) -> Anchors:
        by_subject: dict[x509.Name, list[x509.Certificate]] = {}
        for a in certificates:
            by_subject.setdefault(a.subject, []).append(a)
        return cls(frozenset(a.public_bytes(Encoding.DER) for lst in by_subject.values() for a in lst),
                   {k: tuple(v) for k, v in by_subject.items()})


@lru_cache(maxsize=32)
def trust_store(ca_bundle: str | None) -> Anchors:
    """The system's anchors, plus those of a workspace's CA bundle: indexed once per run, not per endpoint."""
    return Anchors.of([*system_anchors(), *(load_anchors(ca_bundle) if ca_bundle else ())])


@lru_cache(maxsize=4096)
def pem_chain_is_trusted(chain_pem: tuple[bytes, ...], ca_bundle: str | None) -> bool:
    """:func:`chain_is_trusted` for a chain as the probe saw it, judged once per chain and trust store: the
    endpoints of a province mostly present a handful of chains, and building a path verifies signatures."""
    return chain_is_trusted([x509.load_pem_x509_certificate(p) for p in chain_pem], trust_store(ca_bundle))


def chain_is_trusted(chain: list[x509.Certificate], anchors: Anchors | Iterable[x509.Certificate]) -> bool:
    """Can a path be built from the leaf, through the certificates the server sent, to an anchor?

    Dates, names, key sizes and hash algorithms are judged by the other checks, not here.
    """
    index = anchors if isinstance(anchors, Anchors) else Anchors.of(anchors)
    current = chain[0]
    pool = list(chain[1:])
    for _depth in range(10):
        if current.public_bytes(Encoding.DER) in index.der:
            return True
        if any(_issued_by(current, a) for a in index.by_subject.get(current.issuer, ())):
            return True
        nxt = next((c for c in pool if c.subject == current.issuer and _is_ca(c) and _issued_by(current, c)), None)
        if nxt is None:
            return False
        pool.remove(nxt)
        current = nxt
    return False


def _dns_match(pattern: str, name: str) -> bool:
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _dot, rest = name.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == name


def covers_name(cert: x509.Certificate, name: str) -> bool:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return any(_dns_match(p, name) for p in san.get_values_for_type(x509.DNSName))
    return ip in san.get_values_for_type(x509.IPAddress)


@dataclass(frozen=True)
class KeyInfo:
    kind: str
    bits: int


def key_info(cert: x509.Certificate) -> KeyInfo:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return KeyInfo("RSA", key.key_size)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return KeyInfo("EC", key.curve.key_size)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return KeyInfo("Ed25519", 256)
    if isinstance(key, ed448.Ed448PublicKey):
        return KeyInfo("Ed448", 448)
    if isinstance(key, dsa.DSAPublicKey):
        return KeyInfo("DSA", key.key_size)
    return KeyInfo(type(key).__name__, 0)


def weak_hash(cert: x509.Certificate) -> str | None:
    alg = cert.signature_hash_algorithm
    if isinstance(alg, hashes.SHA1 | hashes.MD5):
        return alg.name
    return None


def validity(cert: x509.Certificate, now: dt.datetime) -> tuple[dt.datetime, dt.datetime, int]:
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    return not_before, not_after, (not_after - now).days


def is_self_signed(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject and _issued_by(cert, cert)
