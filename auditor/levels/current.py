"""The level each system is checked at: its approved level, else the level proposed today, else unknown."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlmodel import Session, select

from auditor.inventory.model import Inventory
from auditor.levels.propose import LevelRules
from auditor.store.tables import DossierRow


def current_levels(session: Session, inv: Inventory, profiles: Path, today: dt.date) -> dict[str, int | None]:
    rules = LevelRules(profiles)
    approved: dict[str, int] = {}
    for d in session.exec(select(DossierRow).where(DossierRow.state == "approved").order_by(DossierRow.id)):
        if d.approved_level is not None and d.approved_on is not None and d.approved_on <= today:
            approved[d.system_id] = d.approved_level
    return {s.id: approved.get(s.id) or rules.propose(s, today).level for s in inv.systems}
