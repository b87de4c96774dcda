"""What the console's pages show: the dashboard (the annual report's figures, live), the systems with their level,
dossier and open findings, and one finding with what the catalogue says to do about it."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, select

from auditor.catalogue.checks import load_catalogue
from auditor.context import Context
from auditor.findings.lifecycle import list_findings
from auditor.findings.policy import load_acceptance_policy
from auditor.findings.remediation import Remediation, load_remediation_policy, remediation_of
from auditor.findings.view import FindingView, effective_view
from auditor.i18n import _
from auditor.inventory.model import System
from auditor.levels.current import current_levels
from auditor.levels.propose import LevelRules
from auditor.obligations.model import load_rules
from auditor.reporting.annual import build_annual, load_annual_spec, reporting_period
from auditor.store.tables import DossierRow, FindingAssignmentRow, FindingRow, LedgerRow, RiskAcceptanceRow
from auditor.vocabulary import SEVERITIES, FindingStatus

TOP_RISKS = 10


def report_year(ctx: Context, today: dt.date) -> int:
    """The year whose reporting period ``today`` falls in (15/12 of the year before to 14/12)."""
    profiles = ctx.ws.content("profiles")
    spec = load_annual_spec(profiles, load_rules(profiles))
    return today.year + 1 if today > reporting_period(spec, today.year)[1] else today.year


@dataclass(frozen=True)
class Dashboard:
    year: int
    snapshot: dict[str, Any]
    charts: dict[str, str]
    top_risks: list[FindingView]

    def as_json(self) -> dict[str, Any]:
        s = self.snapshot
        return {"year": self.year, "period": s["period"], "kpis": s["kpis"], "counts": s["counts"],
                "findings": s["findings"], "gaps_by_owner": s["gaps_by_owner"],
                "overdue": [g for g in s["gaps"] if g["overdue"]],
                "top_risks": [f.as_json() for f in self.top_risks]}


def dashboard(ctx: Context, today: dt.date) -> Dashboard:
    from auditor.reporting.charts import annual_charts

    year = report_year(ctx, today)
    snapshot = build_annual(ctx, year, today)
    with ctx.store.session() as s:
        open_now = [f for f in list_findings(s, today) if f.status is FindingStatus.OPEN]
    top = sorted(open_now, key=lambda f: (-f.severity.rank, f.first_seen))[:TOP_RISKS]
    return Dashboard(year, snapshot, annual_charts(snapshot), top)


@dataclass(frozen=True)
class SystemSummary:
    system: System
    owner: str
    proposed_level: int | None
    approved_level: int | None
    dossier_state: str | None
    dossier_id: int | None
    open_findings: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.system.id, "name": self.system.name, "owner": self.owner,
                "lifecycle": self.system.lifecycle.value, "proposed_level": self.proposed_level,
                "approved_level": self.approved_level, "dossier": self.dossier_id, "dossier_state": self.dossier_state,
                "open_findings": self.open_findings}


def systems_overview(ctx: Context, today: dt.date) -> list[SystemSummary]:
    inv = ctx.loaded.inventory
    rules = LevelRules(ctx.ws.content("profiles"))
    with ctx.store.session() as s:
        latest: dict[str, DossierRow] = {}
        for d in s.exec(select(DossierRow).order_by(col(DossierRow.id))):
            latest[d.system_id] = d
        approved: dict[str, int] = {}
        for d in s.exec(select(DossierRow).where(DossierRow.state == "approved").order_by(col(DossierRow.id))):
            if d.approved_level is not None:
                approved[d.system_id] = d.approved_level
        counts: dict[str, Counter[str]] = {}
        for f in list_findings(s, today):
            if f.status is FindingStatus.OPEN:
                counts.setdefault(f.system, Counter())[f.severity.value] += 1
    out = []
    for system in inv.systems:
        last = latest.get(system.id)
        c = counts.get(system.id, Counter())
        out.append(SystemSummary(system, inv.organisation_name(system.owner) or system.owner,
                                 rules.propose(system, today).level, approved.get(system.id),
                                 last.state if last else None, last.id if last else None,
                                 {sev.value: c[sev.value] for sev in SEVERITIES if c[sev.value]}))
    return out


@dataclass(frozen=True)
class HistoryEntry:
    seq: int
    at: dt.datetime
    kind: str
    summary: dict[str, Any]


def history(ctx: Context, subjects: list[str], limit: int = 100) -> list[HistoryEntry]:
    """The ledger entries about these subjects (``system/ID``, ``finding/N``, ``dossier/N``), newest first."""
    with ctx.store.session() as s:
        rows = s.exec(select(LedgerRow).where(col(LedgerRow.subject).in_(subjects))
                      .order_by(col(LedgerRow.seq).desc()).limit(limit)).all()
    keep = ("on", "account", "accepted_by", "expires_on", "justification", "organisation", "signer", "reason",
            "status", "severity", "by", "due_on", "state", "note")
    out = []
    for r in rows:
        payload = r.payload if isinstance(r.payload, dict) else {}
        found = payload.get("decision")
        decision: dict[str, Any] = found if isinstance(found, dict) else {}
        merged = {**decision, **payload}  # a signed step: who, for whom and when are in its decision
        out.append(HistoryEntry(r.seq, r.at, r.kind, {k: merged[k] for k in keep if merged.get(k) is not None}))
    return out


@dataclass(frozen=True)
class FindingDetail:
    view: FindingView
    title: str
    remediation: str
    references: list[str]
    acceptances: list[RiskAcceptanceRow]
    history: list[HistoryEntry]
    longest_acceptance: dt.date  # the latest expiry the policy allows for its severity, from today
    tracking: Remediation  # who must fix it, by when, where it stands
    assignments: list[FindingAssignmentRow]
    today: dt.date

    def as_json(self) -> dict[str, Any]:
        return {**self.view.as_json(), "title": self.title, "remediation": self.remediation,
                "references": self.references,
                "acceptances": [{"justification": a.justification, "accepted_by": a.accepted_by,
                                 "accepted_at": a.accepted_at.isoformat(), "expires_on": a.expires_on.isoformat()}
                                for a in self.acceptances],
                "remediation_status": self.tracking.as_json(self.today),
                "assignments": [{"organisation": a.organisation_id, "due_on": a.due_on.isoformat() if a.due_on else None,
                                 "state": a.state, "note": a.note, "by": a.assigned_by,
                                 "at": a.assigned_at.isoformat()} for a in self.assignments],
                "history": [{"seq": h.seq, "at": h.at.isoformat(), "kind": h.kind, **h.summary} for h in self.history]}


class NotFound(Exception):
    """No such finding / system / file (the console answers 404)."""


def finding_detail(ctx: Context, finding_id: int, today: dt.date) -> FindingDetail:
    catalogue = load_catalogue(ctx.ws.content("checks"))
    with ctx.store.session() as s:
        row = s.get(FindingRow, finding_id)
        if row is None:
            raise NotFound(_("no finding has the id {id}").format(id=finding_id))
        accs = list(s.exec(select(RiskAcceptanceRow).where(RiskAcceptanceRow.finding_id == finding_id)
                           .order_by(col(RiskAcceptanceRow.id))))
        view = effective_view(row, accs[-1] if accs else None, today)
        given = list(s.exec(select(FindingAssignmentRow).where(FindingAssignmentRow.finding_id == finding_id)
                            .order_by(col(FindingAssignmentRow.id))))
        levels = current_levels(s, ctx.loaded.inventory, ctx.ws.content("profiles"), today)
    system = ctx.loaded.inventory.system(view.system)
    tracking = remediation_of(view, system.operator if system else "—", levels.get(view.system),
                                 load_remediation_policy(ctx.ws.content("profiles")), given[-1] if given else None)
    spec = catalogue.checks.get(view.check)
    title = spec.display_title() if spec else view.check
    advice = spec.display_remediation() if spec else ""
    refs = list(spec.covers) if spec else []
    longest = load_acceptance_policy(ctx.ws.content("profiles")).longest(view.severity)
    return FindingDetail(view, title, advice, refs, accs, _finding_history(ctx, view, finding_id),
                         today + dt.timedelta(days=longest), tracking, given, today)


def _finding_history(ctx: Context, view: FindingView, finding_id: int, scans: int = 200) -> list[HistoryEntry]:
    """The finding's own entries (acceptances), and what each of the latest scans recorded of it."""
    own = history(ctx, [f"finding/{finding_id}"])
    key = [view.check, view.system, view.target]
    with ctx.store.session() as s:
        rows = s.exec(select(LedgerRow).where(col(LedgerRow.kind).in_(("scan.completed", "ledger.baseline")))
                      .order_by(col(LedgerRow.seq).desc()).limit(scans)).all()
    seen = []
    for r in rows:
        for record in (r.payload.get("findings") or []) if isinstance(r.payload, dict) else []:
            if isinstance(record, list) and record[:3] == key:
                seen.append(HistoryEntry(r.seq, r.at, r.kind, {"severity": record[3], "status": record[4]}))
    return sorted(own + seen, key=lambda h: -h.seq)
