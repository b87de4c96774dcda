"""The officer's signing key: in a PKCS#12 file with its passphrase, or on a PKCS#11 token (the USB tokens state
bodies sign with; SoftHSM2 in the tests) with its PIN. The same signer signs the ledger's decisions and the PDFs."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from auditor.i18n import _
from auditor.identity.trust import IdentityError

MAX_P12_BYTES = 1 << 20  # a PKCS#12 file holds a key and a few certificates: a few kilobytes


@dataclass(frozen=True)
class TokenSpec:
    """Where a key on a PKCS#11 token is: the module, the token's label, the key's label, and the PIN."""

    library: Path
    token: str
    key_label: str
    pin: str
    cert_label: str | None = None


@dataclass
class CertSigner:
    """A certificate with the key that signs for it."""

    certificate: x509.Certificate
    chain: list[x509.Certificate]
    pdf: Any  # pyhanko.sign.signers.Signer

    def sign(self, data: bytes) -> bytes:
        """A signature over ``data`` with SHA-256 (PKCS#1 v1.5 for RSA, ECDSA for EC keys)."""
        result: bytes = asyncio.run(self.pdf.async_sign_raw(data, "sha256"))
        return result


def _x509(cert: Any) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


@contextmanager
def open_signer(*, p12: Path | None = None, passphrase: str | None = None, p12_data: bytes | None = None,
                token: TokenSpec | None = None) -> Iterator[CertSigner]:
    """The signer of a PKCS#12 file (or its bytes, as uploaded to the console; never stored) or of a key on a token
    (the session is closed at the end)."""
    from pyhanko.sign import signers

    if p12 is not None or p12_data is not None:
        if p12_data is not None:
            data, p12 = p12_data, Path("PKCS#12")
        else:
            assert p12 is not None
            from auditor import safeio
            from auditor.problems import InputError

            try:
                data = safeio.read_bytes(p12, max_bytes=MAX_P12_BYTES)  # a pipe or /dev/zero is refused unread
            except InputError as exc:
                raise IdentityError(exc.problems[0].message if exc.problems else str(exc)) from None
        try:
            signer = signers.SimpleSigner.load_pkcs12_data(data, other_certs=[],
                                                           passphrase=(passphrase or "").encode())
        except (ValueError, TypeError):
            signer = None
        if signer is None or signer.signing_cert is None:
            raise IdentityError(_("cannot open {file}: wrong passphrase or not a PKCS#12 file").format(file=p12))
        cert = _x509(signer.signing_cert)
        chain = [_x509(c) for c in signer.cert_registry if _x509(c) != cert]
        yield CertSigner(cert, chain, signer)
        return
    if token is None:
        raise IdentityError(_("say which key signs: a PKCS#12 file (--p12) or a token (--pkcs11-lib, --token, "
                              "--key-label)"))
    from pkcs11.exceptions import PKCS11Error
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

    try:
        session = open_pkcs11_session(str(token.library), token_criteria=TokenCriteria(label=token.token),
                                      user_pin=token.pin)
    except (PKCS11Error, OSError, RuntimeError) as exc:
        raise IdentityError(_("cannot open the token {token}: {error}").format(token=token.token,
                                                                               error=type(exc).__name__)) from None
    try:
        # hashing in software and signing the digest on the token works with every token's ECDSA and RSA
        signer = PKCS11Signer(session, cert_label=token.cert_label or token.key_label, key_label=token.key_label,
                              use_raw_mechanism=True)
        try:
            cert = _x509(signer.signing_cert)
        except (PKCS11Error, AttributeError) as exc:
            raise IdentityError(_("no certificate {label} on the token {token}: {error}").format(
                label=token.cert_label or token.key_label, token=token.token, error=type(exc).__name__)) from None
        chain = [_x509(c) for c in signer.cert_registry if _x509(c) != cert]
        yield CertSigner(cert, chain, signer)
    finally:
        session.close()


def signature_block(signer: CertSigner, digest: bytes) -> dict[str, Any]:
    """What a ledger entry keeps of a certified signature over ``digest``: the certificate and its chain too."""
    return {"type": "x509", "certificate": b64_der(signer.certificate), "chain": [b64_der(c) for c in signer.chain],
            "digest": digest.hex(), "signature": signer.sign(digest).hex()}


def b64_der(cert: x509.Certificate) -> str:
    from cryptography.hazmat.primitives import serialization

    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def verify_raw(cert: x509.Certificate, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` over ``data`` was made with the key of ``cert`` (as :meth:`CertSigner.sign` makes it)."""
    key = cert.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True
