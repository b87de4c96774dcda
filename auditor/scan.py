"""A scan run: plan → probes → evaluation → findings, stored in one transaction at the end.

A run that is killed or fails leaves its run row (status running or failed) and no findings at all.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import func as sa_func
from sqlalchemy import insert
from sqlmodel import Session, col, select

from auditor import clock
from auditor.catalogue.checks import Catalogue, load_catalogue
from auditor.catalogue.patch_policy import load_patch_policy
from auditor.catalogue.ports_policy import load_port_policies
from auditor.catalogue.tls_policy import load_tls_policies
from auditor.evaluate.outcome import Outcome
from auditor.evaluate.patch import PATCH_CHECKS, Advisory, evaluate_patch
from auditor.evaluate.ports import PORT_CHECKS, evaluate_ports
from auditor.evaluate.tls import evaluate_tls
from auditor.findings.lifecycle import ApplyResult, apply_outcomes
from auditor.inventory.model import Inventory
from auditor.ledger.chain import append
from auditor.levels.current import current_levels
from auditor.plan import PortTarget, port_targets, tls_targets
from auditor.probes.nmap_ports import PortObservation, scan_host
from auditor.probes.packages import CollectionError, PackageInventory, collect_file, collect_local, collect_ssh
from auditor.probes.tls_sslyze import probe_all
from auditor.store.db import Store
from auditor.store.tables import AdvisoryRow, FindingRow, PortObservationRow, ScanRunRow
from auditor.vocabulary import FindingStatus, Lifecycle, RunStatus, Verdict
from auditor.workspace import Workspace

FAMILIES = ("tls", "ports", "patch")
PORT_SCAN_PARALLEL = 4  # nmap processes at once


@dataclass
class ScanReport:
    family: str
    run_id: int
    targets: int
    outcomes: list[Outcome] = field(default_factory=list)
    applied: ApplyResult | None = None
    seconds: float = 0.0
    policy_by_system: dict[str, str] = field(default_factory=dict)

    @property
    def scanned_targets(self) -> set[tuple[str, str]]:
        return {(o.system, o.target) for o in self.outcomes}


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


def _finish(store: Store, report: ScanReport, now: dt.datetime, errors: list[dict[str, str]],
            extra: Callable[[Session], None] | None = None) -> None:
    """Findings, the run's row, its ledger entry and any observations: one transaction."""
    with store.session() as s:
        if extra is not None:
            extra(s)
        report.applied = apply_outcomes(s, report.run_id, report.outcomes, now)
        run = s.get(ScanRunRow, report.run_id)
        assert run is not None
        run.status, run.finished_at = RunStatus.COMPLETED, clock.now()
        run.failed = sum(1 for o in report.outcomes if o.verdict is Verdict.FAIL)
        run.indeterminate = sum(1 for o in report.outcomes if o.verdict is Verdict.INDETERMINATE)
        run.errors = errors
        run.systems = sorted({o.system for o in report.outcomes if o.verdict is not Verdict.INDETERMINATE})
        s.add(run)
        a = report.applied
        append(s, "scan.completed", f"scan/{report.run_id}", {
            "run": report.run_id, "family": report.family, "targets": report.targets, "opened": a.opened,
            "updated": a.updated, "resolved": a.resolved, "indeterminate": a.indeterminate, "systems": run.systems,
            "finished_at": clock.stamp(run.finished_at), "findings": a.changes})


def scan_tls(ws: Workspace, store: Store, inv: Inventory, catalogue: Catalogue, systems: set[str] | None,
             levels: dict[str, int | None], progress: Progress | None = None) -> ScanReport:
    policies = load_tls_policies(ws.content("profiles"))
    targets = tls_targets(inv, ws.root, systems)
    started = time.monotonic()
    run_id = _start_run(store, "tls", len(targets))
    report = ScanReport("tls", run_id, len(targets))
    errors: list[dict[str, str]] = []
    now = clock.now()
    try:
        for obs in probe_all(targets, policies.probe):
            policy = policies.for_level(levels.get(obs.target.system_id))
            report.policy_by_system[obs.target.system_id] = policy.id
            report.outcomes += evaluate_tls(obs, policy, catalogue, now)
            for command, error in obs.errors.items():
                errors.append({"target": f"{obs.target.system_id}/{obs.target.label}", "probe": command,
                               "error": error})
            if progress is not None:
                progress("tls", len(targets), f"{obs.target.system_id}/{obs.target.label}")
    except BaseException as exc:
        _fail_run(store, run_id, f"{type(exc).__name__}: {exc}")
        raise
    _finish(store, report, now, errors)
    report.seconds = time.monotonic() - started
    return report


