"""The plan: what to check, derived only from what the inventory declares (nothing else is ever touched)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from auditor.i18n import _
from auditor.inventory.model import Inventory
from auditor.problems import UserError
from auditor.vocabulary import Lifecycle
from auditor.wire import WIRE

STARTTLS = {"smtp": "SMTP", "submission": "SMTP", "imap": "IMAP", "pop3": "POP3", "ldap": "LDAP", "ftp": "FTP",
            "xmpp": "XMPP", "postgres": "POSTGRES", "rdp": "RDP"}


@dataclass(frozen=True)
class TlsTarget:
    __pydantic_config__ = WIRE
    system_id: str
    host_id: str
    address: str
    port: int
    protocol: str
    server_name: str | None
    ca_bundle: str | None

    @property
    def label(self) -> str:
        return f"{self.host_id}:{self.port}"

    @property
    def name_to_check(self) -> str:
        """The name clients reach the endpoint by: the declared server name, else the address."""
        return self.server_name or self.address

    @property
    def is_web(self) -> bool:
        return self.protocol == "https"

    @property
    def starttls(self) -> str | None:
        return STARTTLS.get(self.protocol)


def _single_address(address: str) -> bool:
    try:
        ipaddress.ip_network(address, strict=False)
    except ValueError:
        return True  # a host name
    return "/" not in address


def tls_targets(inv: Inventory, workspace: Path, systems: set[str] | None = None) -> list[TlsTarget]:
    targets = []
    for s in inv.systems:
        if systems is not None and s.id not in systems:
            continue
        if s.lifecycle is Lifecycle.RETIRED:
            continue
        hosts = {h.id: h for h in s.hosts}
        for e in s.endpoints:
            host = hosts[e.host]
            if not e.tls or not _single_address(host.address):
                continue
            targets.append(TlsTarget(s.id, host.id, host.address, e.port, e.protocol, e.server_name,
                                     str((workspace / e.ca_bundle).resolve()) if e.ca_bundle else None))
    return targets


@dataclass(frozen=True)
class PortTarget:
    __pydantic_config__ = WIRE
    system_id: str
    host_id: str
    address: str  # an address, a host name, or a network in CIDR form
    exposure: str
    approved: tuple[tuple[int, str, str | None, str | None], ...]  # (port, protocol, service, product)

    @property
    def label(self) -> str:
        return self.host_id


class PlanError(UserError):
    """The plan would touch more than the profile allows."""


def port_targets(inv: Inventory, systems: set[str] | None, max_addresses: dict[str, int]) -> list[PortTarget]:
    """Every declared host of the systems in service; a network larger than its system's limit is refused."""
    out = []
    for s in inv.systems:
        if (systems is not None and s.id not in systems) or s.lifecycle is Lifecycle.RETIRED:
            continue
        for h in s.hosts:
            try:
                size = ipaddress.ip_network(h.address, strict=False).num_addresses
            except ValueError:
                size = 1  # a host name
            limit = max_addresses.get(s.id, 256)
            if size > limit:
                raise PlanError(_("{system}/{host}: the network {address} has {size} addresses; the profile allows "
                                  "at most {limit} per host entry").format(system=s.id, host=h.id, address=h.address,
                                                                           size=size, limit=limit))
            out.append(PortTarget(s.id, h.id, h.address, h.exposure,
                                  tuple((p.port, p.protocol, p.service, p.product) for p in h.approved_ports)))
    return out
