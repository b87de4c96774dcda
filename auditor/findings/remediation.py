"""Who must fix a finding and by when (profiles/remediation.yaml), and where its remediation stands.

The unit is the system's operator, the due date the first-seen day plus the policy's days for the severity and the
system's level, unless the finding was assigned (a unit, a due date, a state: in progress, fixed). A resolved
finding is "verified" (a later scan no longer saw it); an open finding under an unexpired acceptance is
"accepted"."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from auditor import clock
from auditor.findings.view import FindingView
from auditor.i18n import _, get_language
from auditor.inventory.messages import problems_from
from auditor.labels import label
from auditor.problems import InputError
from auditor.store.tables import FindingAssignmentRow
from auditor.vocabulary import FindingStatus, Severity
from auditor.workspace import content_file
from auditor.yamlsafe import load_yaml

FILE = "remediation.yaml"


class WorkState(StrEnum):
    """Where the remediation of a finding stands."""

    OPEN = "open"  # nobody has said they are on it
    IN_PROGRESS = "in_progress"
    FIXED = "fixed"  # the unit says it is fixed; a later scan verifies it
    VERIFIED = "verified"  # a later scan no longer sees it (the finding is resolved)
    ACCEPTED = "accepted"  # under an unexpired risk acceptance


ASSIGNABLE = (WorkState.OPEN, WorkState.IN_PROGRESS, WorkState.FIXED)


class Band(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    levels: list[int]
    days: dict[Severity, int]


class RemediationPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    reference: str
    effective_from: dt.date
    bands: list[Band]
    default_days: dict[Severity, int]

    def days(self, severity: Severity, level: int | None) -> int | None:
        band = next((b for b in self.bands if level is not None and level in b.levels), None)
        return (band.days if band else self.default_days).get(severity)


def load_remediation_policy(profiles: Path) -> RemediationPolicy:
    loaded = load_yaml(content_file(profiles, FILE))
    try:
        return RemediationPolicy.model_validate(loaded.data)
    except ValidationError as exc:
        raise InputError(problems_from(exc, loaded, RemediationPolicy)) from None


@dataclass(frozen=True)
class Remediation:
    responsible: str  # an organisation id
    due_on: dt.date | None
    state: WorkState
    assigned: bool  # by `findings assign`, not the policy's default
    basis: str  # what set the due date
    note: str | None = None

    def overdue(self, today: dt.date) -> bool:
        return (self.due_on is not None and self.due_on < today
                and self.state in (WorkState.OPEN, WorkState.IN_PROGRESS, WorkState.FIXED))

    def as_json(self, today: dt.date) -> dict[str, Any]:
        return {"responsible": self.responsible, "due_on": self.due_on.isoformat() if self.due_on else None,
                "state": self.state.value, "assigned": self.assigned, "basis": self.basis, "note": self.note,
                "overdue": self.overdue(today)}


@lru_cache(maxsize=256)
def _basis(days: int | None, severity: Severity, level: int | None, reference: str, lang: str) -> str:
    """What set a default due date, in words (the same few sentences for thousands of findings: cached, by
    language)."""
    if days is None:
        return reference
    level_text = str(level) if level is not None else _("not determined")
    return _("{days} days from first seen for a {severity} finding at level {level} ({ref})").format(
        days=days, severity=label(severity.value), level=level_text, ref=reference)


def remediation_of(view: FindingView, operator: str, level: int | None, policy: RemediationPolicy,
                   assignment: FindingAssignmentRow | None, first_day: dt.date | None = None) -> Remediation:
    """``first_day``: the day (Vietnam time) the finding was first seen, when the caller has it already."""
    if view.status is FindingStatus.RESOLVED:
        state = WorkState.VERIFIED
    elif view.status is FindingStatus.ACCEPTED:
        state = WorkState.ACCEPTED
    else:
        state = WorkState(assignment.state) if assignment is not None else WorkState.OPEN
    days = policy.days(view.severity, level)
    first = first_day or clock.in_vietnam(view.first_seen).date()
    default_due = first + dt.timedelta(days=days) if days is not None else None
    basis = _basis(days, view.severity, level, policy.reference, get_language())
    if assignment is None:
        return Remediation(operator, default_due, state, False, basis)
    due = assignment.due_on or default_due
    return Remediation(assignment.organisation_id, due, state, True,
                       basis if assignment.due_on is None else _("set by {who}").format(who=assignment.assigned_by),
                       assignment.note)
