"""The annual compliance report's frozen snapshot: everything the report shows, computed once, as plain data.

The snapshot is what gets hashed into the ledger and written as the report's JSON; the HTML, PDF and CSV are
rendered from it and nothing else.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from auditor import __version__, clock
from auditor.catalogue.loading import load_model
from auditor.context import Context
from auditor.dossier.workflow import deadlines, state_on
from auditor.i18n import _, get_language, pick
from auditor.inventory.model import Inventory, System
from auditor.labels import label
from auditor.levels.regimes import load_calendar, load_regimes
from auditor.obligations.evaluate import Evaluation, evaluate_obligations
from auditor.obligations.model import Result, RuleSpec, audit_fail_from, load_rules
from auditor.problems import InputError, UserError
from auditor.records.model import Drill
from auditor.reporting.drill import response_times
from auditor.reporting.leader import (
    APPENDIX_ROWS,
    FORM08_PDF_ROWS,
    GRADE_ROWS,
    INSPECTIONS_PDF_ROWS,
    TOP,
    grades,
    heading,
    open_findings,
)
from auditor.reporting.publish import Issuer, Published, csv_text, publish
from auditor.reporting.render import PdfLater
from auditor.store.tables import DossierRow, FindingRow, ReportRow, table_of
from auditor.vocabulary import (
    SEVERITIES,
    DossierState,
    FindingStatus,
    Lifecycle,
    Severity,
    Verdict,
    finding_fails_audit,
)
from auditor.workspace import content_file


class PeriodSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start_day: int = Field(ge=1, le=31)
    start_month: int = Field(ge=1, le=12)
    end_day: int = Field(ge=1, le=31)
    end_month: int = Field(ge=1, le=12)


class KpiSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    rule: str  # the obligation (profiles/obligations.yaml) whose results the figure is computed from
    measure: Literal["share_passing", "open_findings"]
    title: str
    title_en: str
    unit: Literal["percent", "count"]
    target: Decimal
    direction: Literal["at_least", "at_most"]
    reference: str


class AnnualSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    period: PeriodSpec
    kpis: list[KpiSpec] = Field(min_length=1)


def load_annual_spec(profiles: Path, rules: dict[str, RuleSpec]) -> AnnualSpec:
    spec, loaded = load_model(content_file(profiles, "annual_report.yaml"), AnnualSpec)
    problems = [loaded.problem(("kpis", i, "rule"), _("no obligation {id!r} in obligations.yaml").format(id=k.rule))
                for i, k in enumerate(spec.kpis) if k.rule not in rules]
    if problems:
        raise InputError(problems)
    return spec


def reporting_period(spec: AnnualSpec, year: int) -> tuple[dt.date, dt.date]:
    p = spec.period
    return dt.date(year - 1, p.start_month, p.start_day), dt.date(year, p.end_month, p.end_day)


def _share(part: int, whole: int) -> str | None:
    return None if whole == 0 else str((Decimal(part) * 100 / whole).quantize(Decimal("0.1")))


def build_annual(ctx: Context, year: int, today: dt.date) -> dict[str, Any]:
    """The report's snapshot (what it shows, frozen and hashed)."""
    return _build(ctx, year, today)[0]


