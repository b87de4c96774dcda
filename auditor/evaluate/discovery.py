"""Judge what discovery saw in a declared network against what the inventory declares there.

An address that answers and that no host declares is ``inventory.undeclared_host`` (on the organisation that owns
the network, with a host entry proposed for the inventory); an open port on a declared host that none of the
systems declaring it lists (approved port or endpoint) is ``inventory.undeclared_service`` (on that system).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from dataclasses import dataclass

from auditor.catalogue.checks import Catalogue
from auditor.evaluate.outcome import Outcome
from auditor.inventory.model import Inventory
from auditor.probes.discovery import DiscoveryObservation
from auditor.probes.nmap_ports import OpenPort
from auditor.vocabulary import Verdict

HOST = "inventory.undeclared_host"
SERVICE = "inventory.undeclared_service"
CHECKS = (HOST, SERVICE)


@dataclass(frozen=True)
class Declared:
    """Who declares an address: (system, host id) pairs, and the TCP ports each declares on it."""

    holders: tuple[tuple[str, str], ...]
    ports: frozenset[int]


def declared_addresses(inv: Inventory) -> tuple[dict[str, Declared], list[tuple[ipaddress.IPv4Network |
                                                                               ipaddress.IPv6Network, Declared]]]:
    """Single addresses, and hosts declared as whole networks."""
    holders: dict[str, list[tuple[str, str]]] = defaultdict(list)
    ports: dict[str, set[int]] = defaultdict(set)
    for s in inv.systems:
        for h in s.hosts:
            holders[h.address].append((s.id, h.id))
            ports[h.address] |= {p.port for p in h.approved_ports if p.protocol == "tcp"}
            ports[h.address] |= {e.port for e in s.endpoints if e.host == h.id}
    single: dict[str, Declared] = {}
    networks = []
    for address, who in holders.items():
        d = Declared(tuple(who), frozenset(ports[address]))
        if "/" in address:
            networks.append((ipaddress.ip_network(address), d))
        else:
            single[address] = d
    return single, networks


def proposed_entry(address: str, zone: str | None, ports: list[OpenPort]) -> str:
    """A host entry to paste under a system's ``hosts:`` once someone says which system it belongs to."""
    lines = [f"- id: host-{address.replace('.', '-').replace(':', '-')}", f"  address: {address}"]
    if zone:
        lines.append(f"  network_zone: {zone}")
    if ports:
        lines.append("  approved_ports: [" + ", ".join(str(p.port) for p in ports) + "]")
    return "\n".join(lines) + "\n"


def evaluate_discovery(obs: DiscoveryObservation, inv: Inventory, catalogue: Catalogue,
                       open_targets: dict[str, set[tuple[str, str]]]) -> list[Outcome]:
    """``open_targets``: the open discovery findings, (check, target) per system or organisation id."""
    t = obs.target
    network = ipaddress.ip_network(t.network)
    single, networks = declared_addresses(inv)
    out: list[Outcome] = []

    def put(check: str, system: str, target: str, verdict: Verdict, **detail: object) -> None:
        out.append(Outcome(check, system, target, verdict, catalogue.get(check).severity, dict(detail)))

    def mine(address: str) -> bool:
        try:
            return ipaddress.ip_address(address) in network
        except ValueError:
            return False

    # the open findings this network could resolve: undeclared hosts in it, undeclared services of hosts in it
    resolvable: set[tuple[str, str, str]] = {(HOST, t.organisation, target) for check, target in
                                              open_targets.get(t.organisation, set()) if check == HOST and mine(target)}
    for address, d in single.items():
        if mine(address):
            for system, host in d.holders:
                resolvable |= {(SERVICE, system, target) for check, target in open_targets.get(system, set())
                               if check == SERVICE and target.startswith(f"{host}:")}
    if not obs.ok:
        for check, system, target in sorted(resolvable):
            put(check, system, target, Verdict.INDETERMINATE, error=obs.error)
        return out
    by_address: dict[str, list[OpenPort]] = defaultdict(list)
    for p in obs.open_ports:
        by_address[p.address].append(p)
    judged: set[tuple[str, str, str]] = set()
    for address in obs.up:
        ports = by_address.get(address, [])
        declared = single.get(address) or next((d for net, d in networks if mine(address) and
                                                ipaddress.ip_address(address) in net), None)
        if declared is None:
            judged.add((HOST, t.organisation, address))
            put(HOST, t.organisation, address, Verdict.FAIL, address=address, network=t.network, zone=t.zone,
                organisation=t.organisation, ports=[f"{p.port}/tcp {p.service}".strip() for p in ports],
                proposed=proposed_entry(address, t.zone, ports))
            continue
        for p in ports:
            if p.port in declared.ports:
                continue
            for system, host in declared.holders:
                target = f"{host}:{p.port}"
                judged.add((SERVICE, system, target))
                put(SERVICE, system, target, Verdict.FAIL, address=address, port=p.port, service=p.service,
                    proposed=f"approved_ports: [{p.port}]  # {host} ({p.service or 'tcp'})")
    for check, system, target in sorted(resolvable - judged):
        put(check, system, target, Verdict.PASS)
    return out
