"""Officers' Ed25519 keys: private keys in passphrase-encrypted files, public keys in the store."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from auditor.i18n import _
from auditor.ledger.chain import canonical
from auditor.problems import UserError

ENV_PASSPHRASE = "AUDITOR_KEY_PASSPHRASE"
MIN_PASSPHRASE = 8


class KeyError_(UserError):
    """A key cannot be made, read or used; the message says why (exit code 2)."""


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public_hex: str) -> str:
    return "SHA256:" + hashlib.sha256(bytes.fromhex(public_hex)).hexdigest()[:32]


def write_new_key(path: Path, passphrase: str) -> str:
    """Create a key pair, write the encrypted private key to ``path`` (mode 600); return the public key hex."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise KeyError_(_("the passphrase must have at least {n} characters").format(n=MIN_PASSPHRASE))
    if path.exists():
        raise KeyError_(_("{path} exists already; choose another file").format(path=path))
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(passphrase.encode()))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return raw_public(key.public_key()).hex()


def load_private(path: Path, passphrase: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), passphrase.encode())
    except FileNotFoundError:
        raise KeyError_(_("key file not found: {path}").format(path=path)) from None
    except (ValueError, TypeError):
        raise KeyError_(_("cannot open {path}: wrong passphrase or not a key file").format(path=path)) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyError_(_("{path} is not an Ed25519 key").format(path=path))
    return key


def decision_digest(snapshot: dict[str, Any], decision: dict[str, Any]) -> bytes:
    """SHA-256 of the canonical form of the frozen dossier snapshot plus the decision: what is signed."""
    return hashlib.sha256(canonical({"snapshot": snapshot, "decision": decision})).digest()


@dataclass(frozen=True)
class Signature:
    key_name: str
    fingerprint: str
    digest: str
    signature: str

    def as_json(self) -> dict[str, str]:
        return {"key": self.key_name, "fingerprint": self.fingerprint, "digest": self.digest,
                "signature": self.signature}


def sign(key: Ed25519PrivateKey, key_name: str, snapshot: dict[str, Any], decision: dict[str, Any]) -> Signature:
    digest = decision_digest(snapshot, decision)
    public_hex = raw_public(key.public_key()).hex()
    return Signature(key_name, fingerprint(public_hex), digest.hex(), key.sign(digest).hex())


def verify_signature(public_hex: str, signature_hex: str, digest: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(bytes.fromhex(signature_hex), digest)
        return True
    except (InvalidSignature, ValueError):
        return False


def passphrase_from(file: Path | None, prompt: bool, confirm: bool = False) -> str:
    """The passphrase from a file, the environment, or (interactive use) a hidden prompt."""
    if file is not None:
        try:
            return file.read_text(encoding="utf-8").rstrip("\n")
        except OSError as exc:
            raise KeyError_(_("cannot read the passphrase file: {error}").format(error=exc.strerror)) from None
    if os.environ.get(ENV_PASSPHRASE):
        return os.environ[ENV_PASSPHRASE]
    if not prompt:
        raise KeyError_(_("no passphrase: use --passphrase-file or set {env}").format(env=ENV_PASSPHRASE))
    import typer

    return str(typer.prompt(_("Passphrase"), hide_input=True, confirmation_prompt=confirm))