def _build(ctx: Context, year: int, today: dt.date) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The snapshot, and every finding open at the end of the period (for the CSV beside it)."""
    profiles = ctx.ws.content("profiles")
    spec = load_annual_spec(profiles, load_rules(profiles))
    start, end = reporting_period(spec, year)
    if start > today:
        raise UserError(_("the reporting period of {year} starts on {start}; there is nothing to report yet").format(
            year=year, start=start.isoformat()))
    as_of = min(end, today)
    # one evaluation for everything the report shows: the KPIs, the gaps and the table are computed from it
    ev = evaluate_obligations(ctx, as_of, period_start=start)
    inv = ctx.loaded.inventory
    systems = [s for s in inv.systems if not (s.lifecycle is Lifecycle.RETIRED and (s.retired_on or start) < start)]
    proposals = {s.id: ev.level_rules.propose(s, as_of) for s in systems}
    by_rule: dict[str, dict[str, Result]] = defaultdict(dict)
    for r in ev.results:
        by_rule[r.rule][r.subject] = r
    rows = _system_rows(inv, systems, ev, proposals, by_rule, profiles, as_of)
    monthly, open_now = _findings_by_month(ctx, start, as_of), ev.standing.open_findings
    budget = [v.as_json() for v in ev.budget if start <= v.plan.approved_on <= as_of]
    drills = [_drill_summary(d) for d in ev.records.drills if start <= d.date <= as_of]
    inspections = [i.model_dump(mode="json") for i in ev.records.inspections if start <= i.date <= as_of]
    counts = _counts(rows)
    kpis = _kpis(spec, ev)
    previous = _previous(ctx, year)
    findings = open_findings(ctx, as_of, ev.standing.levels)
    gaps = _gaps(inv, ev, as_of, findings)
    for k in kpis:
        k["previous"] = previous.get(k["id"])
    unaccepted = [f for f in findings if not f["accepted"]]
    scanned = bool(ev.standing.last_scanned) or bool(findings)  # else a count of 0 would claim what no scan showed
    regime = load_regimes(profiles).in_force(as_of)
    return {
        "kind": "annual", "format": "auditor-annual-report/1", "year": year, "lang": get_language(),
        "period": {"start": start.isoformat(), "end": end.isoformat(), "as_of": as_of.isoformat(),
                   "complete": as_of >= end},
        "generated_at": clock.stamp(), "auditor_version": __version__,
        "province": inv.meta.province, "title": inv.meta.title,
        "regime": regime.id, "regime_title": regime.display_title(),
        "counts": counts, "kpis": kpis, "systems": rows,
        "findings": {"open_by_severity": {sev: sum(c.get(sev, 0) for c in open_now.values()) for sev in SEVERITIES},
                     "opened_by_month": monthly, "scanned": scanned},
        "levels": dict(sorted(Counter(str(r["proposed_level"] or "?") for r in rows).items())),
        "budget": budget, "drills": drills, "inspections": inspections,
        "gaps": gaps, "gaps_by_owner": _gaps_by_owner(gaps), "follow_up": _follow_up(inv, ev, as_of),
        "obligations": {v.value: sum(1 for r in ev.results if r.verdict is v) for v in Verdict},
        "previous_year": {"year": year - 1, "available": bool(previous)},
        "heading": heading(inv, today),
        "leader": {**_graded(inv, rows, findings, gaps), "top_risks": unaccepted[:TOP],
                   "accepted": [f for f in findings if f["accepted"]],
                   "overdue_findings": sum(1 for f in unaccepted if f["overdue"]),
                   "overdue_gaps": sum(1 for g in gaps if g["overdue"]),
                   "open_findings": len(unaccepted) if scanned else None},
        "appendix": {"findings": findings[:APPENDIX_ROWS], "total": len(findings)},
        "form08_in_pdf": len(rows) <= FORM08_PDF_ROWS,  # beyond that, one row per system is the CSV's job
        "inspections_in_pdf": len(inspections) <= INSPECTIONS_PDF_ROWS,
    }, findings


def _system_rows(inv: Inventory, systems: list[System], ev: Evaluation, proposals: dict[str, Any],
                 by_rule: dict[str, dict[str, Result]], profiles: Path, as_of: dt.date) -> list[dict[str, Any]]:
    """The table of Mẫu 08 (NĐ 331/2026): one row per system, with the inspection status and open findings."""
    regimes, calendar = load_regimes(profiles), load_calendar(profiles)
    latest: dict[str, tuple[DossierRow, DossierState]] = {}  # the latest dossier on the day, as it stood then
    approved: dict[str, DossierRow] = {}
    for d in ev.dossiers:
        state = state_on(d, as_of)
        if state is None:
            continue
        latest[d.system_id] = (d, state)
        if state is DossierState.APPROVED:
            approved[d.system_id] = d
    rows = []
    for n, s in enumerate(systems, start=1):
        owner = inv.organisation(s.owner)
        reg = owner.security_regulation if owner else None
        current = latest.get(s.id)
        state = current[1] if current else None
        a = approved.get(s.id)
        expected = None
        if current is not None and current[1].in_progress:
            d = current[0]
            due = [dl.due for dl in deadlines(d, regimes.get(d.regime), calendar, as_of) if dl.done_by(as_of) is None]
            expected = max(due).isoformat() if due else None
        dep = ev.records.deployment(s.id)
        last = ev.records.last_inspection(as_of, system=s.id)
        periodic = by_rule["inspection.system_periodic"].get(s.id)
        counts = ev.standing.open_findings.get(s.id, Counter())
        rows.append({
            "no": n, "id": s.id, "name": pick(s.name, s.name_en), "owner": inv.organisation_name(s.owner),
            "operator": inv.organisation_name(s.operator), "lifecycle": s.lifecycle,
            "go_live": s.go_live.isoformat() if s.go_live else None,
            "proposed_level": proposals[s.id].level,
            "dossier_state": state,
            "appraised": any(x.system_id == s.id and x.appraised_on is not None and x.appraised_on <= as_of
                             for x in ev.dossiers),
            "approved_level": a.approved_level if a else None,
            "decision": a.decision_number if a else None, "approved_on": a.approved_on.isoformat() if a and a.approved_on
            else None,
            "regulation": reg.decision if reg and reg.issued_on <= as_of else None,
            "regulation_on": reg.issued_on.isoformat() if reg and reg.issued_on <= as_of else None,
            "expected_approval": expected,
            "deployment": dep.status if dep else None, "full_by": dep.full_by.isoformat() if dep and dep.full_by else None,
            "inspection_kind": last.kind if last else None, "inspected_on": last.date.isoformat() if last else None,
            "inspection_verdict": periodic.verdict if periodic else Verdict.NOT_APPLICABLE,
            "inspection_due": periodic.detail.get("due") if periodic else None,
            "open_critical": counts.get(Severity.CRITICAL, 0), "open_high": counts.get(Severity.HIGH, 0),
        })
    return rows


def _counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Part 1 of Mẫu 08: totals, classified, dossier built, appraised, approved, approved and inspected."""
    return {
        "total": len(rows),
        "classified": sum(1 for r in rows if r["proposed_level"] is not None),
        "dossier_built": sum(1 for r in rows if r["dossier_state"] is not None),
        "appraised": sum(1 for r in rows if r["appraised"]),
        "approved": sum(1 for r in rows if r["approved_level"] is not None),
        "approved_and_inspected": sum(1 for r in rows if r["approved_level"] is not None
                                      and r["inspection_verdict"] == Verdict.PASS and r["inspected_on"]),
    }


