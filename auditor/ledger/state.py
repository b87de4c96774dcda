"""The state the verdicts rest on, as the ledger says it must be, and every row of the store that disagrees.

The ledger's entries carry what each change made of the rows `status` and the reports read: the findings a scan
opened, reopened, re-graded or resolved (`scan.completed`), the runs that judged each system, the risk
acceptances, the dossiers' steps with their dates, the officers' keys, the reports, the records added and the
advisory data (bound by the SHA-256 of the whole table). Replaying the chain gives the expected state; comparing
it with the store names the table, the row and the field of every difference: a finding set to resolved, its
severity lowered or its row deleted, an acceptance inserted, an approval date moved, a key's organisation changed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from auditor import clock, safeio
from auditor.i18n import _
from auditor.ledger.chain import canonical, sha256_hex
from auditor.problems import InputError
from auditor.store.tables import (
    AccountRow,
    AdvisoryImportRow,
    AdvisoryRow,
    CrlRow,
    DossierRow,
    FindingAssignmentRow,
    FindingRow,
    LedgerRow,
    OfficerKeyRow,
    ReportRow,
    RiskAcceptanceRow,
    ScanRunRow,
    SignedDocumentRow,
    TrustAnchorRow,
    table_of,
)
from auditor.vocabulary import DossierState, RunStatus

MAX_RECORDS_BYTES = 64 << 20  # a records file is YAML (4 MiB at most) or evidence attached to one

FindingKey = tuple[str, str, str]
FINDING_FIELDS = ("severity", "status", "first_seen", "resolved_at")
ACCOUNT_FIELDS = ("name", "role", "organisation", "password_sha256", "disabled")  # what decides who may do what


@dataclass(frozen=True)
class Difference:
    table: str
    row: str
    field: str  # "" when the whole row is missing or unrecorded
    store: Any
    ledger: Any
    entry: int | None  # the ledger entry that says what the row must be

    def message(self) -> str:
        if self.field == "" and self.store is None:
            return _("{table} {row}: recorded in ledger entry #{entry}, missing from the store").format(
                table=self.table, row=self.row, entry=self.entry)
        if self.field == "":
            return _("{table} {row}: in the store, but no ledger entry records it").format(table=self.table,
                                                                                         row=self.row)
        return _("{table} {row}: {field} is {store!r} in the store, {ledger!r} in ledger entry #{entry}").format(
            table=self.table, row=self.row, field=self.field, store=_iso(self.store), ledger=self.ledger,
            entry=self.entry)


@dataclass
class Expected:
    """The state the ledger says the store must hold, with the entry that last said so."""

    findings: dict[FindingKey, tuple[dict[str, Any], int]] = field(default_factory=dict)
    runs: dict[int, tuple[dict[str, Any], int]] = field(default_factory=dict)
    acceptances: dict[int, tuple[dict[str, Any], int]] = field(default_factory=dict)
    dossiers: dict[int, tuple[dict[str, Any], int]] = field(default_factory=dict)
    keys: dict[str, tuple[dict[str, Any], int]] = field(default_factory=dict)
    reports: dict[int, tuple[dict[str, Any], int]] = field(default_factory=dict)
    records: dict[str, tuple[str, int]] = field(default_factory=dict)
    imports: dict[int, tuple[dict[str, Any], int]] = field(default_factory=dict)
    advisory_table: tuple[str, int] | None = None
    anchors: dict[str, tuple[dict[str, Any], int]] = field(default_factory=dict)  # by SHA-256 of the DER
    crls: dict[str, tuple[dict[str, Any], int]] = field(default_factory=dict)
    documents: dict[int, tuple[dict[str, Any], int]] = field(default_factory=dict)
    accounts: dict[str, tuple[dict[str, Any], int]] = field(default_factory=dict)  # console accounts, by name
    assignments: dict[int, tuple[dict[str, Any], int]] = field(default_factory=dict)  # findings given to a unit
    covers_findings: bool = False  # the ledger records findings (an older one did not: then they are not compared)


def _finding(record: list[Any]) -> tuple[FindingKey, dict[str, Any]]:
    check, system, target, severity, status, first_seen, resolved_at = record
    return (check, system, target), {"severity": severity, "status": status, "first_seen": first_seen,
                                     "resolved_at": resolved_at}


def _dossier_step(state: dict[str, Any], kind: str, p: dict[str, Any]) -> None:
    parties: dict[str, Any] = dict(state.get("parties") or {})
    if kind == "dossier.submitted":
        parties["submission"] = {k: p.get(k) for k in ("organisation", "signer", "on")}
        if "organisations" in p:
            parties["organisations"] = p["organisations"]
    elif kind == "dossier.appraised":
        parties["appraisal"] = p
    elif kind == "dossier.approved":
        parties["approval"] = p
    elif kind == "dossier.returned":
        parties["return"] = {k: p.get(k) for k in ("organisation", "signer", "reason", "on")}
    state["parties"] = parties
    if kind == "dossier.created":
        state.update({"system_id": p.get("system"), "version": p.get("version"), "regime": p.get("regime"),
                      "proposed_level": p.get("proposed_level"), "snapshot_sha256": p.get("snapshot_sha256"),
                      "state": DossierState.DRAFT.value, "submitted_on": None, "appraised_on": None,
                      "appraisal_opinion": None, "approved_on": None, "approved_level": None,
                      "decision_number": None, "returned_on": None})
    elif kind == "dossier.submitted":
        state.update({"state": DossierState.SUBMITTED.value, "submitted_on": p.get("on")})
    elif kind == "dossier.appraised":
        d = p.get("decision") or {}
        disagree = d.get("opinion") == "disagree"
        state.update({"state": (DossierState.RETURNED if disagree else DossierState.APPRAISED).value,
                      "appraised_on": d.get("on"), "appraisal_opinion": d.get("opinion")})
        if disagree:
            state["returned_on"] = d.get("on")
    elif kind == "dossier.approved":
        d = p.get("decision") or {}
        state.update({"state": DossierState.APPROVED.value, "approved_on": d.get("on"),
                      "approved_level": d.get("approved_level"), "decision_number": d.get("decision_number")})
    elif kind == "dossier.returned":
        state.update({"state": DossierState.RETURNED.value, "returned_on": p.get("on")})


def replay(rows: Iterable[LedgerRow]) -> Expected:
    """The expected state, from the entries in sequence order (the chain itself is checked elsewhere)."""
    ex = Expected()
    for row in sorted(rows, key=lambda r: r.seq):
        p: dict[str, Any] = row.payload if isinstance(row.payload, dict) else {}
        kind, seq = row.kind, row.seq
        if kind in ("scan.completed", "ledger.baseline"):
            if "findings" in p:
                ex.covers_findings = True
            for record in p.get("findings") or []:
                key, state = _finding(record)
                ex.findings[key] = (state, seq)
        if kind == "scan.completed" and "systems" in p:
            ex.runs[int(p["run"])] = ({"family": p.get("family"), "systems": list(p["systems"]),
                                       "finished_at": p.get("finished_at")}, seq)
        elif kind == "ledger.baseline":
            for run in p.get("runs") or []:
                ex.runs[int(run["run"])] = ({k: run.get(k) for k in ("family", "systems", "finished_at")}, seq)
            for acc in p.get("acceptances") or []:
                ex.acceptances[int(acc["acceptance"])] = (_acceptance(acc), seq)
            for imp in p.get("imports") or []:
                ex.imports[int(imp["import"])] = (_import(imp), seq)
            if p.get("advisory_table_sha256"):
                ex.advisory_table = (p["advisory_table_sha256"], seq)
        elif kind == "finding.accepted" and "acceptance" in p:
            ex.acceptances[int(p["acceptance"])] = (_acceptance(p), seq)
        elif kind.startswith("dossier.") and isinstance(p.get("dossier"), int):
            state = dict(ex.dossiers.get(p["dossier"], ({}, 0))[0])
            _dossier_step(state, kind, p)
            ex.dossiers[p["dossier"]] = (state, seq)
        elif kind == "key.registered":
            ex.keys[str(p.get("name"))] = ({"organisation_id": p.get("organisation"), "public_key": p.get("public_key"),
                                            "fingerprint": p.get("fingerprint")}, seq)
        elif kind == "report.written":
            ex.reports[int(p["report"])] = ({"kind": p.get("kind"), "key": p.get("key"), "lang": p.get("lang"),
                                             "snapshot_sha256": p.get("snapshot_sha256"),
                                             "files": p.get("files")}, seq)
        elif kind in ("records.added", "evidence.attached"):
            ex.records[str(p.get("file"))] = (str(p.get("sha256")), seq)
        elif kind == "trust.added":
            ex.anchors[str(p.get("sha256"))] = ({"subject": p.get("subject"), "pem": p.get("pem")}, seq)
        elif kind == "crl.imported":
            ex.crls[str(p.get("sha256"))] = ({"issuer": p.get("issuer"), "this_update": p.get("this_update")}, seq)
        elif kind == "document.signed" and isinstance(p.get("document"), int):
            ex.documents[p["document"]] = ({"kind": p.get("kind"), "key": p.get("key"), "lang": p.get("lang"),
                                            "sha256": p.get("sha256"), "signatures": p.get("signatures")}, seq)
        elif kind == "finding.assigned" and isinstance(p.get("assignment"), int):
            ex.assignments[p["assignment"]] = ({"finding_id": p.get("finding"), "organisation_id": p.get("organisation"),
                                                "due_on": p.get("due_on"), "state": p.get("state"),
                                                "note": p.get("note"), "assigned_by": p.get("by")}, seq)
        elif kind in ("account.added", "account.changed"):
            ex.accounts[str(p.get("name"))] = ({k: p.get(k) for k in ACCOUNT_FIELDS}, seq)
        elif kind == "advisories.imported" and "import" in p:
            ex.imports[int(p["import"])] = (_import(p), seq)
            ex.advisory_table = (str(p.get("table_sha256")), seq)
    return ex


def _import(p: dict[str, Any]) -> dict[str, Any]:
    return {"sha256": p.get("sha256"), "origin": p.get("origin"), "entries": p.get("entries"),
            "data_date": p.get("data_date")}


def _acceptance(p: dict[str, Any]) -> dict[str, Any]:
    return {"finding_id": p.get("finding"), "justification": p.get("justification"),
            "accepted_by": p.get("accepted_by"), "accepted_at": p.get("accepted_at"), "expires_on": p.get("expires_on")}


def _iso(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "tzinfo"):  # a datetime
        return clock.stamp(value)
    if hasattr(value, "isoformat"):  # a date
        return value.isoformat()
    return value


def advisory_table_digest(session: Session) -> str:
    """SHA-256 of every advisory row, in a fixed order: what the patch verdicts read."""
    t = table_of(AdvisoryRow)
    h = hashlib.sha256()
    query = sa_select(t.c.origin, t.c.advisory_id, t.c.os_id, t.c.release, t.c.source_package, t.c.fixed_version,
                      t.c.urgency, t.c.data_date, t.c.import_id).order_by(
        t.c.origin, t.c.advisory_id, t.c.os_id, t.c.release, t.c.source_package)
    for r in session.execute(query):
        h.update(json.dumps([_iso(v) for v in r], ensure_ascii=False).encode() + b"\n")
    return h.hexdigest()


def _compare(table: str, row: str, store: dict[str, Any], expected: dict[str, Any], seq: int) -> list[Difference]:
    return [Difference(table, row, name, store.get(name), want, seq) for name, want in expected.items()
            if _iso(store.get(name)) != want]


def _party(part: Any) -> str | None:
    """A short account of who took a dossier step, for a message (the comparison itself is on the whole record)."""
    if not isinstance(part, dict):
        return None
    decision = part.get("decision") or part
    who = ", ".join(str(decision.get(k)) for k in ("signer", "organisation", "on") if decision.get(k))
    return f"{who} (sha256 {sha256_hex(canonical(part))[:12]})"


def _parties(row: str, store: dict[str, Any], expected: dict[str, Any], seq: int) -> list[Difference]:
    """Who submitted, appraised, approved or returned a dossier, and the organisations frozen at submission, as the
    store's dossier shows them (the dossier PDF and the status read them there) against the ledger's entries."""
    return [Difference("dossier", row, f"parties.{part}", _party(store.get(part)), _party(expected.get(part)), seq)
            for part in sorted(set(store) | set(expected))
            if canonical(store.get(part)) != canonical(expected.get(part))]


def _by_key(session: Session, table: str, model: Any, key: str,
            expected: dict[str, tuple[dict[str, Any], int]]) -> list[Difference]:
    rows = {getattr(r, key): r for r in session.exec(select(model))}
    out: list[Difference] = []
    for k, (state, seq) in expected.items():
        r = rows.pop(k, None)
        if r is None:
            out.append(Difference(table, k[:16], "", None, state, seq))
            continue
        out += _compare(table, k[:16], r.model_dump(), state, seq)
    return out + [Difference(table, str(k)[:16], "", "row", None, None) for k in rows]


def differences(session: Session, ex: Expected, workspace: Path) -> list[Difference]:
    out: list[Difference] = []
    if ex.covers_findings:
        t = table_of(FindingRow)
        stored = {(r.check_id, r.system_id, r.target): r for r in session.execute(
            sa_select(t.c.id, t.c.check_id, t.c.system_id, t.c.target, t.c.severity, t.c.status, t.c.first_seen,
                      t.c.resolved_at))}
        for key, (state, seq) in ex.findings.items():
            r = stored.pop(key, None)
            name = "/".join(key)
            if r is None:
                out.append(Difference("finding", name, "", None, state, seq))
                continue
            values = {f: _iso(getattr(r, f)) for f in FINDING_FIELDS}
            out += _compare("finding", f"{r.id} ({name})", values, state, seq)
        out += [Difference("finding", f"{r.id} ({'/'.join(k)})", "", "row", None, None) for k, r in stored.items()]
    runs = {r.id: r for r in session.exec(select(ScanRunRow).where(col(ScanRunRow.status) == RunStatus.COMPLETED))}
    for run_id, (state, seq) in ex.runs.items():
        run = runs.pop(run_id, None)
        if run is None:
            out.append(Difference("scan_run", str(run_id), "", None, state, seq))
            continue
        out += _compare("scan_run", str(run_id), {"family": run.family, "systems": list(run.systems),
                                                   "finished_at": run.finished_at}, state, seq)
    out += [Difference("scan_run", str(r.id), "", "row", None, None) for r in runs.values() if r.systems]
    accs = {a.id: a for a in session.exec(select(RiskAcceptanceRow))}
    for acc_id, (state, seq) in ex.acceptances.items():
        acc = accs.pop(acc_id, None)
        if acc is None:
            out.append(Difference("risk_acceptance", str(acc_id), "", None, state, seq))
            continue
        out += _compare("risk_acceptance", str(acc_id), acc.model_dump(), state, seq)
    out += [Difference("risk_acceptance", str(a.id), "", "row", None, None) for a in accs.values()]
    dossiers = {d.id: d for d in session.exec(select(DossierRow))}
    for d_id, (state, seq) in ex.dossiers.items():
        d = dossiers.pop(d_id, None)
        if d is None:
            out.append(Difference("dossier", str(d_id), "", None, state, seq))
            continue
        expected = {k: v for k, v in state.items() if k != "parties"}
        out += _compare("dossier", str(d_id), d.model_dump(), expected, seq)
        out += _parties(str(d_id), d.parties, state.get("parties") or {}, seq)
    out += [Difference("dossier", str(d.id), "", "row", None, None) for d in dossiers.values()]
    keys = {k.name: k for k in session.exec(select(OfficerKeyRow))}
    for name, (state, seq) in ex.keys.items():
        k = keys.pop(name, None)
        if k is None:
            out.append(Difference("officer_key", name, "", None, state, seq))
            continue
        out += _compare("officer_key", name, k.model_dump(), state, seq)
    out += [Difference("officer_key", k.name, "", "row", None, None) for k in keys.values()]
    reports = {r.id: r for r in session.exec(select(ReportRow))}
    for r_id, (state, seq) in ex.reports.items():
        rep = reports.pop(r_id, None)
        if rep is None:
            out.append(Difference("report", str(r_id), "", None, state, seq))
            continue
        values = rep.model_dump() | {"snapshot_sha256": sha256_hex(canonical(rep.snapshot))}  # what it holds now
        out += _compare("report", str(r_id), values, state, seq)
    out += [Difference("report", str(r.id), "", "row", None, None) for r in reports.values()]
    out += _by_key(session, "trust_anchor", TrustAnchorRow, "sha256", ex.anchors)
    out += _by_key(session, "crl", CrlRow, "sha256", ex.crls)
    docs = {d.id: d for d in session.exec(select(SignedDocumentRow))}
    for d_id, (state, seq) in ex.documents.items():
        doc = docs.pop(d_id, None)
        if doc is None:
            out.append(Difference("signed_document", str(d_id), "", None, state, seq))
            continue
        actual = hashlib.sha256(base64.b64decode(doc.pdf_b64)).hexdigest()  # what the file holds now
        out += _compare("signed_document", str(d_id), doc.model_dump() | {"sha256": actual}, state, seq)
    out += [Difference("signed_document", str(d.id), "", "row", None, None) for d in docs.values()]
    assignments = {a.id: a for a in session.exec(select(FindingAssignmentRow))}
    for a_id, (state, seq) in ex.assignments.items():
        assignment = assignments.pop(a_id, None)
        if assignment is None:
            out.append(Difference("finding_assignment", str(a_id), "", None, state, seq))
            continue
        out += _compare("finding_assignment", str(a_id), assignment.model_dump(), state, seq)
    out += [Difference("finding_assignment", str(a.id), "", "row", None, None) for a in assignments.values()]
    accounts = {a.name: a for a in session.exec(select(AccountRow))}
    for name, (state, seq) in ex.accounts.items():
        account = accounts.pop(name, None)
        if account is None:
            out.append(Difference("account", name, "", None, state, seq))
            continue
        values = {"role": account.role, "organisation": account.organisation_id, "disabled": account.disabled,
                  "password_sha256": hashlib.sha256(account.password_hash.encode()).hexdigest()}
        out += _compare("account", name, values, {k: v for k, v in state.items() if k != "name"}, seq)
    out += [Difference("account", a.name, "", "row", None, None) for a in accounts.values()]
    imports = {i.id: i for i in session.exec(select(AdvisoryImportRow))}
    for i_id, (state, seq) in ex.imports.items():
        imp = imports.pop(i_id, None)
        if imp is None:
            out.append(Difference("advisory_import", str(i_id), "", None, state, seq))
            continue
        out += _compare("advisory_import", str(i_id), imp.model_dump(), state, seq)
    out += [Difference("advisory_import", str(i.id), "", "row", None, None) for i in imports.values()
            if ex.imports or ex.advisory_table is not None]
    if ex.advisory_table is not None:
        digest, seq = ex.advisory_table
        table = advisory_table_digest(session)
        if table != digest:
            out.append(Difference("advisory", _("(all rows)"), "sha256", table, digest, seq))
    for name, (digest, seq) in ex.records.items():
        path = workspace / name
        try:  # a records file swapped for a pipe or a link out of the workspace is not read (it differs)
            found: str | None = hashlib.sha256(safeio.read_bytes(path, max_bytes=MAX_RECORDS_BYTES,
                                                                 within=workspace)).hexdigest()
        except InputError:
            found = None if not os.path.lexists(path) else _("(not read: not a regular file in the workspace)")
        if found is None:
            out.append(Difference("records", name, "", None, digest, seq))
        elif found != digest:
            out.append(Difference("records", name, "sha256", found, digest, seq))
    return out


def baseline_payload(session: Session) -> dict[str, Any]:
    """The state of a store whose ledger did not yet record it (made by an earlier version): taken as it stands."""
    t = table_of(FindingRow)
    findings = [[r.check_id, r.system_id, r.target, r.severity, r.status, clock.stamp(r.first_seen),
                 clock.stamp(r.resolved_at) if r.resolved_at else None]
                for r in session.execute(sa_select(t.c.check_id, t.c.system_id, t.c.target, t.c.severity, t.c.status,
                                                   t.c.first_seen, t.c.resolved_at))]
    runs = [{"run": r.id, "family": r.family, "systems": list(r.systems),
             "finished_at": clock.stamp(r.finished_at) if r.finished_at else None}
            for r in session.exec(select(ScanRunRow).where(col(ScanRunRow.status) == RunStatus.COMPLETED))]
    accs = [{"acceptance": a.id, "finding": a.finding_id, "justification": a.justification,
             "accepted_by": a.accepted_by, "accepted_at": clock.stamp(a.accepted_at),
             "expires_on": a.expires_on.isoformat()} for a in session.exec(select(RiskAcceptanceRow))]
    imports = [{"import": i.id, "sha256": i.sha256, "origin": i.origin, "entries": i.entries,
                "data_date": i.data_date.isoformat()} for i in session.exec(select(AdvisoryImportRow))]
    has_advisories = session.exec(select(AdvisoryRow.id).limit(1)).first() is not None
    return {"findings": sorted(findings), "runs": runs, "acceptances": accs, "imports": imports,
            "advisory_table_sha256": advisory_table_digest(session) if has_advisories else None}


