"""What falls due: remediation due dates, risk acceptances about to lapse, certificates about to expire, dossier
time limits, and the inspections and drills the obligations call for; each with the unit that must act, so that
one message per unit can tell it."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from auditor.catalogue.checks import load_catalogue
from auditor.context import Context
from auditor.dossier.authority import who_may
from auditor.findings.lifecycle import list_findings
from auditor.findings.remediation import WorkState, load_remediation_policy, remediation_of
from auditor.i18n import _
from auditor.labels import label
from auditor.levels.current import current_levels
from auditor.levels.propose import LevelRules
from auditor.obligations.evaluate import evaluate_obligations
from auditor.services.dossiers import list_dossiers
from auditor.store.tables import FindingAssignmentRow
from auditor.vocabulary import FindingStatus, Verdict


@dataclass(frozen=True)
class Reminder:
    kind: str  # remediation, acceptance, certificate, dossier, obligation
    due: dt.date
    responsible: str  # an organisation id
    subject: str
    what: str
    reference: str

    def overdue(self, today: dt.date) -> bool:
        return self.due < today

    def as_json(self, today: dt.date) -> dict[str, Any]:
        return {"kind": self.kind, "due": self.due.isoformat(), "overdue": self.overdue(today),
                "responsible": self.responsible, "subject": self.subject, "what": self.what,
                "reference": self.reference}


def reminders(ctx: Context, today: dt.date, days: int) -> list[Reminder]:
    """Everything due by ``today + days`` (overdue included), soonest first."""
    horizon = today + dt.timedelta(days=days)
    inv = ctx.loaded.inventory
    profiles = ctx.ws.content("profiles")
    catalogue = load_catalogue(ctx.ws.content("checks"))
    policy = load_remediation_policy(profiles)
    out: list[Reminder] = []
    with ctx.store.session() as s:
        views = list_findings(s, today)
        latest = {a.finding_id: a for a in s.exec(select(FindingAssignmentRow).order_by(col(FindingAssignmentRow.id)))}
        levels = current_levels(s, inv, profiles, today)
    for v in views:
        system = inv.system(v.system)
        operator = system.operator if system else v.system
        if v.status is FindingStatus.ACCEPTED and v.acceptance is not None:
            expires = dt.date.fromisoformat(v.acceptance["expires_on"])
            if expires <= horizon:
                owner = system.security_unit or system.owner if system else operator
                out.append(Reminder("acceptance", expires, owner, f"{v.system} {v.target}",
                                    _("the acceptance of finding {id} ({title}) ends; decide again or fix it").format(
                                        id=v.id, title=catalogue.title(v.check)), v.acceptance["accepted_by"]))
            continue
        r = remediation_of(v, operator, levels.get(v.system), policy, latest.get(v.id))
        if v.check == "tls.cert.expiring" and "not_after" in v.detail:
            expiry = dt.datetime.fromisoformat(str(v.detail["not_after"])).date()
            if expiry <= horizon:
                out.append(Reminder("certificate", expiry, r.responsible, f"{v.system} {v.target}",
                                    _("the certificate expires; renew it (finding {id})").format(id=v.id),
                                    catalogue.get(v.check).covers[0] if catalogue.get(v.check).covers else ""))
        if r.due_on is not None and r.due_on <= horizon and r.state is not WorkState.VERIFIED:
            out.append(Reminder("remediation", r.due_on, r.responsible, f"{v.system} {v.target}",
                                _("fix finding {id}: {title} ({state})").format(
                                    id=v.id, title=catalogue.title(v.check), state=label(r.state.value)), r.basis))
    rules = LevelRules(profiles)
    for view in list_dossiers(ctx, today):
        frozen = view.row.parties.get("organisations")
        for d in view.deadlines:
            if d.status not in ("pending", "overdue") or d.due > horizon:
                continue
            who = [view.row.system_id]
            if isinstance(frozen, dict):
                step = "appraise" if d.step == "appraisal" else "approve"
                orgs = who_may(frozen, rules.regimes.get(view.row.regime), view.row.proposed_level, step)[0]
                who = [str(o["id"]) for o in orgs] or who
            for org in who:
                out.append(Reminder("dossier", d.due, org, view.row.system_id,
                                    _("dossier {id}: the {step} is due").format(id=view.row.id, step=label(d.step)),
                                    d.reference))
    evaluation = evaluate_obligations(ctx, today)
    for res in evaluation.results:
        due = res.detail.get("due")
        if not isinstance(due, str) or res.verdict is Verdict.NOT_APPLICABLE:
            continue
        day = dt.date.fromisoformat(due)
        if day > horizon or (res.verdict is Verdict.PASS and day < today):
            continue
        rule = evaluation.rules[res.rule]
        subject = res.subject.split(" ")[0]
        system = inv.system(subject)
        if system is not None:
            owner = system.owner
        elif inv.organisation(subject) is not None:
            owner = subject
        else:  # a year's drill, a plan: the security unit keeps them
            owner = next((o.id for o in inv.organisations if "security_unit" in o.roles), subject)
        out.append(Reminder("obligation", day, owner, res.subject, rule.display_title(), rule.reference))
    return sorted(out, key=lambda x: (x.due, x.responsible, x.kind, x.subject))


def by_unit(items: list[Reminder]) -> dict[str, list[Reminder]]:
    grouped: dict[str, list[Reminder]] = defaultdict(list)
    for item in items:
        grouped[item.responsible].append(item)
    return dict(sorted(grouped.items()))
