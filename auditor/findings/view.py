"""A finding as it is shown: its stored state, made effective by its latest risk acceptance."""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from typing import Any, Protocol

from auditor.vocabulary import FindingStatus, Severity


class StoredAcceptance(Protocol):
    """The columns of a risk acceptance that a view shows."""

    @property
    def justification(self) -> str: ...
    @property
    def accepted_by(self) -> str: ...
    @property
    def accepted_at(self) -> dt.datetime: ...
    @property
    def expires_on(self) -> dt.date: ...


@dataclass(frozen=True, slots=True)  # a fleet's patch scan holds hundreds of thousands
class FindingView:
    id: int
    check: str
    system: str
    target: str
    severity: Severity
    status: FindingStatus
    first_seen: dt.datetime
    last_seen: dt.datetime
    resolved_at: dt.datetime | None
    detail: dict[str, Any]
    acceptance: dict[str, Any] | None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "check": self.check, "system": self.system, "target": self.target,
                "severity": self.severity, "status": self.status, "first_seen": self.first_seen.isoformat(),
                "last_seen": self.last_seen.isoformat(),
                "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
                "detail": self.detail, "acceptance": self.acceptance}


def effective_view(row: Any, acceptance: StoredAcceptance | None, today: dt.date) -> FindingView:
    """``row``: a FindingRow or a row of the same columns. An open finding with an unexpired acceptance shows as
    accepted; once the acceptance expires, as open."""
    status = FindingStatus(row.status)
    acc = None
    if acceptance is not None:
        active = acceptance.expires_on >= today
        acc = {"justification": acceptance.justification, "accepted_by": acceptance.accepted_by,
               "accepted_at": acceptance.accepted_at.isoformat(), "expires_on": acceptance.expires_on.isoformat(),
               "expired": not active}
        if status is FindingStatus.OPEN and active:
            status = FindingStatus.ACCEPTED
    # a fleet's listing has hundreds of thousands of findings of a few checks and systems: one copy of each name
    return FindingView(row.id, sys.intern(row.check_id), sys.intern(row.system_id), row.target,
                       Severity(row.severity), status, row.first_seen, row.last_seen, row.resolved_at, row.detail, acc)


def matches_check(view: FindingView, check_prefix: str | None) -> bool:
    """``--check tls`` keeps tls.* findings; ``--check tls.cert`` keeps that check and its sub-checks."""
    return not check_prefix or view.check == check_prefix or view.check.startswith(check_prefix + ".")
