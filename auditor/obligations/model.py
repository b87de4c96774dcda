"""Obligation rules (profiles/obligations.yaml) and their results."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from auditor.catalogue.loading import load_model
from auditor.i18n import pick
from auditor.workspace import content_file

Verdict = Literal["pass", "fail", "not_applicable"]


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    title_en: str
    reference: str
    effective_from: dt.date
    params: dict[str, Any] = Field(default_factory=dict)

    def display_title(self) -> str:
        return pick(self.title, self.title_en)


class RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    obligations: list[RuleSpec] = Field(min_length=1)


def load_rules(profiles: Path) -> dict[str, RuleSpec]:
    spec, _loaded = load_model(content_file(profiles, "obligations.yaml"), RulesFile)
    return {r.id: r for r in spec.obligations}


@dataclass(frozen=True)
class Result:
    rule: str
    subject: str
    verdict: Verdict
    evidence: str
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self, rules: dict[str, RuleSpec]) -> dict[str, Any]:
        r = rules[self.rule]
        return {"rule": self.rule, "title": r.display_title(), "reference": r.reference, "subject": self.subject,
                "verdict": self.verdict, "evidence": self.evidence, "detail": self.detail}
