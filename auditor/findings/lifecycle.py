"""Apply a run's outcomes to the findings, and read findings with their effective status.

A failing outcome opens a finding (or updates its last-seen); a passing or no-longer-applicable outcome
from a later successful probe of the same target resolves it; an indeterminate outcome changes nothing.
Acceptance is a decision with an expiry: an open finding with an unexpired acceptance shows as
"accepted", and shows as "open" again once the acceptance has expired.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from auditor import clock
from auditor.evaluate.outcome import Outcome
from auditor.findings.policy import AcceptancePolicy
from auditor.findings.view import FindingView, effective_view, matches_check
from auditor.i18n import _
from auditor.inventory.model import Inventory
from auditor.ledger.chain import append, canonical
from auditor.problems import UserError
from auditor.store.db import INSERT_BATCH
from auditor.store.tables import FindingRow, RiskAcceptanceRow, table_of
from auditor.vocabulary import FindingStatus, Severity, Verdict

if TYPE_CHECKING:  # signing loads cryptography's X.509 code, which listing findings does not need
    from auditor.identity.officer import Officer
    from auditor.identity.signer import CertSigner



@dataclass(frozen=True)
class ApplyResult:
    opened: int
    updated: int
    resolved: int
    indeterminate: int
    # the verdict-bearing state of every finding this run opened, reopened, resolved or re-graded, for the ledger
    changes: list[list[Any]]


def finding_record(check: str, system: str, target: str, severity: str, status: str, first_seen: dt.datetime,
                   resolved_at: dt.datetime | None) -> list[Any]:
    """What the ledger keeps of a finding: [check, system, target, severity, status, first seen, resolved at]."""
    return [check, system, target, str(severity), str(status), clock.stamp(first_seen),
            clock.stamp(resolved_at) if resolved_at else None]


@dataclass(slots=True)  # a fleet's rescan holds one per stored finding
class _Known:
    """A finding already stored, as this run leaves it (read without its detail; written back by primary key)."""

    id: int
    check_id: str
    system_id: str
    target: str
    status: str
    severity: str
    times_seen: int
    first_seen: dt.datetime
    resolved_at: dt.datetime | None
    seen: bool = False  # a failing outcome saw it again (its last_seen and last_run_id become this run's)
    detail: dict[str, Any] | None = None  # what that outcome saw
    touched: bool = False


def _known(session: Session, systems: set[str]) -> dict[tuple[str, str, str], _Known]:
    t = table_of(FindingRow)
    query = sa_select(t.c.id, t.c.check_id, t.c.system_id, t.c.target, t.c.status, t.c.severity, t.c.times_seen,
                      t.c.first_seen, t.c.resolved_at).where(t.c.system_id.in_(sorted(systems)))
    known = {}
    for r in session.execute(query):
        check, system = sys.intern(r.check_id), sys.intern(r.system_id)  # a few names, hundreds of thousands of rows
        known[(check, system, r.target)] = _Known(r.id, check, system, *r[3:])
    return known


def apply_outcomes(session: Session, run_id: int, outcomes: Iterable[Outcome], now: dt.datetime) -> ApplyResult:
    """Open, update, reopen and resolve findings from a run's outcomes. New findings are inserted and known ones
    updated by primary key in batches: a fleet's scan judges hundreds of thousands of them."""
    outcomes = list(outcomes)
    systems = {o.system for o in outcomes}
    existing = _known(session, systems) if systems else {}
    opened = updated = resolved = indeterminate = 0
    new_rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    changed: dict[tuple[str, str, str], _Known] = {}
    for o in outcomes:
        key = (o.check, o.system, o.target)
        row = existing.get(key)
        if o.verdict is Verdict.INDETERMINATE:
            indeterminate += 1
            continue
        if o.verdict is Verdict.FAIL:
            if row is None:
                if key not in new_rows:
                    opened += 1
                new_rows[key] = {"check_id": o.check, "system_id": o.system, "target": o.target,
                                 "severity": o.severity, "status": FindingStatus.OPEN, "first_seen": now, "last_seen": now,
                                 "times_seen": 1, "last_run_id": run_id, "detail": o.detail}
                continue
            if row.status != FindingStatus.OPEN:
                row.status, row.resolved_at = FindingStatus.OPEN, None
                opened += 1
                changed[key] = row
            else:
                updated += 1
            if row.severity != o.severity:
                changed[key] = row
            row.severity, row.times_seen, row.touched = o.severity, row.times_seen + 1, True
            row.seen, row.detail = True, o.detail
        elif row is not None and row.status == FindingStatus.OPEN:
            row.status, row.resolved_at, row.touched = FindingStatus.RESOLVED, now, True
            changed[key] = row
            resolved += 1
    _write(session, list(new_rows.values()), [r for r in existing.values() if r.touched], run_id, now)
    changes = [finding_record(r.check_id, r.system_id, r.target, r.severity, r.status, r.first_seen, r.resolved_at)
               for r in changed.values()]
    changes += [finding_record(v["check_id"], v["system_id"], v["target"], v["severity"], v["status"], now, None)
                for v in new_rows.values()]
    return ApplyResult(opened, updated, resolved, indeterminate, sorted(changes))


