"""Signed messages between the central server and its agents: an Ed25519 signature over the exact bytes of a
canonical JSON body, checked before the body is parsed.

Each agent has its own key (made on the agent's machine; only its public half is registered centrally); the
central server has one key, with which it signs every task, so that whoever can write to the broker still cannot
make an agent probe anything.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from auditor import safeio
from auditor.i18n import _
from auditor.ledger.chain import canonical
from auditor.problems import UserError

MAX_MESSAGE_BYTES = 32 * 1024 * 1024  # a result of 1,000 endpoints with their chains is about 6 MB
MAX_KEY_BYTES = 4096


class SignatureError(UserError):
    """A message whose signature does not verify, or that is not a signed message at all."""


def new_key(path: Path) -> str:
    """Make a private key at ``path`` (0600, never over an existing file); its public half, in hex."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    if path.exists() or path.is_symlink():
        raise UserError(_("{path} already exists; a key is never overwritten").format(path=path))
    safeio.write_bytes(path, pem, mode=0o600)
    return public_hex(key)


def load_key(path: Path) -> Ed25519PrivateKey:
    raw = safeio.read_bytes(path, max_bytes=MAX_KEY_BYTES)
    if os.stat(path).st_mode & 0o077:
        raise UserError(_("{path} can be read by others; make it private (chmod 600)").format(path=path))
    try:
        key = serialization.load_pem_private_key(raw, password=None)
    except ValueError:
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise UserError(_("{path} is not an Ed25519 private key").format(path=path))
    return key


def public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def parse_public(text: str) -> Ed25519PublicKey:
    try:
        raw = bytes.fromhex(text.strip())
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise UserError(_("not an Ed25519 public key (64 hexadecimal digits): {text!r}").format(
            text=text[:80])) from None


def sign(key: Ed25519PrivateKey, signer: str, body: dict[str, Any]) -> dict[str, str]:
    text = canonical(body)
    return {"signer": signer, "body": text.decode(), "signature": key.sign(text).hex()}


def signer_of(envelope: Any) -> str:
    """Who says they signed it (to find the key to check it with); nothing else of it is trusted yet."""
    if not isinstance(envelope, dict) or set(envelope) != {"signer", "body", "signature"} \
            or not all(isinstance(v, str) for v in envelope.values()):
        raise SignatureError(_("not a signed message"))
    if len(envelope["body"]) > MAX_MESSAGE_BYTES:
        raise SignatureError(_("the message is larger than {limit} bytes").format(limit=MAX_MESSAGE_BYTES))
    return str(envelope["signer"])


def open_signed(envelope: Any, key: Ed25519PublicKey) -> Any:
    """The body of a message signed with ``key``, parsed only once its signature verifies."""
    signer_of(envelope)
    text = envelope["body"].encode()
    try:
        key.verify(bytes.fromhex(envelope["signature"]), text)
    except (InvalidSignature, ValueError):
        raise SignatureError(_("the signature of the message from {signer!r} does not verify").format(
            signer=envelope["signer"][:64])) from None
    return json.loads(text)
