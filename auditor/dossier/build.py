"""Build the frozen snapshot of a dossier: overview, level justification and protection plan.

Structure of TT 12/2022 Điều 8 and NĐ 331/2026 Điều 21–22: I. overview (owner, operator, scope, users,
architecture, hosts, services, zones); II. level justification; III. protection plan, per requirement.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from auditor.findings.view import FindingView
from auditor.inventory.model import Inventory, System
from auditor.levels.propose import Proposal
from auditor.levels.regimes import RegimeSpec
from auditor.levels.requirements import Requirement
from auditor.store.sync import system_digest


def _org(inv: Inventory, org_id: str | None) -> dict[str, Any] | None:
    org = inv.organisation(org_id) if org_id else None
    return org.model_dump(mode="json", exclude_none=True) if org else None


def plan_status(req: Requirement, system: System, open_findings: list[FindingView], scanned: set[str]) -> dict[str, Any]:
    """Implementation status of one requirement for the system, from the checks that cover it."""
    if req.manual:
        return {"status": "evidence_required", "evidence": None}
    hits = [f for f in open_findings if f.system == system.id and f.check in req.checks]
    if hits:
        return {"status": "partial", "evidence": [{"finding": f.id, "check": f.check, "target": f.target}
                                                   for f in hits]}
    families = {c.split(".")[0] for c in req.checks}
    if families & scanned:
        return {"status": "implemented", "evidence": sorted(req.checks)}
    return {"status": "not_verified", "evidence": None}


def build_snapshot(inv: Inventory, system: System, proposal: Proposal, regime: RegimeSpec,
                   requirements: list[Requirement], open_findings: list[FindingView], scanned_families: set[str],
                   version: int, created_on: dt.date) -> dict[str, Any]:
    assert proposal.level is not None
    level = proposal.level
    plan = []
    for req in requirements:
        if level not in req.spec.levels:
            continue
        plan.append({"requirement": req.spec.id, "group": req.spec.group, "title": req.spec.title,
                     "title_en": req.spec.title_en, "reference": req.spec.reference, "checks": list(req.checks),
                     **plan_status(req, system, open_findings, scanned_families)})
    declared = system.model_dump(mode="json", exclude_none=True)
    zones = sorted({h.zone for h in system.hosts if h.zone})
    return {
        "format": 1,
        "version": version,
        "created_on": created_on.isoformat(),
        "regime": {"id": regime.id, "title": regime.title, "references": regime.references},
        "overview": {
            "system": declared,
            "system_sha256": system_digest(system),
            "owner": _org(inv, system.owner),
            "operator": _org(inv, system.operator),
            "security_unit": _org(inv, system.security_unit),
            "hosts": [h.model_dump(mode="json", exclude_none=True) for h in system.hosts],
            "services": [e.model_dump(mode="json", exclude_none=True) for e in system.endpoints],
            "zones": zones,
        },
        "justification": proposal.as_json() | {"evaluated_on": created_on.isoformat()},
        "protection_plan": plan,
    }
