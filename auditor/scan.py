"""A scan run: plan → probes → evaluation → findings, stored in one transaction at the end.

A run that is killed or fails leaves its run row (status running or failed) and no findings at all.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func as sa_func
from sqlalchemy import insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from auditor import clock, safeio
from auditor.agents.remote import Remote, Zones
from auditor.agents.wire import PackageTarget
from auditor.catalogue.checks import Catalogue, load_catalogue
from auditor.catalogue.patch_policy import load_patch_policy
from auditor.catalogue.ports_policy import load_port_policies
from auditor.catalogue.tls_policy import load_tls_policies
from auditor.evaluate.discovery import CHECKS as DISCOVERY_CHECKS
from auditor.evaluate.discovery import evaluate_discovery
from auditor.evaluate.outcome import Outcome
from auditor.evaluate.patch import PATCH_CHECKS, Advisory, evaluate_patch
from auditor.evaluate.ports import PORT_CHECKS, evaluate_ports
from auditor.evaluate.tls import evaluate_tls
from auditor.findings.lifecycle import ApplyResult, apply_outcomes
from auditor.i18n import _
from auditor.inventory.model import Host, Inventory, System
from auditor.ledger.chain import append
from auditor.levels.current import current_levels
from auditor.plan import PlanError, PortTarget, TlsTarget, port_targets, tls_targets
from auditor.probes.discovery import DiscoveryObservation, DiscoveryTarget, discover
from auditor.probes.nmap_ports import PortObservation, scan_host
from auditor.probes.packages import (
    CollectionError,
    PackageInventory,
    collect_file,
    collect_local,
    collect_ssh,
    from_agent_json,
)
from auditor.probes.tls_observation import TlsObservation
from auditor.probes.tls_sslyze import probe_all
from auditor.store.db import Store
from auditor.store.tables import AdvisoryRow, FindingRow, PortObservationRow, ScanRunRow, table_of
from auditor.vocabulary import FindingStatus, Lifecycle, RunStatus, Verdict
from auditor.workspace import Workspace

FAMILIES = ("tls", "ports", "patch")
PORT_SCAN_PARALLEL = 4  # nmap processes at once
_HOST_OF = re.compile(r"[:/]")  # a finding's target is its host's id, then ":" or "/"
IN_CHUNK = 500  # values per IN (...) list: package names, system ids (SQLite allows 32,766 parameters)


@dataclass
class ScanReport:
    """What a run did. It keeps which checks it judged on which targets and its indeterminate outcomes, not every
    outcome: a fleet's patch scan judges hundreds of thousands, and they are in the store once the run ends."""

    family: str
    run_id: int
    targets: int
    judged: set[tuple[str, str, str]] = field(default_factory=set)  # (check, system, target)
    indeterminate: list[Outcome] = field(default_factory=list)
    applied: ApplyResult | None = None
    seconds: float = 0.0
    policy_by_system: dict[str, str] = field(default_factory=dict)

    @property
    def scanned_targets(self) -> set[tuple[str, str]]:
        return {(system, target) for _check, system, target in self.judged}


Progress = Callable[[str, int, str], None]  # (family, total, label of the target just done)


def _start_run(store: Store, family: str, targets: int) -> int:
    with store.session() as s:
        run = ScanRunRow(family=family, status=RunStatus.RUNNING, targets=targets)
        s.add(run)
        s.flush()
        assert run.id is not None
        return run.id


def _fail_run(store: Store, run_id: int, error: str) -> None:
    with store.session() as s:
        run = s.get(ScanRunRow, run_id)
        if run is not None:
            run.status, run.finished_at, run.errors = RunStatus.FAILED, clock.now(), [{"error": error}]
            s.add(run)


