"""The schema of records.yaml (and of each file under records.d/): inspections, drills, incident-response
plans and the deployment status of each system's security plan."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from auditor.inventory.model import Strict
from auditor.inventory.types import Day, Id, Moment


class Inspection(Strict):
    """A check of a system (or of an organisation as a whole) against its approved level (NĐ 85 Đ20.2.c)."""

    id: Id
    system: Id | None = None
    organisation: Id | None = None
    date: Day
    kind: Literal["periodic", "pre_operation", "ad_hoc"] = "periodic"
    form: Literal["black_box", "grey_box", "white_box"] | None = None
    performed_by: str = Field(min_length=1)
    independent: bool
    licensed_assessor: bool
    licence: str | None = None
    findings: int = Field(default=0, ge=0)
    summary: str | None = None

    @model_validator(mode="after")
    def _one_subject(self) -> Inspection:
        if (self.system is None) == (self.organisation is None):
            raise PydanticCustomError("subject_invalid", "name either a system or an organisation", {})
        return self

    @property
    def subject(self) -> str:
        return self.system or self.organisation or ""


class Participant(Strict):
    name: str = Field(min_length=1)
    organisation: Id | None = None
    role: str = Field(min_length=1)


class Event(Strict):
    at: Moment  # Vietnam time (UTC+7) unless an offset is written
    event: Literal["attack_started", "detected", "contained", "recovered", "note"]
    description: str | None = None


class FollowUp(Strict):
    action: str = Field(min_length=1)
    owner: Id
    deadline: Day
    done: bool = False


class Drill(Strict):
    id: Id
    date: Day
    kind: Literal["live_fire", "tabletop"]
    title: str = Field(min_length=1)
    scenario: str = Field(min_length=1)
    objectives: list[str] = Field(default_factory=list)
    scope: str | None = None
    systems: list[Id] = Field(default_factory=list)
    organiser: Id | None = None
    participants: list[Participant] = Field(default_factory=list)
    timeline: list[Event] = Field(default_factory=list)
    findings: list[str] = Field(default_factory=list)
    lessons: list[str] = Field(default_factory=list)
    follow_up: list[FollowUp] = Field(default_factory=list)

    def first(self, event: str) -> dt.datetime | None:
        return next((e.at for e in self.timeline if e.event == event), None)


class ResponsePlan(Strict):
    system: Id
    document: str = Field(min_length=1)
    approved_on: Day
    last_reviewed: Day | None = None

    @property
    def reviewed(self) -> dt.date:
        return self.last_reviewed or self.approved_on


class Deployment(Strict):
    """How far the security plan of the approved dossier is in place (Mẫu 08: deployment status)."""

    system: Id
    status: Literal["not_started", "partial", "full"]
    full_by: Day | None = None


class RecordsFile(Strict):
    version: int = Field(default=1, ge=1, le=1)
    inspections: list[Inspection] = Field(default_factory=list)
    drills: list[Drill] = Field(default_factory=list)
    response_plans: list[ResponsePlan] = Field(default_factory=list)
    deployments: list[Deployment] = Field(default_factory=list)
