"""The level obligations: approved level, go-live gate, stale approvals, TTHC at level 3, quy chế, time limits."""

from __future__ import annotations

import datetime as dt

from auditor.dossier.workflow import deadlines, state_on
from auditor.i18n import _
from auditor.inventory.model import Inventory
from auditor.levels.propose import LevelRules
from auditor.levels.regimes import Calendar
from auditor.obligations.model import Result
from auditor.store.sync import system_digest
from auditor.store.tables import DossierRow

IN_SERVICE = ("operating", "upgrading")


def latest_approved(dossiers: list[DossierRow], system_id: str, on: dt.date | None = None) -> DossierRow | None:
    """The latest approved dossier of a system (as it stood on ``on``, when given)."""
    approved = [d for d in dossiers if d.system_id == system_id and d.state == "approved"
                and (on is None or (d.approved_on is not None and d.approved_on <= on))]
    return max(approved, key=lambda d: d.id or 0) if approved else None


def evaluate_levels(inv: Inventory, dossiers: list[DossierRow], rules: LevelRules, calendar: Calendar,
                    today: dt.date) -> list[Result]:
    out: list[Result] = []
    nd85_start = rules.regimes.get("r85").effective_from
    for s in inv.systems:
        approved = latest_approved(dossiers, s.id, today)
        proposal = rules.propose(s, today)
        # level.approved
        if s.lifecycle not in IN_SERVICE:
            out.append(Result("level.approved", s.id, "not_applicable",
                              _("the system is {state}").format(state=s.lifecycle)))
        elif approved is None:
            out.append(Result("level.approved", s.id, "fail", _("no approved level")))
        elif proposal.level is None:
            out.append(Result("level.approved", s.id, "fail", _("approved at level {level}, but the level cannot be "
                                                                "determined now: {reason}").format(
                level=approved.approved_level, reason=proposal.reason)))
        elif (approved.approved_level or 0) < proposal.level:
            out.append(Result("level.approved", s.id, "fail", _("approved at level {approved} (decision {decision}), "
                                                                "below the proposed level {proposed} ({regime})").format(
                approved=approved.approved_level, decision=approved.decision_number, proposed=proposal.level,
                regime=proposal.regime), {"dossier": approved.id}))
        else:
            out.append(Result("level.approved", s.id, "pass", _("level {level} approved by decision {decision} of "
                                                                "{date}").format(level=approved.approved_level,
                                                                                 decision=approved.decision_number,
                                                                                 date=approved.approved_on),
                              {"dossier": approved.id}))
        # level.golive_after_approval
        if s.go_live is None:
            out.append(Result("level.golive_after_approval", s.id, "not_applicable", _("not live yet")))
        elif s.go_live < nd85_start:
            out.append(Result("level.golive_after_approval", s.id, "not_applicable",
                              _("went live on {date}, before the rule existed").format(date=s.go_live)))
        elif approved is None or approved.approved_on is None:
            out.append(Result("level.golive_after_approval", s.id, "fail",
                              _("live since {date} without an approved level").format(date=s.go_live)))
        elif s.go_live < approved.approved_on:
            out.append(Result("level.golive_after_approval", s.id, "fail", _("went live on {live}, before the "
                                                                             "approval of {approved}").format(
                live=s.go_live, approved=approved.approved_on), {"dossier": approved.id}))
        else:
            out.append(Result("level.golive_after_approval", s.id, "pass", _("approved on {approved}, live on {live}")
                              .format(approved=approved.approved_on, live=s.go_live), {"dossier": approved.id}))
        # level.approval_current
        if approved is None:
            out.append(Result("level.approval_current", s.id, "not_applicable", _("no approved level")))
        elif approved.snapshot.get("overview", {}).get("system_sha256") != system_digest(s):
            out.append(Result("level.approval_current", s.id, "fail", _("the system's declaration changed after the "
                                                                        "approval of {date}: re-approval needed").format(
                date=approved.approved_on), {"dossier": approved.id}))
        else:
            out.append(Result("level.approval_current", s.id, "pass", _("unchanged since the approval of {date}")
                              .format(date=approved.approved_on), {"dossier": approved.id}))
        # level.tthc_level3
        if not s.facts.administrative_procedures or s.lifecycle == "retired":
            out.append(Result("level.tthc_level3", s.id, "not_applicable", _("does not handle administrative "
                                                                              "procedures")))
        elif approved is not None and (approved.approved_level or 0) >= 3:
            out.append(Result("level.tthc_level3", s.id, "pass", _("approved at level {level}")
                              .format(level=approved.approved_level)))
        else:
            out.append(Result("level.tthc_level3", s.id, "fail", _("not approved at level 3 or higher")))
        # level.regulation_before_approval
        if approved is None or approved.approved_on is None:
            out.append(Result("level.regulation_before_approval", s.id, "not_applicable", _("no approved level")))
        else:
            owner = inv.organisation(s.owner)
            reg = owner.security_regulation if owner else None
            if reg is None:
                out.append(Result("level.regulation_before_approval", s.id, "fail", _("{owner} has declared no "
                                                                                      "security regulation").format(
                    owner=s.owner)))
            elif reg.issued_on > approved.approved_on:
                out.append(Result("level.regulation_before_approval", s.id, "fail", _(
                    "regulation {decision} issued on {issued}, after the approval of {approved}").format(
                    decision=reg.decision, issued=reg.issued_on, approved=approved.approved_on)))
            else:
                out.append(Result("level.regulation_before_approval", s.id, "pass", _(
                    "regulation {decision} issued on {issued}, before the approval of {approved}").format(
                    decision=reg.decision, issued=reg.issued_on, approved=approved.approved_on)))
    for d in dossiers:
        if state_on(d, today) is None:
            continue  # built after the day judged
        regime = rules.regimes.get(d.regime)
        for dl in deadlines(d, regime, calendar, today):
            status = dl.status(today)
            verdict = "fail" if status in ("late", "overdue") else "pass"
            out.append(Result("dossier.time_limits", f"{d.system_id} (dossier {d.id})", verdict,
                              _("{step}: due {due}, {status}").format(step=dl.step, due=dl.due,
                                                                     status=deadline_label(status)),
                              {"dossier": d.id, "step": dl.step, "due": dl.due.isoformat(), "status": status}))
    return out


def deadline_label(status: str) -> str:
    return {"late": _("done late"), "overdue": _("overdue"), "on_time": _("done on time"),
            "pending": _("pending")}.get(status, status)
