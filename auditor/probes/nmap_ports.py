"""The port probe: the real nmap binary driven through python-nmap with explicit arguments.

The XML nmap writes for every run is kept as evidence. Only the addresses the plan gives are scanned.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor import safeio
from auditor.catalogue.ports_policy import PortPolicySpec
from auditor.plan import PortTarget
from auditor.wire import WIRE


@dataclass(frozen=True)
class OpenPort:
    __pydantic_config__ = WIRE
    address: str
    port: int
    protocol: str
    service: str
    product: str
    version: str


@dataclass(frozen=True)
class PortObservation:
    __pydantic_config__ = WIRE
    target: PortTarget
    ok: bool
    open_ports: tuple[OpenPort, ...] = ()
    addresses_up: tuple[str, ...] = ()
    error: str | None = None
    evidence: str | None = None
    command: str = ""
    seconds: float = 0.0
    version_detection: bool = False


def nmap_arguments(policy: PortPolicySpec, root: bool | None = None) -> str:
    is_root = os.geteuid() == 0 if root is None else root
    args = ["-sS" if is_root else "-sT", "-Pn", f"-T{policy.timing}", "--host-timeout",
            f"{policy.host_timeout_seconds}s", "--max-retries", "2"]
    if policy.version_detection:
        args += ["-sV", "--version-light"]
    return " ".join(args)


def hosts_up(scanner: Any) -> tuple[list[str], list[OpenPort]]:
    """The addresses nmap found up, and their open TCP ports, from a finished python-nmap scanner."""
    opened: list[OpenPort] = []
    up = []
    for address in scanner.all_hosts():
        host = scanner[address]
        if host.state() != "up":
            continue
        up.append(address)
        for port, data in sorted(host.get("tcp", {}).items()):
            if data.get("state") == "open":
                opened.append(OpenPort(address, int(port), "tcp", data.get("name", ""), data.get("product", ""),
                                       data.get("version", "")))
    return up, opened


def scan_host(target: PortTarget, policy: PortPolicySpec, evidence_dir: Path, run_id: int) -> PortObservation:
    import nmap

    ports = policy.ports
    approved = ",".join(str(p[0]) for p in target.approved if p[1] == "tcp")
    if approved:
        ports = f"{ports},{approved}"
    arguments = nmap_arguments(policy)
    scanner = nmap.PortScanner()
    started = time.monotonic()
    try:
        result = scanner.scan(hosts=target.address, ports=ports, arguments=arguments)
    except nmap.PortScannerError as exc:
        return PortObservation(target, ok=False, error=str(exc).strip()[:500], seconds=time.monotonic() - started,
                               command=f"nmap {arguments} -p {ports} {target.address}")
    seconds = time.monotonic() - started
    xml = scanner.get_nmap_last_output()
    path = safeio.private_dir(evidence_dir) / f"nmap-run{run_id}-{target.system_id}-{target.host_id}.xml"
    safeio.write_bytes(path, xml if isinstance(xml, bytes) else str(xml).encode(), mode=0o600)
    info = result.get("nmap", {})
    stats = info.get("scanstats", {})
    up, opened = hosts_up(scanner)
    timed_out = "timed out" in str(info.get("scaninfo", {})) or (stats.get("uphosts") == "0" and not up)
    if timed_out and not up:
        return PortObservation(target, ok=False, error=f"no host answered ({stats})", evidence=str(path),
                               command=info.get("command_line", ""), seconds=seconds)
    return PortObservation(target, ok=True, open_ports=tuple(opened), addresses_up=tuple(up), evidence=str(path),
                           command=info.get("command_line", ""), seconds=seconds,
                           version_detection=policy.version_detection)