def _kpi_value(k: KpiSpec, ev: Evaluation) -> tuple[str | None, int | None, int | None]:
    """(value, part, whole) of one figure from the evaluation's results; value None: no data to compute it from."""
    results = [r for r in ev.results if r.rule == k.rule]
    if k.measure == "open_findings":
        if not ev.standing.last_scanned:
            return None, None, None  # nothing was ever scanned: zero findings would be a claim without evidence
        fail_from = audit_fail_from(ev.rules)
        count = sum(n for counts in ev.standing.open_findings.values() for sev, n in counts.items()
                    if finding_fails_audit(FindingStatus.OPEN, sev, fail_from))
        return str(count), None, None
    judged = [r for r in results if r.verdict is not Verdict.NOT_APPLICABLE]
    if not any(r.verdict in (Verdict.PASS, Verdict.FAIL) for r in judged):
        return None, None, None  # nothing applies, or nothing could be judged
    part = sum(1 for r in judged if r.verdict is Verdict.PASS)
    return _share(part, len(judged)), part, len(judged)


def _kpis(spec: AnnualSpec, ev: Evaluation) -> list[dict[str, Any]]:
    """Each figure is computed from the results of its obligation, the same results the gaps come from: a figure
    at its 100% target and a gap of its obligation cannot both be shown."""
    out = []
    for k in spec.kpis:
        value, part, whole = _kpi_value(k, ev)
        met = None if value is None else (Decimal(value) >= k.target if k.direction == "at_least"
                                          else Decimal(value) <= k.target)
        out.append({"id": k.id, "rule": k.rule, "title": pick(k.title, k.title_en), "unit": k.unit, "value": value,
                    "part": part, "whole": whole, "target": str(k.target), "direction": k.direction, "met": met,
                    "reference": k.reference})
    return out


def _findings_by_month(ctx: Context, start: dt.date, as_of: dt.date) -> dict[str, dict[str, int]]:
    """Findings first seen in each month of the period (Vietnam time), by severity."""
    table = table_of(FindingRow)
    lo = clock.start_of_day(start)
    hi = clock.end_of_day(as_of)
    months: dict[str, dict[str, int]] = {}
    starts: list[dt.datetime] = []  # the first instant of each month in Vietnam, as the store keeps instants
    day = start.replace(day=1)
    while day <= as_of:
        months[day.strftime("%Y-%m")] = {sev: 0 for sev in SEVERITIES}
        starts.append(clock.to_db(clock.start_of_day(day)))
        day = (day + dt.timedelta(days=32)).replace(day=1)
    buckets = list(months.values())
    with ctx.store.session() as s:
        query = sa_select(table.c.first_seen, table.c.severity).where(table.c.first_seen >= lo, table.c.first_seen < hi)
        for first_seen, severity in s.execute(query):
            at = bisect_right(starts, first_seen if first_seen.tzinfo is None else clock.to_db(first_seen)) - 1
            if at >= 0 and severity in buckets[at]:
                buckets[at][severity] += 1
    return months