def _write(session: Session, new: list[dict[str, Any]], touched: list[_Known], run_id: int, now: dt.datetime) -> None:
    """New findings inserted, known ones updated by primary key, a batch at a time (each batch's parameters are made
    only when it is written)."""
    for i in range(0, len(new), INSERT_BATCH):
        session.execute(insert(FindingRow), new[i:i + INSERT_BATCH])
    seen = [r for r in touched if r.seen]
    gone = [r for r in touched if not r.seen]
    for i in range(0, len(seen), INSERT_BATCH):
        session.execute(update(FindingRow), [
            {"id": r.id, "status": r.status, "resolved_at": r.resolved_at, "severity": r.severity,
             "times_seen": r.times_seen, "last_seen": now, "last_run_id": run_id, "detail": r.detail}
            for r in seen[i:i + INSERT_BATCH]])
    for i in range(0, len(gone), INSERT_BATCH):
        session.execute(update(FindingRow), [
            {"id": r.id, "status": r.status, "resolved_at": r.resolved_at, "last_run_id": run_id}
            for r in gone[i:i + INSERT_BATCH]])


def list_findings(session: Session, today: dt.date, *, systems: set[str] | None = None,
                  include_resolved: bool = False, check_prefix: str | None = None) -> list[FindingView]:
    table = table_of(FindingRow)
    query = sa_select(table)  # plain rows: a scan can leave thousands of findings to show
    if systems:
        query = query.where(table.c.system_id.in_(systems))
    if not include_resolved:
        query = query.where(table.c.status == FindingStatus.OPEN)
    # acceptances first (a handful), so the findings (perhaps hundreds of thousands) are turned into views as they
    # are read, never all held twice
    latest = {acc.finding_id: acc for acc in session.exec(select(RiskAcceptanceRow).order_by(col(RiskAcceptanceRow.id)))}
    rows = session.execute(query.order_by(table.c.system_id, table.c.target, table.c.check_id))
    views = [effective_view(r, latest.get(r.id), today) for r in rows]
    if check_prefix:
        views = [v for v in views if matches_check(v, check_prefix)]
    return views


class AcceptanceError(UserError):
    pass


def accept_risk(session: Session, finding_id: int, justification: str, expires_on: dt.date, today: dt.date, *,
                inventory: Inventory, signer: CertSigner, officer: Officer,
                policy: AcceptancePolicy, account: str | None = None) -> RiskAcceptanceRow:
    """Accept the risk of an open finding until ``expires_on``: a decision signed with the certificate of an officer
    of the system's owner or security unit, who accepts being who the certificate names."""
    from auditor.identity.mandate import organisation_for
    from auditor.identity.signer import signature_block

    row = session.get(FindingRow, finding_id)
    if row is None:
        raise AcceptanceError(_("no finding has the id {id}").format(id=finding_id))
    system = inventory.system(row.system_id)
    if system is None:
        raise AcceptanceError(_("system {system} is no longer in the inventory; nobody can accept its risks")
                              .format(system=row.system_id))
    orgs = [inventory.organisation(o) for o in dict.fromkeys((system.owner, system.security_unit)) if o]
    organisation_for(officer, [o for o in orgs if o is not None],
                     _("accepting a risk of {system}").format(system=system.id))
    if row.status != FindingStatus.OPEN:
        raise AcceptanceError(_("only an open finding can be accepted; this one is {status}").format(status=row.status))
    if expires_on < today:
        raise AcceptanceError(_("the expiry date {date} is already past").format(date=expires_on.isoformat()))
    longest = policy.longest(Severity(row.severity))
    if expires_on > today + dt.timedelta(days=longest):
        raise AcceptanceError(_("a {severity} finding may be accepted for at most {days} days (until {date}; {ref})")
                              .format(severity=row.severity, days=longest,
                                      date=(today + dt.timedelta(days=longest)).isoformat(), ref=policy.reference))
    accepted_by = ", ".join(x for x in (officer.name, officer.title, officer.organisation) if x)
    decision = {"finding": finding_id, "check": row.check_id, "system": row.system_id, "target": row.target,
                "justification": justification, "expires_on": expires_on.isoformat(), "officer": officer.as_json()}
    signature = signature_block(signer, hashlib.sha256(canonical(decision)).digest())
    acc = RiskAcceptanceRow(finding_id=finding_id, justification=justification, accepted_by=accepted_by,
                            expires_on=expires_on)
    session.add(acc)
    session.flush()
    append(session, "finding.accepted", f"finding/{finding_id}", {
        "acceptance": acc.id, "finding": finding_id, "check": row.check_id, "system": row.system_id,
        "target": row.target, "justification": justification, "accepted_by": accepted_by,
        "severity": row.severity, "longest_days": longest, **({"account": account} if account else {}),
        "accepted_at": clock.stamp(acc.accepted_at), "expires_on": expires_on.isoformat(), "decision": decision,
        "signature": signature})
    return acc
