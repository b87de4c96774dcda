"""Regime rule sets (profiles/regimes.yaml): which law governs on a date, and its time limits and periods."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from auditor.catalogue.loading import load_model
from auditor.i18n import _, pick
from auditor.problems import InputError, Problem, display_path
from auditor.workspace import content_file


class DayCount(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    days: int = Field(ge=1, le=365)
    working: bool


class Authority(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    appraise: Literal["security_unit", "owner", "appraiser"]
    approve: Literal["security_unit", "owner", "appraiser"]


class RegimeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    title_en: str
    name: str | None = None  # how a sentence names it; the id when left out
    name_en: str | None = None
    effective_from: dt.date
    effective_until: dt.date | None = None
    references: dict[str, str]
    incomplete_return_days: DayCount | None = None
    appraisal_days: dict[int, DayCount]
    approval_days: DayCount
    authority: dict[int, Authority]
    inspection_months: dict[str, int]
    licensed_assessor_from_level: int = Field(ge=1, le=5)

    def display_title(self) -> str:
        return pick(self.title, self.title_en)

    def display_name(self) -> str:
        return pick(self.name, self.name_en) if self.name else self.id

    def in_force(self, on: dt.date) -> bool:
        return self.effective_from <= on and (self.effective_until is None or on <= self.effective_until)


class BudgetRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    threshold_percent: Decimal | None = None
    requires_line: bool = False
    applies_to: list[Literal["annual_plan", "five_year_plan", "project", "programme"]]
    effective_from: dt.date
    effective_until: dt.date | None = None
    reference: str


class KeepLevel(BaseModel):
    """A level approved under ``regime`` stays valid after it ends; the new measures are due by ``measures_due``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    kind: Literal["keep_level"]
    regime: str
    measures_due: dt.date
    reference: str


class FinishUnderOld(BaseModel):
    """A system under investment before ``investment_before`` may be appraised and approved under ``regime``
    (though it has ended) until the day before ``until``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    kind: Literal["finish_under_old"]
    regime: str
    investment_before: dt.date
    until: dt.date
    measures_due: dt.date
    reference: str


Transition = Annotated[KeepLevel | FinishUnderOld, Field(discriminator="kind")]


class RegimesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    regimes: list[RegimeSpec] = Field(min_length=1)
    transitions: list[Transition] = Field(default_factory=list)
    budget_share: list[BudgetRule] = Field(default_factory=list)


@dataclass(frozen=True)
class Regimes:
    regimes: dict[str, RegimeSpec]
    budget_share: list[BudgetRule]
    source: str
    transitions: tuple[KeepLevel | FinishUnderOld, ...] = ()

    def kept_level(self, regime_id: str, on: dt.date) -> KeepLevel | None:
        """The provision that keeps a level approved under ``regime_id`` valid on ``on``, once that regime ended."""
        regime = self.get(regime_id)
        if regime.in_force(on):
            return None
        return next((t for t in self.transitions if isinstance(t, KeepLevel) and t.regime == regime_id), None)

    def finish_under_old(self, regime_id: str | None, investment_decided_on: dt.date | None,
                         on: dt.date) -> FinishUnderOld | None:
        """The provision that lets a system under investment since ``investment_decided_on`` use the ended regime
        ``regime_id`` (any, when None) on ``on``, if there is one."""
        if investment_decided_on is None:
            return None
        return next((t for t in self.transitions if isinstance(t, FinishUnderOld)
                     and (regime_id is None or t.regime == regime_id)
                     and investment_decided_on < t.investment_before and on < t.until), None)

    def usable(self, regime_id: str, investment_decided_on: dt.date | None, on: dt.date) -> bool:
        """Whether a dossier step on ``on`` may be taken under ``regime_id``: in force, or by a transition."""
        return self.get(regime_id).in_force(on) or self.finish_under_old(regime_id, investment_decided_on,
                                                                        on) is not None

    def get(self, regime_id: str) -> RegimeSpec:
        if regime_id not in self.regimes:
            raise InputError([Problem(self.source, 1, 1, "regimes", _("no regime {id!r}; known: {known}").format(
                id=regime_id, known=", ".join(self.regimes)))])
        return self.regimes[regime_id]

    def budget_rule(self, kind: str, on: dt.date) -> BudgetRule | None:
        """The budget-share rule for a plan or project of this kind approved on ``on``."""
        for rule in self.budget_share:
            if kind in rule.applies_to and rule.effective_from <= on and (rule.effective_until is None
                                                                         or on <= rule.effective_until):
                return rule
        return None

    def in_force(self, on: dt.date) -> RegimeSpec:
        matching = [r for r in self.regimes.values() if r.in_force(on)]
        if not matching:
            raise InputError([Problem(self.source, 1, 1, "regimes", _("no regime is in force on {date}")
                                      .format(date=on.isoformat()))])
        return max(matching, key=lambda r: r.effective_from)


class Holiday(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    date: dt.date | None = None
    from_: dt.date | None = Field(default=None, alias="from")
    to: dt.date | None = None
    name: str


class HolidaysFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    holidays: list[Holiday] = Field(default_factory=list)


@dataclass(frozen=True)
class Calendar:
    """Working days: Monday to Friday, except the public holidays in profiles/holidays.yaml."""

    holidays: frozenset[dt.date]

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def add(self, start: dt.date, count: DayCount) -> dt.date:
        """The last day of a time limit of ``count`` days that starts the day after ``start``."""
        if not count.working:
            return start + dt.timedelta(days=count.days)
        day, left = start, count.days
        while left:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day


def load_calendar(profiles: Path) -> Calendar:
    path = content_file(profiles, "holidays.yaml")
    if not path.is_file():
        return Calendar(frozenset())
    spec, loaded = load_model(path, HolidaysFile)
    days: set[dt.date] = set()
    problems = []
    for i, h in enumerate(spec.holidays):
        if h.date is not None and h.from_ is None and h.to is None:
            days.add(h.date)
        elif h.date is None and h.from_ is not None and h.to is not None and h.from_ <= h.to:
            days.update(h.from_ + dt.timedelta(days=n) for n in range((h.to - h.from_).days + 1))
        else:
            problems.append(loaded.problem(("holidays", i), _("give either 'date', or 'from' and 'to' in order")))
    if problems:
        raise InputError(problems)
    return Calendar(frozenset(days))


def load_regimes(profiles: Path) -> Regimes:
    path = content_file(profiles, "regimes.yaml")
    spec, loaded = load_model(path, RegimesFile)
    known = {r.id for r in spec.regimes}
    problems = [loaded.problem(("transitions", i, "regime"), _("no regime {id!r}; known: {known}").format(
        id=t.regime, known=", ".join(sorted(known)))) for i, t in enumerate(spec.transitions) if t.regime not in known]
    if problems:
        raise InputError(problems)
    return Regimes({r.id: r for r in spec.regimes}, list(spec.budget_share), display_path(path), tuple(spec.transitions))
