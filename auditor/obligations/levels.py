"""The level obligations: approved level, go-live gate, stale approvals, TTHC at level 3, quy chế, time limits.

Every one of them reads the system with its components (as ``level propose`` does), the dossiers as they stood at
the end of the day judged, and the regime's transitional provisions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from auditor.dossier.workflow import deadlines, state_on
from auditor.i18n import _
from auditor.inventory.model import Inventory, System
from auditor.labels import label
from auditor.levels.material import material_changes
from auditor.levels.propose import LevelRules
from auditor.levels.regimes import Calendar
from auditor.obligations.model import Result
from auditor.store.tables import DossierRow
from auditor.textformat import day
from auditor.vocabulary import DossierState, Lifecycle, Verdict


def latest_approved(dossiers: list[DossierRow], system_id: str, on: dt.date | None = None) -> DossierRow | None:
    """The latest approved dossier of a system (as it stood on ``on``, when given)."""
    approved = [d for d in dossiers if d.system_id == system_id and d.state == DossierState.APPROVED
                and (on is None or (d.approved_on is not None and d.approved_on <= on))]
    return max(approved, key=lambda d: d.id or 0) if approved else None


def evaluate_levels(inv: Inventory, dossiers: list[DossierRow], rules: LevelRules, calendar: Calendar,
                    today: dt.date, material: Sequence[str], period_start: dt.date | None = None) -> list[Result]:
    out: list[Result] = []
    for s in inv.systems:
        approved = latest_approved(dossiers, s.id, today)
        out.append(_approved(s, approved, rules, today))
        out.append(_golive(s, approved, rules, today, period_start))
        out.append(_current(s, approved, material))
        out.append(_procedures(s, approved))
        out.append(_regulation(inv, s, approved))
    for d in dossiers:
        if state_on(d, today) is None:
            continue  # built after the day judged
        regime = rules.regimes.get(d.regime)
        for dl in deadlines(d, regime, calendar, today):
            status = dl.status(today)
            verdict = Verdict.FAIL if status in ("late", "overdue") else Verdict.PASS
            out.append(Result("dossier.time_limits", f"{d.system_id} (dossier {d.id})", verdict,
                              _("{step}: due {due}, {status}").format(step=label(dl.step), due=day(dl.due),
                                                                     status=deadline_label(status)),
                              {"dossier": d.id, "step": dl.step, "due": dl.due.isoformat(), "status": status}))
    return out


def _approved(s: System, approved: DossierRow | None, rules: LevelRules, today: dt.date) -> Result:
    rule = "level.approved"
    if not s.in_service_on(today):
        finish = rules.regimes.finish_under_old(None, s.investment_decided_on, today) \
            if s.lifecycle in (Lifecycle.PLANNED, Lifecycle.BUILDING) else None
        if finish is not None and approved is None:
            due = finish.until - dt.timedelta(days=1)
            return Result(rule, s.id, Verdict.NOT_APPLICABLE, _(
                "the system is {state}; under investment since {since}, it may finish its appraisal and approval "
                "under {regime} by {due} ({reference})").format(
                state=label(s.lifecycle), since=day(s.investment_decided_on),
                regime=rules.regimes.get(finish.regime).display_name(), due=day(due),
                reference=finish.reference), {"due": due.isoformat(), "transition": finish.id})
        return Result(rule, s.id, Verdict.NOT_APPLICABLE, _("the system is {state}").format(state=label(s.lifecycle)))
    if approved is None:
        return Result(rule, s.id, Verdict.FAIL, _("no approved level"))
    level = approved.approved_level or 0
    detail: dict[str, object] = {"dossier": approved.id, "regime": approved.regime}
    kept = rules.regimes.kept_level(approved.regime, today)
    if kept is not None:
        # Luật 116 Điều 45.1: the level determined under the old law is kept; only its own criteria can say it is
        # too low (the system's facts changed); the new regime's proposal is shown, with the measures' due date
        proposal = rules.propose(s, today, approved.regime)
        new = rules.propose(s, today)
        detail |= {"transition": kept.id, "due": kept.measures_due.isoformat(), "proposed_now": new.level}
        if proposal.level is not None and level >= proposal.level:
            return Result(rule, s.id, Verdict.PASS, _(
                "level {level} approved by decision {decision} of {date} under {old}, kept ({reference}); the "
                "measures of {new} for it are due by {due} (under {new} the proposal would be level {proposed})").format(
                level=level, decision=approved.decision_number, date=day(approved.approved_on),
                old=rules.regimes.get(approved.regime).display_name(),
                reference=kept.reference, new=rules.regimes.get(new.regime).display_name(), due=day(kept.measures_due),
                proposed=new.level if new.level is not None else _("not determined")), detail)
    else:
        proposal = rules.propose(s, today)
    if proposal.level is None:
        return Result(rule, s.id, Verdict.FAIL, _("approved at level {level}, but the level cannot be determined now: "
                                                  "{reason}").format(level=level, reason=proposal.reason), detail)
    if level < proposal.level:
        return Result(rule, s.id, Verdict.FAIL, _("approved at level {approved} (decision {decision}), below the "
                                                  "proposed level {proposed} ({regime})").format(
            approved=level, decision=approved.decision_number, proposed=proposal.level,
            regime=rules.regimes.get(proposal.regime).display_name()), detail)
    return Result(rule, s.id, Verdict.PASS, _("level {level} approved by decision {decision} of {date}").format(
        level=level, decision=approved.decision_number, date=day(approved.approved_on)), detail)


def _golive(s: System, approved: DossierRow | None, rules: LevelRules, today: dt.date,
            period_start: dt.date | None) -> Result:
    rule = "level.golive_after_approval"
    nd85_start = rules.regimes.get("r85").effective_from
    if s.go_live is None or s.go_live > today:
        return Result(rule, s.id, Verdict.NOT_APPLICABLE, _("not live yet"))
    if s.go_live < nd85_start:
        return Result(rule, s.id, Verdict.NOT_APPLICABLE,
                      _("went live on {date}, before the rule existed").format(date=day(s.go_live)))
    if period_start is not None and s.go_live < period_start:
        return Result(rule, s.id, Verdict.NOT_APPLICABLE, _("went live on {date}, before this reporting period")
                      .format(date=day(s.go_live)))
    if approved is None or approved.approved_on is None:
        return Result(rule, s.id, Verdict.FAIL, _("live since {date} without an approved level").format(date=day(s.go_live)))
    if s.go_live < approved.approved_on:
        return Result(rule, s.id, Verdict.FAIL, _("went live on {live}, before the approval of {approved}").format(
            live=s.go_live, approved=approved.approved_on), {"dossier": approved.id})
    return Result(rule, s.id, Verdict.PASS, _("approved on {approved}, live on {live}").format(
        approved=approved.approved_on, live=s.go_live), {"dossier": approved.id})


def _shown(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def _current(s: System, approved: DossierRow | None, material: Sequence[str]) -> Result:
    rule = "level.approval_current"
    if approved is None:
        return Result(rule, s.id, Verdict.NOT_APPLICABLE, _("no approved level"))
    declared = approved.snapshot.get("overview", {}).get("system", {})
    changes = material_changes(declared, s.model_dump(mode="json", exclude_none=True), material)
    if changes:
        shown = "; ".join(f"{c.field}: {_shown(c.approved)} → {_shown(c.now)}" for c in changes[:5])
        more = len(changes) - 5
        return Result(rule, s.id, Verdict.FAIL, _(
            "changed since the approval of {date}, re-approval needed: {changes}").format(
            date=day(approved.approved_on), changes=shown + (f"; (+{more})" if more > 0 else "")),
            {"dossier": approved.id, "changes": [c.as_json() for c in changes]})
    return Result(rule, s.id, Verdict.PASS, _("unchanged since the approval of {date}").format(
        date=day(approved.approved_on)), {"dossier": approved.id})


def _procedures(s: System, approved: DossierRow | None) -> Result:
    rule = "level.tthc_level3"
    where = s.handles_procedures()
    if where is None or s.lifecycle is Lifecycle.RETIRED:
        return Result(rule, s.id, Verdict.NOT_APPLICABLE, _("does not handle administrative procedures"))
    part = "" if where == s.id else _(" (component {component})").format(component=where)
    if approved is not None and (approved.approved_level or 0) >= 3:
        return Result(rule, s.id, Verdict.PASS, _("handles administrative procedures{part}; approved at level {level}")
                      .format(part=part, level=approved.approved_level), {"component": where})
    return Result(rule, s.id, Verdict.FAIL, _("handles administrative procedures{part}; not approved at level 3 or "
                                              "higher").format(part=part), {"component": where})


def _regulation(inv: Inventory, s: System, approved: DossierRow | None) -> Result:
    rule = "level.regulation_before_approval"
    if approved is None or approved.approved_on is None:
        return Result(rule, s.id, Verdict.NOT_APPLICABLE, _("no approved level"))
    owner = inv.organisation(s.owner)
    reg = owner.security_regulation if owner else None
    if reg is None:
        return Result(rule, s.id, Verdict.FAIL, _("{owner} has declared no security regulation").format(owner=s.owner))
    if reg.issued_on > approved.approved_on:
        return Result(rule, s.id, Verdict.FAIL, _(
            "regulation {decision} issued on {issued}, after the approval of {approved}").format(
            decision=reg.decision, issued=reg.issued_on, approved=approved.approved_on))
    return Result(rule, s.id, Verdict.PASS, _(
        "regulation {decision} issued on {issued}, before the approval of {approved}").format(
        decision=reg.decision, issued=reg.issued_on, approved=approved.approved_on))


def deadline_label(status: str) -> str:
    return {"late": _("done late"), "overdue": _("overdue"), "on_time": _("done on time"),
            "pending": _("pending")}.get(status, status)
