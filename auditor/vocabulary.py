"""The words the auditor judges with, each defined once: severities, verdicts and the states things go through.

They are ``StrEnum``s: the value is what files, the store and JSON carry ("high", "pass", "approved"), so data
written before stays readable. People-facing names are in :mod:`auditor.labels`.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is more serious: critical 4 … info 0."""
        return _SEVERITY_RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_SEVERITY_RANK = {Severity.CRITICAL: 4, Severity.HIGH: 3, Severity.MEDIUM: 2, Severity.LOW: 1, Severity.INFO: 0}
SEVERITIES: tuple[Severity, ...] = tuple(Severity)  # most serious first


class Verdict(StrEnum):
    """What one check says of one target, or one obligation of one subject."""

    PASS = "pass"
    FAIL = "fail"
    INDETERMINATE = "indeterminate"  # it could not be judged: never a pass
    NOT_APPLICABLE = "not_applicable"

    @property
    def fails_audit(self) -> bool:
        """An obligation fails the audit (exit code 1) when it fails, or when it cannot be judged: compliance
        not shown is not compliance."""
        return self in (Verdict.FAIL, Verdict.INDETERMINATE)


class FindingStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"  # open, under a risk acceptance that has not expired (computed when read)
    RESOLVED = "resolved"


class DossierState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPRAISED = "appraised"
    APPROVED = "approved"
    RETURNED = "returned"

    @property
    def in_progress(self) -> bool:
        return self in (DossierState.DRAFT, DossierState.SUBMITTED, DossierState.APPRAISED)


class Lifecycle(StrEnum):
    """Where an information system stands."""

    PLANNED = "planned"
    BUILDING = "building"
    OPERATING = "operating"
    UPGRADING = "upgrading"
    RETIRED = "retired"

    @property
    def in_service(self) -> bool:
        return self in (Lifecycle.OPERATING, Lifecycle.UPGRADING)


class AccountRole(StrEnum):
    """What a console account may do (auditor/web/permissions.py says which actions each role may take)."""

    OPERATOR = "operator"  # the IT unit that runs the systems: systems, findings, scans, submits dossiers
    OFFICER = "officer"  # the security unit: dossiers, risk acceptance, records
    LEADER = "leader"  # the dashboard and reports; approves where the law makes the leader the approver
    ADMIN = "admin"  # accounts


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    SKIPPED = "skipped"  # a scheduled job that found another scan running


def verdict_counts(verdicts: Iterable[Verdict]) -> dict[Verdict, int]:
    counts = dict.fromkeys(Verdict, 0)
    for v in verdicts:
        counts[v] += 1
    return counts


def finding_fails_audit(status: FindingStatus | str, severity: Severity | str, fail_from: Severity) -> bool:
    """The one rule for "this finding fails the audit": it is open (not accepted, not resolved) and at least as
    serious as ``fail_from`` (profiles/obligations.yaml, ``findings.open_by_severity``). ``auditor scan``,
    ``auditor findings`` (exit code 1), ``auditor status`` and the reports all ask this."""
    return FindingStatus(status) is FindingStatus.OPEN and Severity(severity).at_least(fail_from)