def _finish(store: Store, report: ScanReport, outcomes: list[Outcome], now: dt.datetime, errors: list[dict[str, str]],
            extra: Callable[[Session], None] | None = None, started_by: str | None = None) -> None:
    """Findings, the run's row, its ledger entry and any observations: one transaction. ``outcomes`` is emptied once
    applied: a fleet's run holds hundreds of thousands, and the ledger entry is made after."""
    with store.session() as s:
        if extra is not None:
            extra(s)
        run = s.get(ScanRunRow, report.run_id)
        assert run is not None
        run.failed = sum(1 for o in outcomes if o.verdict is Verdict.FAIL)
        run.indeterminate = sum(1 for o in outcomes if o.verdict is Verdict.INDETERMINATE)
        run.systems = sorted({o.system for o in outcomes if o.verdict is not Verdict.INDETERMINATE})
        a = apply_outcomes(s, report.run_id, outcomes, now)
        outcomes.clear()
        run.status, run.finished_at = RunStatus.COMPLETED, clock.now()
        run.errors = errors
        s.add(run)
        append(s, "scan.completed", f"scan/{report.run_id}", {
            "run": report.run_id, "family": report.family, "targets": report.targets, "opened": a.opened,
            "updated": a.updated, "resolved": a.resolved, "indeterminate": a.indeterminate, "systems": run.systems,
            "finished_at": clock.stamp(run.finished_at), "findings": a.changes,
            **({"by": started_by} if started_by else {})})
    report.applied = replace(a, changes=[])  # the changes are the ledger's; the report keeps the counts


@dataclass
class Judged:
    """What one probed target gave: its outcomes, the probe errors, and the policy it was judged by."""

    label: str
    system: str
    outcomes: list[Outcome]
    errors: list[dict[str, str]] = field(default_factory=list)
    policy: str | None = None


class Family(Protocol):
    """One check family behind the one scan loop: plan its targets, then probe and evaluate them one by one (in
    plan order), and keep what it must beyond the findings in the run's transaction."""

    name: str

    def plan(self) -> int:
        """Work out the targets; how many there are."""

    def judge(self, run_id: int, now: dt.datetime) -> Iterator[Judged]:
        """Probe each target and evaluate what was seen."""

    def keep(self, s: Session, run_id: int, now: dt.datetime) -> None:
        """Store what the run observed besides findings (in the run's transaction)."""


def run_family(family: Family, store: Store, progress: Progress | None = None,
               started_by: str | None = None) -> ScanReport:
    """plan → probe → evaluate → store: the run row first, the findings, the run's end and its ledger entry in one
    transaction at the end; a run that fails or is killed leaves its row and no findings."""
    total = family.plan()
    started = time.monotonic()
    run_id = _start_run(store, family.name, total)
    report = ScanReport(family.name, run_id, total)
    errors: list[dict[str, str]] = []
    outcomes: list[Outcome] = []
    now = clock.now()
    try:
        for judged in family.judge(run_id, now):
            outcomes += judged.outcomes
            errors += judged.errors
            if judged.policy is not None:
                report.policy_by_system[judged.system] = judged.policy
            if progress is not None:
                progress(family.name, total, judged.label)
    except BaseException as exc:
        _fail_run(store, run_id, f"{type(exc).__name__}: {exc}")
        raise
    report.judged = {(o.check, o.system, o.target) for o in outcomes}
    report.indeterminate = [o for o in outcomes if o.verdict is Verdict.INDETERMINATE]
    _finish(store, report, outcomes, now, errors, lambda s: family.keep(s, run_id, now), started_by)
    report.seconds = time.monotonic() - started
    return report


@dataclass
class Scope:
    """What every family is planned from: the workspace, the store, the inventory, the catalogue, the systems
    asked for (None: all) and their levels."""

    ws: Workspace
    store: Store
    inv: Inventory
    catalogue: Catalogue
    systems: set[str] | None
    levels: dict[str, int | None]
    zones: Zones

    def keep(self, s: Session, run_id: int, now: dt.datetime) -> None:
        """Nothing to keep beyond the findings (the default)."""
        return None


