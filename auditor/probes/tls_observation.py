"""What the TLS probe saw, as plain picklable data (it crosses from the child process)."""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.plan import TlsTarget
from auditor.wire import WIRE

VERSIONS = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")


@dataclass(frozen=True)
class AcceptedSuite:
    __pydantic_config__ = WIRE
    version: str
    name: str
    ephemeral: bool
    anonymous: bool
    key_size: int


@dataclass(frozen=True)
class TlsObservation:
    __pydantic_config__ = WIRE
    target: TlsTarget
    reachable: bool
    speaks_tls: bool
    connectivity_error: str | None = None
    answers_tls: bool | None = None  # when no handshake succeeded: did it at least answer in TLS records?
    chain_pem: tuple[bytes, ...] = ()
    versions_probed: tuple[str, ...] = ()
    accepted: tuple[AcceptedSuite, ...] = ()
    hsts_header_seen: bool | None = None
    hsts_max_age: int | None = None
    heartbleed: bool | None = None
    ccs_injection: bool | None = None
    robot: str | None = None
    secure_renegotiation: bool | None = None
    compression: bool | None = None
    errors: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def accepted_versions(self) -> set[str]:
        return {s.version for s in self.accepted}