def _open_port_targets(s: Session, system: str, host: str) -> set[tuple[str, str]]:
    rows = s.exec(select(FindingRow).where(FindingRow.system_id == system, FindingRow.status == FindingStatus.OPEN,
                                           col(FindingRow.check_id).in_(PORT_CHECKS)))
    return {(r.check_id, r.target) for r in rows if r.target.startswith((f"{host}:", f"{host}/"))}


def scan_ports(ws: Workspace, store: Store, inv: Inventory, catalogue: Catalogue, systems: set[str] | None,
               levels: dict[str, int | None], progress: Progress | None = None) -> ScanReport:
    policies = load_port_policies(ws.content("profiles"))
    policy_of = {s.id: policies.for_level(levels.get(s.id)) for s in inv.systems}
    targets = port_targets(inv, systems, {sid: p.max_addresses for sid, p in policy_of.items()})
    started = time.monotonic()
    run_id = _start_run(store, "ports", len(targets))
    report = ScanReport("ports", run_id, len(targets))
    now = clock.now()
    errors: list[dict[str, str]] = []
    seen: list[PortObservation] = []
    with store.session() as s:
        baseline = {(r.system_id, r.host_id, r.address, r.port): (r.baseline_service, r.baseline_product,
                                                                  r.baseline_version)
                    for r in s.exec(select(PortObservationRow))}
        open_targets = {(t.system_id, t.host_id): _open_port_targets(s, t.system_id, t.host_id) for t in targets}
    def probe(t: PortTarget) -> PortObservation:
        return scan_host(t, policy_of[t.system_id], ws.state_dir / "evidence", run_id)

    try:
        with ThreadPoolExecutor(max_workers=PORT_SCAN_PARALLEL) as pool:
            for obs in pool.map(probe, targets):  # nmap processes run side by side; results in plan order
                t = obs.target
                policy = policy_of[t.system_id]
                report.policy_by_system[t.system_id] = policy.id
                seen.append(obs)
                mine = {(a, p): v for (sid, hid, a, p), v in baseline.items() if (sid, hid) == (t.system_id, t.host_id)}
                report.outcomes += evaluate_ports(obs, policy, policies.admin, catalogue, mine,
                                                  open_targets[(t.system_id, t.host_id)])
                if not obs.ok:
                    errors.append({"target": f"{t.system_id}/{t.host_id}", "probe": "nmap", "error": obs.error or ""})
                if progress is not None:
                    progress("ports", len(targets), f"{t.system_id}/{t.host_id}")
    except BaseException as exc:
        _fail_run(store, run_id, f"{type(exc).__name__}: {exc}")
        raise

    def remember(s: Session) -> None:
        rows = {(r.system_id, r.host_id, r.address, r.port): r for r in s.exec(select(PortObservationRow))}
        fresh: dict[tuple[str, str, str, int], dict[str, object]] = {}
        for obs in seen:
            for op in obs.open_ports:
                key = (obs.target.system_id, obs.target.host_id, op.address, op.port)
                row = rows.get(key)
                if row is None:
                    fresh[key] = {"system_id": key[0], "host_id": key[1], "address": op.address, "port": op.port,
                                  "protocol": "tcp", "baseline_service": op.service, "baseline_product": op.product,
                                  "baseline_version": op.version, "service": op.service, "product": op.product,
                                  "version": op.version, "first_seen": now, "last_seen": now, "last_run_id": run_id}
                else:
                    row.service, row.product, row.version = op.service, op.product, op.version
                    row.last_seen, row.last_run_id = now, run_id
                    s.add(row)
        if fresh:
            s.execute(insert(PortObservationRow), list(fresh.values()))

    _finish(store, report, now, errors, remember)
    report.seconds = time.monotonic() - started
    return report


