"""What the store says of each system on a given day: its level, its latest approval, its open findings."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path

from sqlalchemy import or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from auditor import clock
from auditor.inventory.model import Inventory
from auditor.levels.current import approvals_on, current_levels
from auditor.levels.propose import LevelRules
from auditor.obligations.records import Standing
from auditor.store.tables import FindingRow, RiskAcceptanceRow, ScanRunRow, table_of
from auditor.vocabulary import RunStatus


def open_findings_on(session: Session, day: dt.date) -> dict[str, Counter[str]]:
    """Per system and severity: findings open at the end of ``day`` and not under a risk acceptance then."""
    cutoff = clock.end_of_day(day)
    table = table_of(FindingRow)
    accepted: set[int] = set()
    for acc in session.exec(select(RiskAcceptanceRow)):
        if acc.accepted_at < cutoff and acc.expires_on >= day:
            accepted.add(acc.finding_id)
    out: dict[str, Counter[str]] = defaultdict(Counter)
    query = sa_select(table.c.id, table.c.system_id, table.c.severity).where(
        table.c.first_seen < cutoff, or_(table.c.resolved_at.is_(None), table.c.resolved_at >= cutoff))
    for finding_id, system_id, severity in session.execute(query):
        if finding_id not in accepted:
            out[system_id][severity] += 1
    return dict(out)


def last_scanned_on(session: Session, day: dt.date) -> dict[str, dt.datetime]:
    """Per system: when the last completed scan run that judged it finished, by the end of ``day``."""
    cutoff = clock.end_of_day(day)
    out: dict[str, dt.datetime] = {}
    query = select(ScanRunRow).where(col(ScanRunRow.status) == RunStatus.COMPLETED).order_by(col(ScanRunRow.id))
    for run in session.exec(query):
        if run.finished_at is not None and run.finished_at < cutoff:
            for system in run.systems:
                out[system] = run.finished_at
    return out


def standing_on(session: Session, inv: Inventory, profiles: Path, day: dt.date,
                rules: LevelRules | None = None) -> Standing:
    approved = {system: d.approved_on for system, d in approvals_on(session, day).items() if d.approved_on}
    return Standing(current_levels(session, inv, profiles, day, rules), approved, open_findings_on(session, day),
                    last_scanned_on(session, day))
