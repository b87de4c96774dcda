"""Propose a system's security level from its facts under a regime, with every criterion that matched."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor import clock
from auditor.i18n import _
from auditor.inventory.model import Facts, System
from auditor.levels.criteria import CriteriaSet, evaluate, load_criteria
from auditor.levels.regimes import Regimes, RegimeSpec, load_regimes


@dataclass(frozen=True)
class Matched:
    criterion: str
    level: int
    article: str
    title: str
    component: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"criterion": self.criterion, "level": self.level, "article": self.article, "title": self.title,
                "component": self.component}


@dataclass(frozen=True)
class Proposal:
    system: str
    regime: str
    regime_title: str
    level: int | None
    matched: tuple[Matched, ...] = ()
    missing: tuple[str, ...] = ()
    reason: str | None = None
    evaluated_on: dt.date = field(default_factory=clock.today)

    def as_json(self) -> dict[str, Any]:
        return {"system": self.system, "regime": self.regime, "regime_title": self.regime_title,
                "level": self.level, "determined": self.level is not None,
                "matched": [m.as_json() for m in self.matched], "missing_facts": list(self.missing),
                "reason": self.reason, "evaluated_on": self.evaluated_on.isoformat()}


def fact_values(facts: Facts, defaults: dict[str, Any]) -> dict[str, Any]:
    values = facts.model_dump(mode="json", exclude_none=True)
    for key, default in defaults.items():
        values.setdefault(key, default)
    pd = values.get("personal_data_subjects")
    if isinstance(pd, dict):
        pd["total"] = pd.get("basic", 0) + pd.get("sensitive", 0)
    return values


def propose(system: System, criteria: CriteriaSet, regime: RegimeSpec, on: dt.date) -> Proposal:
    subjects: list[tuple[str | None, Facts]] = [(None, system.facts)] + [(c.id, c.facts) for c in system.components]
    matched: list[Matched] = []
    unknown: list[tuple[int, frozenset[str], str | None]] = []
    for component, facts in subjects:
        values = fact_values(facts, criteria.defaults)
        for c in criteria.criteria:
            truth = evaluate(c.when, values)
            if truth.value is True:
                matched.append(Matched(c.id, c.level, c.article, c.display_title(), component))
            elif truth.value is None:
                unknown.append((c.level, truth.missing, component))
    level = max((m.level for m in matched), default=None)
    blocking = [u for u in unknown if level is None or u[0] > level]
    title = regime.display_title()
    matched.sort(key=lambda m: (-m.level, m.criterion))
    if blocking:
        missing = sorted({(f"components.{comp}.facts.{f}" if comp else f"facts.{f}")
                          for _lvl, facts, comp in blocking for f in facts})
        return Proposal(system.id, regime.id, title, None, tuple(matched), tuple(missing),
                        _("cannot determine: missing {facts}").format(facts=", ".join(missing)), on)
    if level is None:
        return Proposal(system.id, regime.id, title, None, (), (),
                        _("cannot determine: no criterion of {regime} matches the declared facts").format(
                            regime=regime.id), on)
    return Proposal(system.id, regime.id, title, level, tuple(matched), (), None, on)


@dataclass
class LevelRules:
    """Regimes and their criteria, loaded once from a profiles folder."""

    profiles: Path
    regimes: Regimes = field(init=False)
    _criteria: dict[str, CriteriaSet] = field(default_factory=dict, init=False)
    # what propose() answered, by system, day and regime (with the very system asked about): one evaluation asks
    # several times about each of a province's thousands of systems
    _proposals: dict[tuple[str, dt.date, str | None], tuple[System, Proposal]] = field(default_factory=dict,
                                                                                       init=False)

    def __post_init__(self) -> None:
        self.regimes = load_regimes(self.profiles)

    def regime(self, on: dt.date, regime_id: str | None = None) -> RegimeSpec:
        return self.regimes.get(regime_id) if regime_id else self.regimes.in_force(on)

    def criteria(self, regime_id: str) -> CriteriaSet:
        if regime_id not in self._criteria:
            self._criteria[regime_id] = load_criteria(self.profiles, regime_id)
        return self._criteria[regime_id]

    def propose(self, system: System, on: dt.date, regime_id: str | None = None) -> Proposal:
        key = (system.id, on, regime_id)
        kept = self._proposals.get(key)
        if kept is not None and kept[0] is system:
            return kept[1]
        regime = self.regime(on, regime_id)
        proposal = propose(system, self.criteria(regime.id), regime, on)
        self._proposals[key] = (system, proposal)
        return proposal
