"""List findings: the read ``auditor findings`` makes, from the store straight when it is current (no ORM to
load), otherwise through the full opening of the workspace (migrate, sync the inventory, settle runs)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from auditor.findings.stored import list_stored
from auditor.findings.view import FindingView
from auditor.obligations.model import audit_fail_from, load_rules
from auditor.vocabulary import Severity
from auditor.workspace import Workspace, find_workspace


@dataclass(frozen=True)
class Listing:
    ws: Workspace
    views: list[FindingView]
    fail_from: Severity  # an open finding from this severity up fails the audit (profiles/obligations.yaml)


def list_findings_of(workspace: Path | None, today: dt.date, *, systems: list[str] | None = None,
                     include_resolved: bool = False, check_prefix: str | None = None) -> Listing:
    ws = find_workspace(workspace)
    views = list_stored(ws, today, systems=systems, include_resolved=include_resolved, check_prefix=check_prefix)
    if views is None:
        from auditor.context import workspace_context  # the ORM and the inventory's models: only when needed
        from auditor.findings.lifecycle import list_findings

        with workspace_context(ws.root) as ctx:
            chosen = ctx.check_systems(systems)
            with ctx.store.session() as s:
                views = list_findings(s, today, systems=chosen, include_resolved=include_resolved,
                                      check_prefix=check_prefix)
    return Listing(ws, views, audit_fail_from(load_rules(ws.content("profiles"))))
