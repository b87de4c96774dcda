"""The level each system is checked at: its approved level, else the level proposed today, else unknown."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlmodel import Session, col, select

from auditor.inventory.model import Inventory
from auditor.levels.propose import LevelRules
from auditor.store.tables import DossierRow
from auditor.vocabulary import DossierState


def approvals_on(session: Session, day: dt.date) -> dict[str, DossierRow]:
    """Each system's latest approved dossier as it stood on ``day`` (approved on or before it)."""
    approved: dict[str, DossierRow] = {}
    query = select(DossierRow).where(col(DossierRow.state) == DossierState.APPROVED).order_by(col(DossierRow.id))
    for d in session.exec(query):
        if d.approved_level is not None and d.approved_on is not None and d.approved_on <= day:
            approved[d.system_id] = d
    return approved


def current_levels(session: Session, inv: Inventory, profiles: Path, today: dt.date,
                   rules: LevelRules | None = None) -> dict[str, int | None]:
    rules = rules or LevelRules(profiles)
    approved = approvals_on(session, today)
    return {s.id: approved[s.id].approved_level if s.id in approved else rules.propose(s, today).level
            for s in inv.systems}
