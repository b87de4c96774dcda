"""What a provincial leader reads first in the annual report: a grade per system, the five most serious risks in
plain words (what, where, since when, who must act, by when), the accepted risks, what is overdue; and the
appendix of open findings with their remediation, responsible unit and due date. Also the official heading of an
administrative document (Nghị định 30/2020/NĐ-CP, Phụ lục I): the issuing body, its superior, the place and date,
the recipients and the signature block."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, NamedTuple

from sqlalchemy import or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from auditor import clock
from auditor.catalogue.checks import load_catalogue
from auditor.context import Context
from auditor.findings.remediation import load_remediation_policy, remediation_of
from auditor.findings.view import effective_view
from auditor.i18n import pick
from auditor.inventory.model import Inventory
from auditor.levels.current import current_levels
from auditor.store.tables import FindingAssignmentRow, FindingRow, RiskAcceptanceRow, table_of
from auditor.vocabulary import FindingStatus, Severity

TOP = 5
APPENDIX_ROWS = 100  # the PDF's appendix; every open finding is in the CSV written beside it
GRADE_ROWS = 30  # the systems graded worst on the leader's page; every grade is in the systems CSV
FORM08_PDF_ROWS = 300  # up to this many systems the form 08 table is in the PDF; beyond, in the systems CSV
INSPECTIONS_PDF_ROWS = 300  # up to this many inspections of the period are listed in the PDF; all in their CSV


class _OpenRow(NamedTuple):
    """The columns of a finding the report needs (not its detail: 200,000 JSON documents to parse for nothing)."""

    id: int
    check_id: str
    system_id: str
    target: str
    severity: str
    first_seen: dt.datetime
    status: str = FindingStatus.OPEN.value  # it was open at the end of the day, whatever became of it since
    last_seen: None = None
    resolved_at: None = None
    detail: dict[str, Any] = {}  # noqa: RUF012 - never mutated


def open_findings(ctx: Context, as_of: dt.date, levels: dict[str, int | None] | None = None) -> list[dict[str, Any]]:
    """The findings open at the end of ``as_of`` (accepted ones included, marked), most serious first, each with
    its responsible unit, due date and the catalogue's remediation. ``levels``: each system's level on the day,
    when the caller has it already."""
    inv = ctx.loaded.inventory
    profiles = ctx.ws.content("profiles")
    catalogue = load_catalogue(ctx.ws.content("checks"))
    policy = load_remediation_policy(profiles)
    end = clock.end_of_day(as_of)
    t = table_of(FindingRow)
    with ctx.store.session() as s:
        rows = [_OpenRow(*r) for r in s.execute(
            sa_select(t.c.id, t.c.check_id, t.c.system_id, t.c.target, t.c.severity, t.c.first_seen)
            .where(t.c.first_seen < end, or_(t.c.resolved_at.is_(None), t.c.resolved_at >= end)))]
        accepted: dict[int, RiskAcceptanceRow] = {}
        for acc in s.exec(select(RiskAcceptanceRow).order_by(col(RiskAcceptanceRow.id))):
            if acc.accepted_at < end:
                accepted[acc.finding_id] = acc
        assigned: dict[int, FindingAssignmentRow] = {}
        for a in s.exec(select(FindingAssignmentRow).order_by(col(FindingAssignmentRow.id))):
            if a.assigned_at < end:
                assigned[a.finding_id] = a
        if levels is None:
            levels = current_levels(s, inv, profiles, as_of)
    checks: dict[str, tuple[str, str]] = {}  # check → (title, remediation), in the language of the report
    places: dict[str, tuple[str, str]] = {}  # system → (name, operator)
    units: dict[str, str] = {}  # organisation → name
    out: list[dict[str, Any]] = []
    for row in rows:
        view = effective_view(row, accepted.get(row.id), as_of)
        if view.check not in checks:
            spec = catalogue.checks.get(view.check)
            checks[view.check] = (catalogue.title(view.check), spec.display_remediation() if spec else "")
        title, remedy = checks[view.check]
        if view.system not in places:
            system = inv.system(view.system)
            places[view.system] = ((pick(system.name, system.name_en), system.operator) if system
                                   else (view.system, view.system))
        system_name, operator = places[view.system]
        first = clock.in_vietnam(row.first_seen).date()
        r = remediation_of(view, operator, levels.get(view.system), policy, assigned.get(row.id), first)
        if r.responsible not in units:
            units[r.responsible] = inv.organisation_name(r.responsible) or r.responsible
        out.append({
            "id": view.id, "check": view.check, "title": title, "severity": view.severity.value,
            "rank": view.severity.rank, "system": view.system, "system_name": system_name, "target": view.target,
            "first_seen": first.isoformat(),
            "responsible": r.responsible, "responsible_name": units[r.responsible],
            "due_on": r.due_on.isoformat() if r.due_on else None, "overdue": r.overdue(as_of),
            "state": r.state.value, "remediation": remedy,
            "accepted": view.acceptance if view.status is FindingStatus.ACCEPTED else None})
    out.sort(key=lambda f: (-f["rank"], f["due_on"] or "9999", f["system"], f["target"]))
    return out


def grades(inv: Inventory, systems: list[dict[str, Any]], findings: list[dict[str, Any]],
           gaps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A grade per system: fail (an open critical or high finding, or an overdue gap), to_improve (any other gap
    or open finding), pass; with the reasons."""
    serious: dict[str, int] = defaultdict(int)
    other: dict[str, int] = defaultdict(int)
    for f in findings:
        if f["accepted"]:
            continue
        if Severity(f["severity"]).at_least(Severity.HIGH):
            serious[f["system"]] += 1
        elif f["severity"] != Severity.INFO.value:
            other[f["system"]] += 1
    overdue: dict[str, int] = defaultdict(int)
    failing: dict[str, int] = defaultdict(int)
    for g in gaps:
        subject = str(g["subject"]).split(" ")[0]
        failing[subject] += 1
        if g["overdue"]:
            overdue[subject] += 1
    out = []
    for s in systems:
        sid = s["id"]
        grade = ("fail" if serious[sid] or overdue[sid] else "to_improve" if failing[sid] or other[sid] else "pass")
        out.append({"system": sid, "name": s["name"], "owner": s["owner"], "grade": grade,
                    "serious_findings": serious[sid], "other_findings": other[sid], "gaps": failing[sid],
                    "overdue_gaps": overdue[sid]})
    return out


def heading(inv: Inventory, today: dt.date) -> dict[str, Any]:
    """The issuing body (the security unit), its superior, the place and date, the recipients and who signs."""
    issuer = next((o for o in inv.organisations if "security_unit" in o.roles), None)
    superior = inv.organisation(issuer.parent) if issuer and issuer.parent else None
    recipients = [o.name for o in inv.organisations if ({"owner", "appraiser"} & set(o.roles))
                  and (issuer is None or o.id != issuer.id)]
    return {"issuer": issuer.name if issuer else inv.meta.title, "superior": superior.name if superior else None,
            "place": inv.meta.province or "……", "date": today.isoformat(),
            # NĐ 30/2020 Phụ lục I: a day below 10 and the months 1 and 2 take a leading zero
            "day": f"{today.day:02d}", "month": f"{today.month:02d}" if today.month < 3 else str(today.month),
            "year": str(today.year),
            "signer_title": issuer.representative.title if issuer and issuer.representative else None,
            "signer_name": issuer.representative.name if issuer and issuer.representative else None,
            "recipients": recipients}
