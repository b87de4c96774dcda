"""A scan run: plan → probes → evaluation → findings, stored in one transaction at the end.

A run that is killed or fails leaves its run row (status running or failed) and no findings at all.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from auditor.catalogue.checks import Catalogue, load_catalogue
from auditor.catalogue.tls_policy import load_tls_policies
from auditor.evaluate.outcome import Outcome
from auditor.evaluate.tls import evaluate_tls
from auditor.findings.lifecycle import ApplyResult, apply_outcomes
from auditor.inventory.model import Inventory
from auditor.ledger.chain import append
from auditor.plan import tls_targets
from auditor.probes.tls_sslyze import probe_all
from auditor.store.db import Store
from auditor.store.tables import ScanRunRow, utcnow
from auditor.workspace import Workspace

FAMILIES = ("tls",)


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
        run = ScanRunRow(family=family, status="running", targets=targets)
        s.add(run)
        s.flush()
        assert run.id is not None
        return run.id


def _fail_run(store: Store, run_id: int, error: str) -> None:
    with store.session() as s:
        run = s.get(ScanRunRow, run_id)
        if run is not None:
            run.status, run.finished_at, run.errors = "failed", utcnow(), [{"error": error}]
            s.add(run)


def _finish(store: Store, report: ScanReport, now: dt.datetime, errors: list[dict[str, str]]) -> None:
    with store.session() as s:
        report.applied = apply_outcomes(s, report.run_id, report.outcomes, now)
        run = s.get(ScanRunRow, report.run_id)
        assert run is not None
        run.status, run.finished_at = "completed", utcnow()
        run.failed = sum(1 for o in report.outcomes if o.verdict == "fail")
        run.indeterminate = sum(1 for o in report.outcomes if o.verdict == "indeterminate")
        run.errors = errors
        s.add(run)
        a = report.applied
        append(s, "scan.completed", f"scan/{report.run_id}", {
            "run": report.run_id, "family": report.family, "targets": report.targets, "opened": a.opened,
            "updated": a.updated, "resolved": a.resolved, "indeterminate": a.indeterminate})


def scan_tls(ws: Workspace, store: Store, inv: Inventory, catalogue: Catalogue, systems: set[str] | None,
             levels: dict[str, int | None], progress: Progress | None = None) -> ScanReport:
    policies = load_tls_policies(ws.content("profiles"))
    targets = tls_targets(inv, ws.root, systems)
    started = time.monotonic()
    run_id = _start_run(store, "tls", len(targets))
    report = ScanReport("tls", run_id, len(targets))
    errors: list[dict[str, str]] = []
    now = utcnow()
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


def run_scan(ws: Workspace, store: Store, inv: Inventory, families: set[str], systems: set[str] | None,
             levels: dict[str, int | None] | None = None, progress: Progress | None = None) -> list[ScanReport]:
    catalogue = load_catalogue(ws.content("checks"))
    reports = []
    if "tls" in families:
        reports.append(scan_tls(ws, store, inv, catalogue, systems, levels or {}, progress))
    return reports