@dataclass
class TlsFamily(Scope):
    name: str = "tls"
    targets: list[TlsTarget] = field(default_factory=list)

    def plan(self) -> int:
        self.policies = load_tls_policies(self.ws.content("profiles"))
        self.targets = tls_targets(self.inv, self.ws.root, self.systems)
        return len(self.targets)

    def judge(self, run_id: int, now: dt.datetime) -> Iterator[Judged]:
        local, by_zone = self.zones.split(self.targets, lambda t: (t.system_id, t.host_id))
        remote = Remote(self.zones, self.catalogue, run_id, "tls", by_zone, lambda t: t.system_id,
                        lambda t: t.label)
        # the agent probes; the CA bundle is the central server's file, used in judging what the agent saw
        remote.send(lambda ts: {"tls": [replace(t, ca_bundle=None) for t in ts], "tls_settings": self.policies.probe})
        for obs in probe_all(local, self.policies.probe):
            yield self._judged(obs, now)
        for targets, result, note in remote.answers():
            if result is None:
                yield from _unchecked(remote, targets, note)
                continue
            for target, obs in zip(targets, result.tls, strict=True):
                yield self._judged(replace(obs, target=target), now)
        yield from _zone_judged(remote, now)

    def _judged(self, obs: TlsObservation, now: dt.datetime) -> Judged:
        policy = self.policies.for_level(self.levels.get(obs.target.system_id))
        label = f"{obs.target.system_id}/{obs.target.label}"
        return Judged(label, obs.target.system_id, evaluate_tls(obs, policy, self.catalogue, now),
                      [{"target": label, "probe": command, "error": error} for command, error in obs.errors.items()],
                      policy.id)


def _unchecked(remote: Remote[Any], targets: list[Any], note: str | None) -> Iterator[Judged]:
    """Targets whose zone gave no answer: indeterminate, never clean."""
    for outcome in remote.unchecked(targets, note):
        label = f"{outcome.system}/{outcome.target}"
        yield Judged(label, outcome.system, [outcome], [{"target": label, "probe": "agent", "error": note or ""}])


def _zone_judged(remote: Remote[Any], now: dt.datetime) -> Iterator[Judged]:
    for outcome in remote.zone_outcomes(now):
        yield Judged(f"{outcome.system}/{outcome.target}", outcome.system, [outcome])


def _open_targets(s: Session, systems: set[str], checks: tuple[str, ...]) -> dict[tuple[str, str],
                                                                                 set[tuple[str, str]]]:
    """The open findings of these checks, as (check, target) per (system, host): read once per run, two columns
    each (a host's targets are "host:..." or "host/...")."""
    t = table_of(FindingRow)
    out: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for i in range(0, len(ordered := sorted(systems)), IN_CHUNK):
        rows = s.execute(sa_select(t.c.check_id, t.c.system_id, t.c.target).where(
            t.c.system_id.in_(ordered[i:i + IN_CHUNK]), t.c.status == FindingStatus.OPEN,
            t.c.check_id.in_(checks)))
        for check, system, target in rows:
            out[(system, _HOST_OF.split(target, maxsplit=1)[0])].add((sys.intern(check), target))
    return out


