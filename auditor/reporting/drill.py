"""The drill report's frozen snapshot: the drill as recorded, with its response times computed from the events."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from auditor import __version__, clock
from auditor.context import Context
from auditor.i18n import _, get_language, pick
from auditor.inventory.model import Inventory
from auditor.problems import UserError
from auditor.records.load import Records, load_records
from auditor.records.model import Drill
from auditor.reporting.publish import Issuer, Published, publish


def _minutes(a: dt.datetime | None, b: dt.datetime | None) -> int | None:
    return None if a is None or b is None else int((b - a).total_seconds() // 60)


def response_times(d: Drill) -> dict[str, int | None]:
    """Minutes from the first attack to detection, containment and recovery, and between the steps."""
    start, detected, contained, recovered = (d.first(e) for e in ("attack_started", "detected", "contained",
                                                                   "recovered"))
    return {"to_detect": _minutes(start, detected), "to_contain": _minutes(start, contained),
            "to_recover": _minutes(start, recovered), "detect_to_contain": _minutes(detected, contained),
            "contain_to_recover": _minutes(contained, recovered)}


def build_drill(inv: Inventory, records: Records, drill_id: str, today: dt.date) -> dict[str, Any]:
    d = records.drill(drill_id)
    if d is None:
        known = ", ".join(x.id for x in records.drills) or "—"
        raise UserError(_("no drill {id!r} in the records; known: {known}").format(id=drill_id, known=known))

    systems = []
    for sid in d.systems:
        s = inv.system(sid)
        systems.append({"id": sid, "name": pick(s.name, s.name_en) if s else sid})
    return {
        "kind": "drill", "format": "auditor-drill-report/1", "lang": get_language(), "auditor_version": __version__,
        "generated_at": clock.stamp(), "province": inv.meta.province,
        "drill": {"id": d.id, "date": d.date.isoformat(), "kind": d.kind, "title": d.title, "scenario": d.scenario,
                  "objectives": list(d.objectives), "scope": d.scope, "organiser": inv.organisation_name(d.organiser)},
        "systems": systems,
        "team": [{"name": p.name, "organisation": inv.organisation_name(p.organisation), "role": p.role}
                 for p in d.participants],
        "timeline": [{"at": clock.in_vietnam(e.at).isoformat(timespec="minutes"), "event": e.event,
                      "description": e.description} for e in d.timeline],
        "times": response_times(d),
        "findings": list(d.findings), "lessons": list(d.lessons),
        "follow_up": [{"action": f.action, "owner": inv.organisation_name(f.owner), "deadline": f.deadline.isoformat(),
                       "done": f.done, "overdue": not f.done and f.deadline < today} for f in d.follow_up],
    }


def publish_drill(ctx: Context, drill_id: str, today: dt.date, out_dir: Path,
                  issuer: Issuer | None = None) -> tuple[dict[str, Any], Published]:
    records = load_records(ctx.ws.root, ctx.loaded.inventory)
    snapshot = build_drill(ctx.loaded.inventory, records, drill_id, today)
    stem = f"bao-cao-dien-tap-{drill_id}" if get_language() == "vi" else f"drill-report-{drill_id}-en"
    return snapshot, publish(ctx, snapshot, "drill.html.j2", {}, out_dir, stem, issuer=issuer)
