"""Scan: the declared targets of some systems with some check families, one scan at a time per workspace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditor import clock
from auditor.context import Context
from auditor.findings.lifecycle import list_findings
from auditor.findings.view import FindingView
from auditor.i18n import _
from auditor.obligations.model import audit_fail_from, load_rules
from auditor.problems import UserError
from auditor.scan import FAMILIES, Progress, ScanReport, run_scan
from auditor.scheduler import scan_lock
from auditor.vocabulary import finding_fails_audit


class ScanRequestError(UserError):
    pass


@dataclass(frozen=True)
class ScanResult:
    reports: list[ScanReport]
    findings: list[FindingView]  # the findings on the targets this scan judged
    failing: list[FindingView]  # those that fail the audit

    def as_json(self) -> dict[str, Any]:
        return {
            "runs": [{"family": r.family, "run_id": r.run_id, "targets": r.targets, "seconds": round(r.seconds, 2),
                      "opened": r.applied.opened if r.applied else 0,
                      "resolved": r.applied.resolved if r.applied else 0,
                      "indeterminate": [{"check": o.check, "system": o.system, "target": o.target, "detail": o.detail}
                                        for o in r.indeterminate],
                      "policies": r.policy_by_system} for r in self.reports],
            "findings": (v.as_json() for v in self.findings)}  # made as they are printed (a fleet's are many)


def check_families(families: set[str]) -> None:
    unknown = families - set(FAMILIES)
    if unknown:
        raise ScanRequestError(_("unknown check family: {names}; known: {known}").format(
            names=", ".join(sorted(unknown)), known=", ".join(FAMILIES)))


def scan(ctx: Context, families: set[str], systems: list[str] | None, *, progress: Progress | None = None,
         started_by: str | None = None) -> ScanResult:
    """Run the families on the systems' declared targets (all systems when none given), under the workspace's scan
    lock; the findings they judged, and which of those fail the audit."""
    check_families(families)
    chosen = ctx.check_systems(systems)
    fail_from = audit_fail_from(load_rules(ctx.ws.content("profiles")))
    with scan_lock(ctx.ws):
        reports = run_scan(ctx.ws, ctx.store, ctx.loaded.inventory, families, chosen, progress=progress,
                           started_by=started_by)
    judged = set().union(*(r.judged for r in reports))
    with ctx.store.session() as s:
        views = [v for v in list_findings(s, clock.today(), systems=chosen) if (v.check, v.system, v.target) in judged]
    return ScanResult(reports, views, [v for v in views if finding_fails_audit(v.status, v.severity, fail_from)])


def discover(ctx: Context, zone: str | None, *, progress: Progress | None = None,
             started_by: str | None = None) -> ScanResult:
    """Discovery over the networks organisations declare (one zone's, or all): what the inventory does not
    declare, as findings."""
    if zone is not None and zone not in {z.id for z in ctx.loaded.inventory.network_zones}:
        raise ScanRequestError(_("unknown network zone {zone!r}").format(zone=zone))
    fail_from = audit_fail_from(load_rules(ctx.ws.content("profiles")))
    with scan_lock(ctx.ws):
        reports = run_scan(ctx.ws, ctx.store, ctx.loaded.inventory, {"discover"}, None, progress=progress,
                           started_by=started_by, zone=zone)
    judged = set().union(*(r.judged for r in reports))
    with ctx.store.session() as s:
        views = [v for v in list_findings(s, clock.today()) if (v.check, v.system, v.target) in judged]
    return ScanResult(reports, views, [v for v in views if finding_fails_audit(v.status, v.severity, fail_from)])
