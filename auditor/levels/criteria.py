"""Level criteria as data (profiles/levels/<regime>.yaml) and their three-valued evaluation on facts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from auditor.catalogue.loading import load_model
from auditor.i18n import _, pick
from auditor.problems import InputError, Problem, display_path
from auditor.workspace import content_file

_FACT_OPS = ("equals", "in", "contains", "contains_any", "only", "gte", "lt")


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")
    fact: str | None = None
    equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    contains: Any = None
    contains_any: list[Any] | None = None
    only: list[Any] | None = None
    gte: float | None = None
    lt: float | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        forms = [self.all is not None, self.any is not None, self.not_ is not None, self.fact is not None]
        if sum(forms) != 1:
            raise ValueError("a condition is exactly one of: all, any, not, fact")
        if self.fact is not None:
            ops = [op for op in _FACT_OPS if getattr(self, op + ("_" if op == "in" else ""), None) is not None
                   or (op == "equals" and "equals" in self.model_fields_set)]
            if len(ops) != 1:
                raise ValueError("a fact condition has exactly one of: " + ", ".join(_FACT_OPS))
        return self

    def facts(self) -> set[str]:
        if self.fact is not None:
            return {self.fact}
        out: set[str] = set()
        for c in (self.all or []) + (self.any or []) + ([self.not_] if self.not_ else []):
            out |= c.facts()
        return out


@dataclass(frozen=True)
class Truth:
    """True, False, or unknown (value None) with the facts whose absence made it unknown."""

    value: bool | None
    missing: frozenset[str] = frozenset()


def _lookup(facts: dict[str, Any], name: str) -> Any:
    value: Any = facts
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def evaluate(cond: Condition, facts: dict[str, Any]) -> Truth:
    if cond.all is not None:
        parts = [evaluate(c, facts) for c in cond.all]
        if any(p.value is False for p in parts):
            return Truth(False)
        missing = frozenset().union(*(p.missing for p in parts if p.value is None))
        return Truth(None, missing) if missing else Truth(True)
    if cond.any is not None:
        parts = [evaluate(c, facts) for c in cond.any]
        if any(p.value is True for p in parts):
            return Truth(True)
        missing = frozenset().union(*(p.missing for p in parts if p.value is None))
        return Truth(None, missing) if missing else Truth(False)
    if cond.not_ is not None:
        inner = evaluate(cond.not_, facts)
        return inner if inner.value is None else Truth(not inner.value)
    assert cond.fact is not None
    value = _lookup(facts, cond.fact)
    if value is None:
        return Truth(None, frozenset({cond.fact}))
    if "equals" in cond.model_fields_set:
        return Truth(value == cond.equals)
    if cond.in_ is not None:
        return Truth(value in cond.in_)
    if cond.contains is not None:
        return Truth(isinstance(value, list) and cond.contains in value)
    if cond.contains_any is not None:
        return Truth(isinstance(value, list) and any(v in value for v in cond.contains_any))
    if cond.only is not None:
        return Truth(isinstance(value, list) and bool(value) and all(v in cond.only for v in value))
    if cond.gte is not None:
        return Truth(isinstance(value, int | float) and value >= cond.gte)
    if cond.lt is not None:
        return Truth(isinstance(value, int | float) and value < cond.lt)
    raise AssertionError("validated: one operator")


class CriterionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    level: int = Field(ge=1, le=5)
    article: str
    title: str
    title_en: str
    when: Condition

    def display_title(self) -> str:
        return pick(self.title, self.title_en)


class CriteriaFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    regime: str
    defaults: dict[str, Any] = Field(default_factory=dict)
    criteria: list[CriterionSpec] = Field(min_length=1)


@dataclass(frozen=True)
class CriteriaSet:
    regime: str
    defaults: dict[str, Any]
    criteria: tuple[CriterionSpec, ...]
    source: str


def load_criteria(profiles: Path, regime: str) -> CriteriaSet:
    path = content_file(profiles, f"levels/{regime}.yaml")
    if not path.is_file():
        raise InputError([Problem(display_path(path), 1, 1, "", _("no level criteria for regime {id!r}")
                                  .format(id=regime))])
    spec, loaded = load_model(path, CriteriaFile)
    seen: set[str] = set()
    problems = []
    for i, c in enumerate(spec.criteria):
        if c.id in seen:
            problems.append(loaded.problem(("criteria", i, "id"), _("duplicate criterion id {id!r}").format(id=c.id)))
        seen.add(c.id)
    if spec.regime != regime:
        problems.append(loaded.problem(("regime",), _("the file is for regime {found!r}, not {wanted!r}")
                                       .format(found=spec.regime, wanted=regime)))
    if problems:
        raise InputError(problems)
    return CriteriaSet(spec.regime, dict(spec.defaults), tuple(spec.criteria), display_path(path))
