"""How long a risk may be accepted, by severity (profiles/risk_acceptance.yaml)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from auditor.inventory.messages import problems_from
from auditor.problems import InputError
from auditor.vocabulary import Severity
from auditor.workspace import content_file
from auditor.yamlsafe import load_yaml

FILE = "risk_acceptance.yaml"


class AcceptancePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    reference: str
    effective_from: dt.date
    max_days: dict[Severity, int] = Field(min_length=len(Severity))

    def longest(self, severity: Severity) -> int:
        return self.max_days[severity]


def load_acceptance_policy(profiles: Path) -> AcceptancePolicy:
    loaded = load_yaml(content_file(profiles, FILE))
    try:
        return AcceptancePolicy.model_validate(loaded.data)
    except ValidationError as exc:
        raise InputError(problems_from(exc, loaded, AcceptancePolicy)) from None
