"""Regime rule sets (profiles/regimes.yaml): which law governs on a date, and its time limits and periods."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from auditor.catalogue.loading import load_model
from auditor.i18n import _, pick
from auditor.problems import InputError, Problem, display_path


class DayCount(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    days: int = Field(ge=1, le=365)
    working: bool


class RegimeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    title_en: str
    effective_from: dt.date
    effective_until: dt.date | None = None
    references: dict[str, str]
    incomplete_return_days: DayCount | None = None
    appraisal_days: dict[int, DayCount]
    approval_days: DayCount
    inspection_months: dict[str, int]
    licensed_assessor_from_level: int = Field(ge=1, le=5)

    def display_title(self) -> str:
        return pick(self.title, self.title_en)

    def in_force(self, on: dt.date) -> bool:
        return self.effective_from <= on and (self.effective_until is None or on <= self.effective_until)


class BudgetRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    threshold_percent: Decimal
    applies_to: list[str]
    effective_from: dt.date
    effective_until: dt.date | None = None
    reference: str


class RegimesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    regimes: list[RegimeSpec] = Field(min_length=1)
    budget_share: list[BudgetRule] = Field(default_factory=list)


@dataclass(frozen=True)
class Regimes:
    regimes: dict[str, RegimeSpec]
    budget_share: list[BudgetRule]
    source: str

    def get(self, regime_id: str) -> RegimeSpec:
        if regime_id not in self.regimes:
            raise InputError([Problem(self.source, 1, 1, "regimes", _("no regime {id!r}; known: {known}").format(
                id=regime_id, known=", ".join(self.regimes)))])
        return self.regimes[regime_id]

    def in_force(self, on: dt.date) -> RegimeSpec:
        matching = [r for r in self.regimes.values() if r.in_force(on)]
        if not matching:
            raise InputError([Problem(self.source, 1, 1, "regimes", _("no regime is in force on {date}")
                                      .format(date=on.isoformat()))])
        return max(matching, key=lambda r: r.effective_from)


def load_regimes(profiles: Path) -> Regimes:
    path = profiles / "regimes.yaml"
    spec, _loaded = load_model(path, RegimesFile)
    return Regimes({r.id: r for r in spec.regimes}, list(spec.budget_share), display_path(path))
