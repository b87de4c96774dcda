"""Checks that need the whole inventory: unique ids, references, roles, dates and files.

The id and reference checks read the raw document, so that they are reported in the same run as type
errors elsewhere in the file; the date checks need the validated model.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from auditor.i18n import _
from auditor.inventory.model import Inventory, System
from auditor.problems import Problem
from auditor.vocabulary import Lifecycle
from auditor.yamlsafe import LoadedYaml, Path_


def _items(value: Any) -> list[tuple[int, dict[str, Any]]]:
    return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)] if isinstance(value, list) else []


def _duplicates(ids: Iterable[tuple[Path_, Any]], loaded: LoadedYaml, what: str) -> list[Problem]:
    seen: dict[str, Path_] = {}
    out = []
    for path, value in ids:
        if not isinstance(value, str | int):
            continue
        key = str(value)
        if key in seen:
            first, here = loaded.problem(seen[key], ""), loaded.problem(path, "")
            if first.file == here.file:
                message = _("duplicate {what} {value!r} (first at line {line})").format(what=what, value=key,
                                                                                    line=first.line)
            else:  # an id declared in inventory.yaml and again in a file of inventory.d/
                message = _("duplicate {what} {value!r} (first at {file}:{line})").format(
                    what=what, value=key, file=first.file, line=first.line)
            out.append(loaded.problem(path, message))
        else:
            seen[key] = path
    return out


def _port_label(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value}/tcp"
    if isinstance(value, str):
        number, _sep, proto = value.strip().partition("/")
        return f"{number.strip()}/{(proto.strip() or 'tcp').lower()}"
    if isinstance(value, dict):
        return f"{value.get('port')}/{value.get('protocol', 'tcp')}"
    return None


def check_references(data: dict[str, Any], loaded: LoadedYaml, workspace: Path) -> list[Problem]:
    p: list[Problem] = []
    orgs = _items(data.get("organisations"))
    systems = _items(data.get("systems"))
    roles: dict[Any, list[Any]] = {o.get("id"): r if isinstance(r := o.get("roles"), list) else [] for _i, o in orgs}
    p += _duplicates(((("organisations", i, "id"), o.get("id")) for i, o in orgs), loaded, _("organisation id"))
    p += _duplicates(((("systems", i, "id"), s.get("id")) for i, s in systems), loaded, _("system id"))

    def ref(path: Path_, value: Any, role: str | None = None) -> None:
        if not isinstance(value, str):
            return
        if value not in roles:
            p.append(loaded.problem(path, _("unknown organisation {ref!r}").format(ref=value)))
        elif role is not None and role not in roles[value]:
            p.append(loaded.problem(path, _("organisation {ref!r} does not have the role {role!r}")
                                    .format(ref=value, role=role)))

    for i, org in orgs:
        ref(("organisations", i, "parent"), org.get("parent"))
    p += _zone_references(data, orgs, systems, loaded)
    for i, s in systems:
        base: Path_ = ("systems", i)
        for field in ("owner", "operator", "security_unit"):
            ref((*base, field), s.get(field), field)
        for j, c in _items(s.get("contacts")):
            ref((*base, "contacts", j, "organisation"), c.get("organisation"))
        hosts = _items(s.get("hosts"))
        p += _duplicates((((*base, "hosts", j, "id"), h.get("id")) for j, h in hosts), loaded, _("host id"))
        host_ids = {h.get("id") for _j, h in hosts}
        for j, h in hosts:
            ports = h.get("approved_ports")
            if isinstance(ports, list):
                p += _duplicates((((*base, "hosts", j, "approved_ports", k), _port_label(v))
                                  for k, v in enumerate(ports)), loaded, _("approved port"))
            patch = h.get("patch")
            if isinstance(patch, dict) and isinstance(patch.get("identity_file"), str) \
                    and not (workspace / patch["identity_file"]).is_file():
                p.append(loaded.problem((*base, "hosts", j, "patch", "identity_file"),
                                        _("file not found: {path}").format(path=patch["identity_file"])))
        endpoints = _items(s.get("endpoints"))
        p += _duplicates((((*base, "endpoints", j), f"{e.get('host')}:{e.get('port')}") for j, e in endpoints),
                         loaded, _("endpoint"))
        for j, e in endpoints:
            if isinstance(e.get("host"), str) and e["host"] not in host_ids:
                p.append(loaded.problem((*base, "endpoints", j, "host"), _("unknown host {ref!r} in system {system!r}")
                                        .format(ref=e["host"], system=s.get("id"))))
            if isinstance(e.get("ca_bundle"), str) and not (workspace / e["ca_bundle"]).is_file():
                p.append(loaded.problem((*base, "endpoints", j, "ca_bundle"),
                                        _("file not found: {path}").format(path=e["ca_bundle"])))
    return p


def _zone_references(data: dict[str, Any], orgs: list[tuple[int, dict[str, Any]]],
                     systems: list[tuple[int, dict[str, Any]]], loaded: LoadedYaml) -> list[Problem]:
    """Network zones: unique ids, known where named, and no address in the networks of two zones (a host there
    could not say which agent probes it)."""
    zones = _items(data.get("network_zones"))
    p = _duplicates(((("network_zones", i, "id"), z.get("id")) for i, z in zones), loaded, _("network zone id"))
    known = {z.get("id") for _i, z in zones}

    def zone(path: Path_, value: Any) -> None:
        if isinstance(value, str) and value not in known:
            p.append(loaded.problem(path, _("unknown network zone {ref!r} (declare it under network_zones)")
                                    .format(ref=value)))

    seen: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, Any, Path_]] = []
    for i, org in orgs:
        for j, n in _items(org.get("networks")):
            path: Path_ = ("organisations", i, "networks", j)
            zone((*path, "zone"), n.get("zone"))
            try:
                net = ipaddress.ip_network(str(n.get("cidr")), strict=True)
            except ValueError:
                continue  # the model says what is wrong with it
            for other, _zone, where in seen:
                if other.version == net.version and net.overlaps(other):
                    first = loaded.problem(where, "")
                    p.append(loaded.problem((*path, "cidr"), _(
                        "{net} overlaps {other} declared at {file}:{line}; a network belongs to one organisation "
                        "and one zone").format(net=net, other=other, file=first.file, line=first.line)))
                    break
            seen.append((net, n.get("zone"), path))
    for i, s in systems:
        for j, h in _items(s.get("hosts")):
            path = ("systems", i, "hosts", j, "network_zone")
            zone(path, h.get("network_zone"))
            declared = h.get("network_zone")
            try:
                mine = ipaddress.ip_network(str(h.get("address")), strict=False)
            except ValueError:
                continue
            holders = [(z, net) for net, z, _w in seen if net.version == mine.version
                       and mine.subnet_of(net)]  # type: ignore[arg-type]
            if isinstance(declared, str) and holders and holders[0][0] != declared:
                p.append(loaded.problem(path, _("the address {address} is in {net}, a network of zone {zone!r}")
                                        .format(address=mine, net=holders[0][1], zone=holders[0][0])))
            elif isinstance(declared, str) and declared in known and not holders:
                p.append(loaded.problem(path, _("the address {address} is in no network declared for zone {zone!r}; "
                                                "its agent may probe only those").format(address=mine, zone=declared)))
    return p


def check_dates(inv: Inventory, loaded: LoadedYaml, today: dt.date) -> list[Problem]:
    p: list[Problem] = []
    for i, s in enumerate(inv.systems):
        p += _system_dates(s, ("systems", i), loaded, today)
    return p


def _system_dates(s: System, base: Path_, loaded: LoadedYaml, today: dt.date) -> list[Problem]:
    p = []
    if (s.lifecycle.in_service or s.lifecycle is Lifecycle.RETIRED) and s.go_live is None:
        p.append(loaded.problem((*base, "go_live"), _("a system that is {state} needs its go-live date")
                                .format(state=s.lifecycle)))
    if s.lifecycle.in_service and s.go_live is not None and s.go_live > today:
        p.append(loaded.problem((*base, "go_live"),
                                _("go-live date {date} is in the future for a system that is {state}")
                                .format(date=s.go_live.isoformat(), state=s.lifecycle)))
    if s.lifecycle is Lifecycle.RETIRED and s.retired_on is None:
        p.append(loaded.problem((*base, "retired_on"), _("a retired system needs its retirement date")))
    if s.retired_on is not None and s.lifecycle is not Lifecycle.RETIRED:
        p.append(loaded.problem((*base, "retired_on"), _("only a retired system has a retirement date")))
    if s.retired_on is not None and s.go_live is not None and s.retired_on < s.go_live:
        p.append(loaded.problem((*base, "retired_on"), _("retired on {retired} before going live on {live}")
                                .format(retired=s.retired_on.isoformat(), live=s.go_live.isoformat())))
    if s.retired_on is not None and s.retired_on > today:
        p.append(loaded.problem((*base, "retired_on"), _("retirement date {date} is in the future")
                                .format(date=s.retired_on.isoformat())))
    return p