def scan_patch(ws: Workspace, store: Store, inv: Inventory, catalogue: Catalogue, systems: set[str] | None,
               levels: dict[str, int | None], progress: Progress | None = None) -> ScanReport:
    policy = load_patch_policy(ws.content("profiles"))
    hosts = [(s, h) for s in inv.systems if (systems is None or s.id in systems) and s.lifecycle is not Lifecycle.RETIRED
             for h in s.hosts if h.patch.method != "none"]
    started = time.monotonic()
    run_id = _start_run(store, "patch", len(hosts))
    report = ScanReport("patch", run_id, len(hosts))
    errors: list[dict[str, str]] = []
    today = clock.today()
    local: PackageInventory | None = None
    try:
        for system, host in hosts:
            collected: PackageInventory | None = None
            error = None
            try:
                if host.patch.method == "local":
                    local = local or collect_local()
                    collected = local
                elif host.patch.method == "file":
                    assert host.patch.path is not None
                    collected = collect_file(ws.root / host.patch.path, host.os)
                else:
                    assert host.patch.user is not None and host.patch.host_key is not None
                    identity = ws.root / host.patch.identity_file if host.patch.identity_file else None
                    collected = collect_ssh(host.address, host.patch.port, host.patch.user, host.patch.host_key,
                                            identity)
            except CollectionError as exc:
                error = str(exc)
                errors.append({"target": f"{system.id}/{host.id}", "probe": f"patch.{host.patch.method}",
                               "error": error})
            with store.session() as s:
                advisories, newest = ([], None) if collected is None else _advisories(s, collected)
                open_targets = {(r.check_id, r.target) for r in s.exec(select(FindingRow).where(
                    FindingRow.system_id == system.id, FindingRow.status == FindingStatus.OPEN,
                    col(FindingRow.check_id).in_(PATCH_CHECKS))) if r.target.startswith(f"{host.id}:")}
            report.outcomes += evaluate_patch(system.id, host.id, collected, error, advisories, newest, policy,
                                              levels.get(system.id), catalogue, today, open_targets)
            if progress is not None:
                progress("patch", len(hosts), f"{system.id}/{host.id}")
    except BaseException as exc:
        _fail_run(store, run_id, f"{type(exc).__name__}: {exc}")
        raise
    _finish(store, report, clock.now(), errors)
    report.seconds = time.monotonic() - started
    return report


def _advisories(s: Session, inv: PackageInventory) -> tuple[list[Advisory], dt.date | None]:
    names = {p.source for p in inv.packages} | {p.name for p in inv.packages}
    rows = s.exec(select(AdvisoryRow).where(AdvisoryRow.os_id == inv.os_id,
                                            AdvisoryRow.release == inv.advisory_release))
    advisories = [Advisory(r.advisory_id, r.source_package, r.fixed_version) for r in rows
                  if r.source_package in names]
    newest = s.exec(select(sa_func.max(AdvisoryRow.data_date)).where(AdvisoryRow.os_id == inv.os_id)).one()
    return advisories, newest


def run_scan(ws: Workspace, store: Store, inv: Inventory, families: set[str], systems: set[str] | None,
             levels: dict[str, int | None] | None = None, progress: Progress | None = None) -> list[ScanReport]:
    catalogue = load_catalogue(ws.content("checks"))
    reports = []
    if levels is None:
        with store.session() as s:
            levels = current_levels(s, inv, ws.content("profiles"), clock.today())
    if "tls" in families:
        reports.append(scan_tls(ws, store, inv, catalogue, systems, levels, progress))
    if "ports" in families:
        reports.append(scan_ports(ws, store, inv, catalogue, systems, levels, progress))
    if "patch" in families:
        reports.append(scan_patch(ws, store, inv, catalogue, systems, levels, progress))
    return reports