@dataclass
class PortsFamily(Scope):
    name: str = "ports"
    targets: list[PortTarget] = field(default_factory=list)
    seen: list[PortObservation] = field(default_factory=list)

    def plan(self) -> int:
        self.policies = load_port_policies(self.ws.content("profiles"))
        self.policy_of = {s.id: self.policies.for_level(self.levels.get(s.id)) for s in self.inv.systems}
        self.targets = port_targets(self.inv, self.systems, {sid: p.max_addresses for sid, p in self.policy_of.items()})
        return len(self.targets)

    def judge(self, run_id: int, now: dt.datetime) -> Iterator[Judged]:
        t_obs = table_of(PortObservationRow)
        baseline: dict[tuple[str, str], dict[tuple[str, int], tuple[str, str, str]]] = defaultdict(dict)
        with self.store.session() as s:
            for r in s.execute(sa_select(t_obs.c.system_id, t_obs.c.host_id, t_obs.c.address, t_obs.c.port,
                                         t_obs.c.baseline_service, t_obs.c.baseline_product,
                                         t_obs.c.baseline_version)):
                baseline[(r.system_id, r.host_id)][(r.address, r.port)] = (r.baseline_service, r.baseline_product,
                                                                           r.baseline_version)
            open_targets = _open_targets(s, {t.system_id for t in self.targets}, PORT_CHECKS)

        evidence = self.ws.state_dir / "evidence"

        def probe(t: PortTarget) -> PortObservation:
            return scan_host(t, self.policy_of[t.system_id], evidence, run_id)

        def judged(obs: PortObservation) -> Judged:
            t = obs.target
            policy = self.policy_of[t.system_id]
            self.seen.append(obs)
            label = f"{t.system_id}/{t.host_id}"
            return Judged(label, t.system_id,
                          evaluate_ports(obs, policy, self.policies.admin, self.catalogue,
                                         baseline[(t.system_id, t.host_id)], open_targets[(t.system_id, t.host_id)]),
                          [] if obs.ok else [{"target": label, "probe": "nmap", "error": obs.error or ""}], policy.id)

        local, by_zone = self.zones.split(self.targets, lambda t: (t.system_id, t.host_id))
        remote = Remote(self.zones, self.catalogue, run_id, "ports", by_zone, lambda t: t.system_id,
                        lambda t: t.host_id)
        remote.send(lambda ts: {"ports": [(t, self.policy_of[t.system_id]) for t in ts]})
        with ThreadPoolExecutor(max_workers=PORT_SCAN_PARALLEL) as pool:
            for obs in pool.map(probe, local):  # nmap processes run side by side; results in plan order
                yield judged(obs)
        for targets, result, note in remote.answers():
            if result is None:
                yield from _unchecked(remote, targets, note)
                continue
            for target, obs, xml in zip(targets, result.ports, result.evidence, strict=True):
                kept = _keep_evidence(evidence, f"nmap-run{run_id}-{target.system_id}-{target.host_id}.xml", xml)
                yield judged(replace(obs, target=target, evidence=kept))
        yield from _zone_judged(remote, now)

    def keep(self, s: Session, run_id: int, now: dt.datetime) -> None:
        """The open ports seen, against the baseline of the first time each was seen."""
        t = table_of(PortObservationRow)
        ids = {(r.system_id, r.host_id, r.address, r.port): r.id
               for r in s.execute(sa_select(t.c.id, t.c.system_id, t.c.host_id, t.c.address, t.c.port))}
        fresh: dict[tuple[str, str, str, int], dict[str, object]] = {}
        seen: dict[int, dict[str, object]] = {}
        for obs in self.seen:
            for op in obs.open_ports:
                key = (obs.target.system_id, obs.target.host_id, op.address, op.port)
                known = ids.get(key)
                if known is None:
                    fresh[key] = {"system_id": key[0], "host_id": key[1], "address": op.address, "port": op.port,
                                  "protocol": "tcp", "baseline_service": op.service, "baseline_product": op.product,
                                  "baseline_version": op.version, "service": op.service, "product": op.product,
                                  "version": op.version, "first_seen": now, "last_seen": now, "last_run_id": run_id}
                else:
                    seen[known] = {"id": known, "service": op.service, "product": op.product, "version": op.version,
                                   "last_seen": now, "last_run_id": run_id}
        if fresh:
            s.execute(insert(PortObservationRow), list(fresh.values()))
        if seen:  # by primary key, in one statement
            s.execute(update(PortObservationRow), list(seen.values()))


def _keep_evidence(folder: Path, name: str, xml: str | None) -> str | None:
    """Keep the nmap XML an agent returned, as the central server keeps its own."""
    if xml is None:
        return None
    path = safeio.private_dir(folder) / name
    safeio.write_bytes(path, xml.encode(), mode=0o600)
    return str(path)


