"""The obligations the records answer: periodic inspections (systems and organisations), licensed assessors,
a live-fire drill every year, current response plans, and open technical findings by severity."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from auditor import clock
from auditor.i18n import _
from auditor.inventory.model import Inventory, System
from auditor.levels.regimes import Regimes
from auditor.obligations.model import Result, RuleSpec, audit_fail_from
from auditor.records.load import Records
from auditor.records.model import Inspection
from auditor.textformat import by_severity, day
from auditor.vocabulary import SEVERITIES, FindingStatus, Severity, Verdict, finding_fails_audit


@dataclass(frozen=True)
class Standing:
    """What the evaluation needs to know of each system beyond the inventory and the records."""

    levels: dict[str, int | None]  # approved level, else proposed
    approved_on: dict[str, dt.date]  # date of the latest approval
    open_findings: dict[str, Counter[str]]  # system → severity → open (not accepted) findings on the day
    last_scanned: dict[str, dt.datetime]  # system → the end of the last completed scan run that judged it


def _periodic(rule: str, subject: str, last: Inspection | None, baseline: dt.date | None, months: int,
              today: dt.date, detail: dict[str, object]) -> Result:
    if last is not None:
        due = clock.add_months(last.date, months)
        detail = {**detail, "last": last.date.isoformat(), "inspection": last.id, "due": due.isoformat()}
        evidence = _("last inspected on {date} by {by} ({id}); next due by {due} (every {months} months)").format(
            date=day(last.date), by=last.performed_by, id=last.id, due=day(due), months=months)
        return Result(rule, subject, Verdict.FAIL if today > due else Verdict.PASS, evidence, detail)
    if baseline is None:
        return Result(rule, subject, Verdict.FAIL, _("never inspected"), detail)
    due = clock.add_months(baseline, months)
    detail = {**detail, "last": None, "due": due.isoformat()}
    if today > due:
        return Result(rule, subject, Verdict.FAIL,
                      _("never inspected; the first inspection was due by {due}").format(due=day(due)), detail)
    # not due yet: nothing to judge (and no "inspected on time" to count)
    return Result(rule, subject, Verdict.NOT_APPLICABLE,
                  _("not inspected yet; the first inspection is due by {due}").format(due=day(due)), detail)


def evaluate_records(inv: Inventory, records: Records, standing: Standing, regimes: Regimes,
                     rules: dict[str, RuleSpec], today: dt.date, period_start: dt.date | None = None) -> list[Result]:
    """``period_start``: judge only the drill years that fall in a reporting period starting then."""
    regime = regimes.in_force(today)
    in_service = [s for s in inv.systems if s.in_service_on(today)]
    out: list[Result] = []
    for s in in_service:
        out += _system_inspections(s, records, standing, regime.inspection_months, regime.licensed_assessor_from_level,
                                   regime.id, today)
    out += _organisation_inspections(inv, in_service, records, regime.inspection_months.get("organisation"), regime.id,
                                     today)
    out += _drills(in_service, records, today, period_start)
    plan_rule = rules["response_plan.current"].params
    for s in in_service:
        out.append(_response_plan(s, records, standing.levels.get(s.id), int(plan_rule.get("from_level", 3)),
                                  int(plan_rule.get("review_months", 12)), today))
    fail_from = audit_fail_from(rules)
    for s in in_service:
        out.append(_findings(s, standing.open_findings.get(s.id, Counter()), standing.last_scanned.get(s.id),
                             fail_from, today))
    return out


def _system_inspections(s: System, records: Records, standing: Standing, months_by_level: dict[str, int],
                        licensed_from: int, regime: str, today: dt.date) -> list[Result]:
    level = standing.levels.get(s.id)
    last = records.last_inspection(today, system=s.id)
    if level is None:
        undetermined = _("the level is not determined yet")
        return [Result("inspection.system_periodic", s.id, Verdict.NOT_APPLICABLE, undetermined),
                Result("inspection.licensed_assessor", s.id, Verdict.NOT_APPLICABLE, undetermined)]
    months = months_by_level.get(str(level))
    if months is None:
        periodic = Result("inspection.system_periodic", s.id, Verdict.NOT_APPLICABLE, _(
            "no periodic inspection is set for level {level} ({regime})").format(level=level, regime=regime))
    else:
        baseline = standing.approved_on.get(s.id) or s.go_live
        periodic = _periodic("inspection.system_periodic", s.id, last, baseline, months, today,
                             {"level": level, "months": months, "regime": regime})
    out = [periodic]
    if level < licensed_from:
        out.append(Result("inspection.licensed_assessor", s.id, Verdict.NOT_APPLICABLE, _(
            "level {level}: a licensed assessor is required from level {from_level} ({regime})").format(
            level=level, from_level=licensed_from, regime=regime)))
    elif last is None and periodic.verdict is not Verdict.FAIL:
        out.append(Result("inspection.licensed_assessor", s.id, Verdict.NOT_APPLICABLE, _("no inspection is due yet")))
    elif last is None:
        out.append(Result("inspection.licensed_assessor", s.id, Verdict.FAIL, _("no inspection recorded")))
    else:
        verdict = Verdict.PASS if last.licensed_assessor else Verdict.FAIL
        evidence = (_("inspection {id} of {date} by {by}, a licensed assessor ({licence})") if last.licensed_assessor
                    else _("inspection {id} of {date} by {by}, not a licensed assessor")).format(
            id=last.id, date=day(last.date), by=last.performed_by, licence=last.licence or "—")
        out.append(Result("inspection.licensed_assessor", s.id, verdict, evidence, {"inspection": last.id}))
    return out


def _organisation_inspections(inv: Inventory, in_service: list[System], records: Records, months: int | None,
                              regime: str, today: dt.date) -> list[Result]:
    out = []
    for org in inv.organisations:
        owned = [s for s in in_service if s.owner == org.id]
        if not owned:
            continue
        if months is None:
            out.append(Result("inspection.organisation_periodic", org.id, Verdict.NOT_APPLICABLE,
                              _("no organisation-wide period is set ({regime})").format(regime=regime)))
            continue
        lives = [s.go_live for s in owned if s.go_live is not None]
        last = records.last_inspection(today, organisation=org.id)
        out.append(_periodic("inspection.organisation_periodic", org.id, last, min(lives) if lives else None, months,
                             today, {"months": months, "regime": regime, "systems": len(owned)}))
    return out


def _drills(in_service: list[System], records: Records, today: dt.date, period_start: dt.date | None) -> list[Result]:
    """The current calendar year, and the previous one when a system was already in service then (in a report:
    the calendar years its period overlaps, up to the day)."""
    first = today.year - 1 if period_start is None else period_start.year
    years = [y for y in range(first, today.year + 1)
             if y == today.year or any(s.go_live is not None and s.go_live.year <= y for s in in_service)]
    out = []
    for year in years:
        held = sorted((d for d in records.drills if d.kind == "live_fire" and d.date.year == year and d.date <= today),
                      key=lambda d: d.date)
        if held:
            out.append(Result("drill.live_fire_yearly", str(year), Verdict.PASS, _("live-fire drill {id} on {date}: {title}")
                              .format(id=held[0].id, date=day(held[0].date), title=held[0].title),
                              {"drills": [d.id for d in held]}))
        else:
            tabletop = [d.id for d in records.drills if d.date.year == year and d.date <= today]
            out.append(Result("drill.live_fire_yearly", str(year), Verdict.FAIL, _(
                "no live-fire drill in {year} (due by 31/12/{year})").format(year=year),
                {"other_drills": tabletop, "due": f"{year}-12-31"}))
    return out


def _response_plan(s: System, records: Records, level: int | None, from_level: int, review_months: int,
                   today: dt.date) -> Result:
    rule = "response_plan.current"
    if level is None or level < from_level:
        return Result(rule, s.id, Verdict.NOT_APPLICABLE, _("level {level}: required from level {from_level}").format(
            level=level if level is not None else _("not determined"), from_level=from_level))
    plan = records.response_plan(s.id)
    if plan is None or plan.approved_on > today:
        return Result(rule, s.id, Verdict.FAIL, _("no approved incident-response plan"))
    reviewed = plan.reviewed if plan.reviewed <= today else plan.approved_on
    due = clock.add_months(reviewed, review_months)
    detail = {"document": plan.document, "approved_on": plan.approved_on.isoformat(), "reviewed": reviewed.isoformat(),
              "due": due.isoformat()}
    if today > due:
        return Result(rule, s.id, Verdict.FAIL, _("plan {document} last reviewed on {reviewed}; a review was due by {due}")
                      .format(document=plan.document, reviewed=day(reviewed), due=day(due)), detail)
    return Result(rule, s.id, Verdict.PASS, _("plan {document}, approved on {approved}, reviewed on {reviewed}").format(
        document=plan.document, approved=day(plan.approved_on), reviewed=day(reviewed)), detail)


def _findings(s: System, counts: Counter[str], scanned: dt.datetime | None, fail_from: Severity,
              today: dt.date) -> Result:
    rule = "findings.open_by_severity"
    if not s.hosts and not s.endpoints:
        return Result(rule, s.id, Verdict.NOT_APPLICABLE, _("no host or endpoint declared to check"))
    if scanned is None and not counts:
        # never judged by a scan: it has not been shown to be free of findings
        return Result(rule, s.id, Verdict.INDETERMINATE, _("not scanned by {date}: no technical evidence").format(
            date=day(today)))
    detail: dict[str, Any] = {sev.value: counts.get(sev, 0) for sev in SEVERITIES}
    failing = any(counts.get(sev, 0) and finding_fails_audit(FindingStatus.OPEN, sev, fail_from) for sev in SEVERITIES)
    verdict = Verdict.FAIL if failing else Verdict.PASS
    return Result(rule, s.id, verdict, _("open findings: {counts}").format(counts=by_severity(counts)), detail)
