"""What goes over the queue, as schemas: a task the central server signs, a result the agent signs.

A task names the targets themselves (never "scan zone X"): the agent probes exactly those, after checking each is
inside the networks its own configuration allows. A result returns the observations in the task's order; the
central server pairs them with its own targets by position, so an agent cannot relabel what it saw.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from auditor.catalogue.ports_policy import DiscoverySettings, PortPolicySpec
from auditor.catalogue.tls_policy import ProbeSettings
from auditor.inventory.types import ID_PATTERN
from auditor.plan import PortTarget, TlsTarget
from auditor.probes.discovery import DiscoveryObservation, DiscoveryTarget
from auditor.probes.nmap_ports import PortObservation
from auditor.probes.tls_observation import TlsObservation

TASK_NAME = "auditor.agent.probe"
UUID = r"^[0-9a-f]{32}$"
MAX_TARGETS = 5000  # per task; the central plan splits a zone's targets into tasks of at most this many
MAX_EVIDENCE = 4 * 1024 * 1024  # characters of nmap XML per target
PACKAGE_HOSTS_PER_TASK = 10  # a host's package list can be a few MB: fewer hosts per task

Family = Literal["tls", "ports", "discover", "patch"]


class Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PackageTarget(Wire):
    """A host whose packages the agent collects over SSH, with the host key pinned from the inventory (the SSH
    private key is the agent's own, never sent)."""

    system_id: str = Field(pattern=ID_PATTERN)
    host_id: str = Field(pattern=ID_PATTERN)
    address: str = Field(min_length=1, max_length=255)
    port: int = Field(ge=1, le=65535)
    user: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
    host_key: str = Field(min_length=16, max_length=16384, pattern=r"^[A-Za-z0-9@.-]+ [A-Za-z0-9+/=]+( .*)?$")


class PackageObservation(Wire):
    """What the agent collected (the format of 'auditor agent collect', checked centrally), or why it could not."""

    packages: dict[str, Any] | None = None
    error: str | None = Field(default=None, max_length=2000)


class ProbeTask(Wire):
    task_id: str = Field(pattern=UUID)
    zone: str = Field(pattern=ID_PATTERN)
    family: Family
    issued_at: dt.datetime
    expires_at: dt.datetime  # an agent refuses a task older than this (a replayed message)
    tls: list[TlsTarget] = Field(default_factory=list, max_length=MAX_TARGETS)
    tls_settings: ProbeSettings | None = None
    ports: list[tuple[PortTarget, PortPolicySpec]] = Field(default_factory=list, max_length=MAX_TARGETS)
    networks: list[DiscoveryTarget] = Field(default_factory=list, max_length=MAX_TARGETS)
    discovery: DiscoverySettings | None = None
    packages: list[PackageTarget] = Field(default_factory=list, max_length=PACKAGE_HOSTS_PER_TASK)

    @property
    def size(self) -> int:
        return len(self.tls) + len(self.ports) + len(self.networks) + len(self.packages)


class ProbeResult(Wire):
    task_id: str = Field(pattern=UUID)
    agent: str = Field(pattern=ID_PATTERN)
    zone: str = Field(pattern=ID_PATTERN)
    finished_at: dt.datetime
    refused: str | None = None  # why the agent would not run the task (nothing was probed)
    tls: list[TlsObservation] = Field(default_factory=list, max_length=MAX_TARGETS)
    ports: list[PortObservation] = Field(default_factory=list, max_length=MAX_TARGETS)
    discovered: list[DiscoveryObservation] = Field(default_factory=list, max_length=MAX_TARGETS)
    packages: list[PackageObservation] = Field(default_factory=list, max_length=PACKAGE_HOSTS_PER_TASK)
    evidence: list[str | None] = Field(default_factory=list, max_length=MAX_TARGETS)  # nmap XML, in target order

    @property
    def size(self) -> int:
        return len(self.tls) + len(self.ports) + len(self.discovered) + len(self.packages)