@dataclass
class PatchFamily(Scope):
    name: str = "patch"
    hosts: list[tuple[System, Host]] = field(default_factory=list)

    def plan(self) -> int:
        self.policy = load_patch_policy(self.ws.content("profiles"))
        self.hosts = [(s, h) for s in self.inv.systems
                      if (self.systems is None or s.id in self.systems) and s.lifecycle is not Lifecycle.RETIRED
                      for h in s.hosts if h.patch.method != "none"]
        return len(self.hosts)

    def _collect(self, host: Host, local: list[PackageInventory]) -> PackageInventory:
        if host.patch.method == "local":
            if not local:
                local.append(collect_local())
            return local[0]
        if host.patch.method == "file":
            assert host.patch.path is not None
            declared = Path(host.patch.path)  # a relative path must stay in the workspace, through links too
            return collect_file(self.ws.root / declared, host.os, within=None if declared.is_absolute() else self.ws.root)
        assert host.patch.user is not None and host.patch.host_key is not None
        identity = self.ws.root / host.patch.identity_file if host.patch.identity_file else None
        return collect_ssh(host.address, host.patch.port, host.patch.user, host.patch.host_key, identity)

    def judge(self, run_id: int, now: dt.datetime) -> Iterator[Judged]:
        local: list[PackageInventory] = []
        self._newest: dict[str, dt.date | None] = {}
        with self.store.session() as s:
            self._open = _open_targets(s, {system.id for system, _host in self.hosts}, PATCH_CHECKS)
        # a host in a network zone is reached by the zone's agent over SSH, with the agent's own key
        ssh = [PackageTarget(system_id=s.id, host_id=h.id, address=h.address, port=h.patch.port, user=h.patch.user,
                             host_key=h.patch.host_key.strip()) for s, h in self.hosts if h.patch.method == "ssh"
               and h.patch.user is not None and h.patch.host_key is not None]
        _central, by_zone = self.zones.split(ssh, lambda t: (t.system_id, t.host_id))
        remote = Remote(self.zones, self.catalogue, run_id, "patch", by_zone, lambda t: t.system_id,
                        lambda t: t.host_id)
        remote.send(lambda ts: {"packages": ts})
        by_agent = {(t.system_id, t.host_id) for ts in by_zone.values() for t in ts}
        for system, host in self.hosts:
            if (system.id, host.id) in by_agent:
                continue
            collected: PackageInventory | None = None
            error = None
            try:
                collected = self._collect(host, local)
            except CollectionError as exc:
                error = str(exc)
            yield self._judged(system, host.id, collected, error, host.patch.method)
        systems = {s.id: s for s, _h in self.hosts}
        for targets, result, note in remote.answers():
            if result is None:
                yield from _unchecked(remote, targets, note)
                continue
            for target, seen in zip(targets, result.packages, strict=True):
                collected, error = None, seen.error
                if error is None:
                    try:
                        collected = from_agent_json(seen.packages or {}, f"{target.system_id}/{target.host_id} "
                                                    f"({result.agent})", "agent")
                    except CollectionError as exc:
                        error = str(exc)
                yield self._judged(systems[target.system_id], target.host_id, collected, error, "agent")
        yield from _zone_judged(remote, now)

    def _judged(self, system: System, host_id: str, collected: PackageInventory | None, error: str | None,
                method: str) -> Judged:
        label = f"{system.id}/{host_id}"
        with self.store.session() as s:
            advisories, data_date = ([], None) if collected is None else _advisories(s, collected, self._newest)
        return Judged(label, system.id,
                      evaluate_patch(system.id, host_id, collected, error, advisories, data_date, self.policy,
                                     self.levels.get(system.id), self.catalogue, clock.today(),
                                     self._open[(system.id, host_id)]),
                      [] if error is None else [{"target": label, "probe": f"patch.{method}", "error": error}])


