"""What a dossier decision's signature covers, and the Ed25519 signatures of earlier versions (their officers held
raw keys; officers now sign with certificates, see :mod:`auditor.identity`): kept so those stay verifiable."""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from auditor.ledger.chain import canonical


def decision_digest(snapshot: dict[str, Any], decision: dict[str, Any]) -> bytes:
    """SHA-256 of the canonical form of the frozen dossier snapshot plus the decision: what is signed."""
    return hashlib.sha256(canonical({"snapshot": snapshot, "decision": decision})).digest()


def verify_signature(public_hex: str, signature_hex: str, digest: bytes) -> bool:
    """Whether an Ed25519 signature of an earlier version verifies with the key its ledger registered."""
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(bytes.fromhex(signature_hex), digest)
        return True
    except (InvalidSignature, ValueError):
        return False
