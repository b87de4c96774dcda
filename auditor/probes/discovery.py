"""Discovery: nmap host discovery and a top-ports scan of one declared network, to find what nobody declared.

Only a network an organisation declares it owns is given to nmap, and only when it is no larger than the policy
allows; nmap is told the network in CIDR form and nothing else.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from auditor import safeio
from auditor.catalogue.ports_policy import DiscoverySettings
from auditor.probes.nmap_ports import OpenPort, hosts_up
from auditor.wire import WIRE


@dataclass(frozen=True)
class DiscoveryTarget:
    organisation: str
    zone: str | None  # None: the central server's own reach
    network: str  # CIDR

    __pydantic_config__ = WIRE

    @property
    def label(self) -> str:
        return f"{self.organisation}/{self.network}"


@dataclass(frozen=True)
class DiscoveryObservation:
    target: DiscoveryTarget
    ok: bool
    up: tuple[str, ...] = ()
    open_ports: tuple[OpenPort, ...] = ()
    error: str | None = None
    command: str = ""
    seconds: float = 0.0
    evidence: str | None = None  # where the nmap XML is kept

    __pydantic_config__ = WIRE


def discovery_arguments(settings: DiscoverySettings) -> str:
    scan = "-sS" if os.geteuid() == 0 else "-sT"
    return (f"{scan} -T{settings.timing} --top-ports {settings.top_ports} --max-retries 1 "
            f"--host-timeout {settings.host_timeout_seconds}s")


def discover(target: DiscoveryTarget, settings: DiscoverySettings, evidence_dir: Path, run_id: int) -> DiscoveryObservation:
    """Hosts up in the network and their open ports (nmap's own host discovery first: ARP on a local link, else
    ICMP and TCP probes)."""
    import nmap

    arguments = discovery_arguments(settings)
    scanner = nmap.PortScanner()
    started = time.monotonic()
    try:
        scanner.scan(hosts=target.network, arguments=arguments)
    except nmap.PortScannerError as exc:
        return DiscoveryObservation(target, ok=False, error=str(exc).strip()[:500], seconds=time.monotonic() - started,
                                    command=f"nmap {arguments} {target.network}")
    seconds = time.monotonic() - started
    xml = scanner.get_nmap_last_output()
    name = f"discovery-run{run_id}-{target.organisation}-{target.network.replace('/', '_')}.xml"
    path = safeio.private_dir(evidence_dir) / name
    safeio.write_bytes(path, xml if isinstance(xml, bytes) else str(xml).encode(), mode=0o600)
    up, opened = hosts_up(scanner)
    return DiscoveryObservation(target, ok=True, up=tuple(up), open_ports=tuple(opened),
                                command=scanner.command_line(), seconds=seconds, evidence=str(path))