@dataclass
class DiscoveryFamily(Scope):
    """Discovery over the networks organisations declare they own (all zones, or one)."""

    name: str = "discover"
    only_zone: str | None = None
    networks: list[DiscoveryTarget] = field(default_factory=list)

    def plan(self) -> int:
        self.settings = load_port_policies(self.ws.content("profiles")).discovery
        if self.settings is None:
            raise PlanError(_("profiles/ports/policy.yaml has no 'discovery' section: how discovery scans"))
        self.networks = [DiscoveryTarget(o.id, n.zone, n.cidr) for o in self.inv.organisations for n in o.networks
                         if n.discover and (self.only_zone is None or n.zone == self.only_zone)]
        for n in self.networks:
            size = ipaddress.ip_network(n.network).num_addresses
            if size > self.settings.max_addresses:
                raise PlanError(_("{org}: the network {net} has {size} addresses; discovery scans at most {limit} "
                                  "per network ({ref})").format(org=n.organisation, net=n.network, size=size,
                                                                limit=self.settings.max_addresses,
                                                                ref=self.settings.reference))
        return len(self.networks)

    def judge(self, run_id: int, now: dt.datetime) -> Iterator[Judged]:
        settings = self.settings
        assert settings is not None
        t = table_of(FindingRow)
        open_targets: dict[str, set[tuple[str, str]]] = defaultdict(set)
        with self.store.session() as s:
            for check, system, target in s.execute(sa_select(t.c.check_id, t.c.system_id, t.c.target).where(
                    t.c.status == FindingStatus.OPEN, t.c.check_id.in_(DISCOVERY_CHECKS))):
                open_targets[system].add((check, target))
        evidence = self.ws.state_dir / "evidence"

        def judged(obs: DiscoveryObservation) -> Judged:
            label = obs.target.label
            return Judged(label, obs.target.organisation,
                          evaluate_discovery(obs, self.inv, self.catalogue, open_targets),
                          [] if obs.ok else [{"target": label, "probe": "nmap", "error": obs.error or ""}])

        local = [n for n in self.networks if n.zone is None]
        by_zone: dict[str, list[DiscoveryTarget]] = defaultdict(list)
        for n in self.networks:
            if n.zone is not None:
                by_zone[n.zone].append(n)
        remote = Remote(self.zones, self.catalogue, run_id, "discover", dict(by_zone), lambda n: n.organisation,
                        lambda n: n.network)
        remote.send(lambda ns: {"networks": ns, "discovery": settings})
        for n in local:
            yield judged(discover(n, settings, evidence, run_id))
        for targets, result, note in remote.answers():
            if result is None:
                yield from _unchecked(remote, targets, note)
                continue
            for target, obs, xml in zip(targets, result.discovered, result.evidence, strict=True):
                name = f"discovery-run{run_id}-{target.organisation}-{target.network.replace('/', '_')}.xml"
                yield judged(replace(obs, target=target, evidence=_keep_evidence(evidence, name, xml)))


def _advisories(s: Session, inv: PackageInventory, newest: dict[str, dt.date | None]) -> tuple[list[Advisory],
                                                                                              dt.date | None]:
    """The advisories of the host's release that name one of its packages (source or binary: RPM advisories may
    name binary packages), looked up by name through the advisory index: a release has hundreds of thousands
    of advisories and a host a few thousand packages. ``newest`` keeps each OS's newest data date for the run."""
    t = table_of(AdvisoryRow)
    names = sorted({p.source for p in inv.packages} | {p.name for p in inv.packages})
    advisories: list[Advisory] = []
    for i in range(0, len(names), IN_CHUNK):
        rows = s.execute(sa_select(t.c.advisory_id, t.c.source_package, t.c.fixed_version).where(
            t.c.os_id == inv.os_id, t.c.release == inv.advisory_release,
            t.c.source_package.in_(names[i:i + IN_CHUNK])))
        advisories += [Advisory(*r) for r in rows]
    if inv.os_id not in newest:
        newest[inv.os_id] = s.exec(select(sa_func.max(AdvisoryRow.data_date)).where(
            AdvisoryRow.os_id == inv.os_id)).one()
    return advisories, newest[inv.os_id]


def run_scan(ws: Workspace, store: Store, inv: Inventory, families: set[str], systems: set[str] | None,
             levels: dict[str, int | None] | None = None, progress: Progress | None = None,
             started_by: str | None = None, zone: str | None = None) -> list[ScanReport]:
    """Each family asked for, in the order tls, ports, patch, through the one loop."""
    catalogue = load_catalogue(ws.content("checks"))
    if levels is None:
        with store.session() as s:
            levels = current_levels(s, inv, ws.content("profiles"), clock.today())
    zones = Zones.of(ws, store, inv)
    plans: dict[str, Family] = {
        "tls": TlsFamily(ws, store, inv, catalogue, systems, levels, zones),
        "ports": PortsFamily(ws, store, inv, catalogue, systems, levels, zones),
        "patch": PatchFamily(ws, store, inv, catalogue, systems, levels, zones),
        "discover": DiscoveryFamily(ws, store, inv, catalogue, systems, levels, zones, only_zone=zone)}
    return [run_family(plans[name], store, progress, started_by) for name in (*FAMILIES, "discover")
            if name in families]