def _drill_summary(d: Drill) -> dict[str, Any]:
    return {"id": d.id, "date": d.date.isoformat(), "kind": d.kind, "title": d.title, "systems": list(d.systems),
            "times": response_times(d)}


def _owner_of(inv: Inventory, ev: Evaluation, r: Result) -> str:
    subject = r.subject.split(" ")[0]
    system = inv.system(subject)
    if system is not None and r.rule.startswith("findings."):  # a technical gap: the unit that runs the system
        return inv.organisation_name(system.operator) or system.operator
    if system is not None:
        return inv.organisation_name(system.owner) or system.owner
    if inv.organisation(subject) is not None:
        return inv.organisation_name(subject) or subject
    plan = next((v.plan for v in ev.budget if v.plan.id == subject), None)
    if plan is not None:
        return inv.organisation_name(plan.owner) or plan.owner
    unit = next((o for o in inv.organisations if "security_unit" in o.roles), None)
    return pick(unit.name, unit.name_en) if unit else "—"


def _gaps(inv: Inventory, ev: Evaluation, as_of: dt.date, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each failing obligation with the unit that must act and by when. Technical findings are the operator's, due
    on the earliest remediation date of the system's serious open findings."""
    first_due: dict[str, str] = {}
    for f in findings:
        if not f["accepted"] and f["due_on"] and f["rank"] >= 3:
            first_due[f["system"]] = min(first_due.get(f["system"], f["due_on"]), f["due_on"])
    out = []
    for r in ev.results:
        if not r.verdict.fails_audit:  # it fails, or it cannot be judged
            continue
        rule = ev.rules[r.rule]
        deadline = r.detail.get("due")
        if r.rule.startswith("findings."):
            deadline = deadline or first_due.get(r.subject.split(" ")[0])
        out.append({"rule": r.rule, "title": rule.display_title(), "reference": rule.reference, "subject": r.subject,
                    "verdict": r.verdict.value,
                    "owner": _owner_of(inv, ev, r), "deadline": deadline,
                    "overdue": bool(deadline and deadline < as_of.isoformat()), "evidence": r.evidence})
    return out


def _gaps_by_owner(gaps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The gaps leadership reads: per obligation and owner, how many subjects fail, the first deadline, examples."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for g in gaps:
        groups[(g["rule"], g["owner"])].append(g)
    out = []
    for (rule, owner), items in groups.items():
        deadlines = sorted(g["deadline"] for g in items if g["deadline"])
        out.append({"rule": rule, "title": items[0]["title"], "reference": items[0]["reference"], "owner": owner,
                    "count": len(items), "first_deadline": deadlines[0] if deadlines else None,
                    "overdue": sum(1 for g in items if g["overdue"]), "examples": [g["subject"] for g in items[:3]]})
    return out


def _follow_up(inv: Inventory, ev: Evaluation, as_of: dt.date) -> list[dict[str, Any]]:
    return [{"drill": d.id, "action": f.action, "owner": inv.organisation_name(f.owner),
             "deadline": f.deadline.isoformat(), "done": f.done, "overdue": not f.done and f.deadline < as_of}
            for d in ev.records.drills if d.date <= as_of for f in d.follow_up]


def _previous(ctx: Context, year: int) -> dict[str, str | None]:
    """The KPI values of the latest annual report written for the year before, if there is one."""
    with ctx.store.session() as s:
        row = s.exec(select(ReportRow).where(ReportRow.kind == "annual", ReportRow.key == str(year - 1))
                     .order_by(col(ReportRow.id).desc())).first()
        if row is None:
            return {}
        return {k["id"]: k.get("value") for k in row.snapshot.get("kpis", [])}


def _graded(inv: Inventory, rows: list[dict[str, Any]], findings: list[dict[str, Any]],
            gaps: list[dict[str, Any]]) -> dict[str, Any]:
    """The grade of every system goes into its form 08 row (and the CSV); the leader's page lists the worst ones
    and counts them all."""
    graded = grades(inv, rows, findings, gaps)
    for row, g in zip(rows, graded, strict=True):
        row["grade"] = g["grade"]
    order = {"fail": 0, "to_improve": 1, "pass": 2}
    worst = sorted(graded, key=lambda g: (order[g["grade"]], -g["serious_findings"], -g["overdue_gaps"], -g["gaps"]))
    return {"grades": worst[:GRADE_ROWS], "grade_counts": {k: sum(1 for g in graded if g["grade"] == k) for k in order},
            "grades_total": len(graded)}


def _systems_csv(snapshot: dict[str, Any]) -> str:
    header = [_("No."), _("System id"), _("System"), _("Grade"), _("Owner"), _("Operator"), _("Proposed level"),
              _("Approval status"), _("Approval decision"), _("Approved on"), _("Approved level"),
              _("Security regulation"), _("Expected approval"), _("Deployment"), _("Expected full deployment"),
              _("Inspection"), _("Inspected on"), _("Inspection verdict"), _("Next inspection by"),
              _("Open critical findings"), _("Open high findings")]
    rows = [[s["no"], s["id"], s["name"], label(s.get("grade")), s["owner"], s["operator"], s["proposed_level"],
             label(s["dossier_state"]) if s["dossier_state"] else _("no dossier"), s["decision"], s["approved_on"],
             s["approved_level"], s["regulation"], s["expected_approval"],
             label(s["deployment"]) if s["deployment"] else None, s["full_by"],
             label(s["inspection_kind"]) if s["inspection_kind"] else None, s["inspected_on"],
             label(s["inspection_verdict"]), s["inspection_due"], s["open_critical"], s["open_high"]]
            for s in snapshot["systems"]]
    return csv_text(header, rows)


def _gaps_csv(snapshot: dict[str, Any]) -> str:
    header = [_("Obligation"), _("Title"), _("Reference"), _("Subject"), _("Owner"), _("Deadline"), _("Evidence")]
    rows = [[g["rule"], g["title"], g["reference"], g["subject"], g["owner"], g["deadline"], g["evidence"]]
            for g in snapshot["gaps"]]
    return csv_text(header, rows)


def _inspections_csv(snapshot: dict[str, Any]) -> str:
    return csv_text([_("Inspection"), _("Subject"), _("Date"), _("Kind"), _("Performed by"), _("Independent"),
                     _("Licensed"), _("Findings")],
                    [[i["id"], i["system"] or i["organisation"], i["date"], label(i["kind"]), i["performed_by"],
                      _("yes") if i["independent"] else _("no"), _("yes") if i["licensed_assessor"] else _("no"),
                      i["findings"]] for i in snapshot["inspections"]])


def _findings_csv(rows: list[dict[str, Any]]) -> str:
    """Every finding open at the end of the period (the PDF's appendix shows the most serious first)."""
    return csv_text([_("No."), _("Severity"), _("System"), _("Target"), _("Finding"), _("Since"),
                     _("Responsible unit"), _("Due"), _("State"), _("Risk accepted until"), _("Remediation")],
                    [[n, label(f["severity"]), f["system_name"], f["target"], f["title"], f["first_seen"],
                      f["responsible_name"], f["due_on"] or "", label(f["state"]),
                      f["accepted"]["expires_on"] if f["accepted"] else "", f["remediation"]]
                     for n, f in enumerate(rows, start=1)])


def publish_annual(ctx: Context, year: int, today: dt.date, out_dir: Path,
                   issuer: Issuer | None = None, account: str | None = None) -> tuple[dict[str, Any], Published]:
    """Build the snapshot, then write the report (HTML, PDF, JSON, DOCX, four CSV) and record it in the ledger."""
    with PdfLater(ctx.ws) as pdf:  # forked now: it loads WeasyPrint while the report is built
        return _publish_annual(ctx, year, today, out_dir, issuer, account, pdf)


def _publish_annual(ctx: Context, year: int, today: dt.date, out_dir: Path, issuer: Issuer | None,
                    account: str | None, pdf: PdfLater) -> tuple[dict[str, Any], Published]:
    from auditor.reporting.charts import annual_charts
    from auditor.reporting.docx_export import annual_docx

    snapshot, findings = _build(ctx, year, today)
    vi = get_language() == "vi"
    stem = f"bao-cao-attt-{year}" if vi else f"annual-report-{year}-en"

    def extra(snap: dict[str, Any]) -> dict[str, bytes]:
        csvs = {"-he-thong" if vi else "-systems": _systems_csv(snap), "-ton-tai" if vi else "-gaps": _gaps_csv(snap),
                "-kiem-tra" if vi else "-inspections": _inspections_csv(snap),
                "-phat-hien" if vi else "-findings": _findings_csv(findings)}
        return {f"{suffix}.csv": text.encode("utf-8") for suffix, text in csvs.items()} | {".docx": annual_docx(snap)}

    published = publish(ctx, snapshot, "annual.html.j2", {"charts": annual_charts(snapshot)}, out_dir, stem, issuer,
                        account, extra, pdf)
    return snapshot, published
