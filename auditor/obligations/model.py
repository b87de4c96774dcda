"""Obligation rules (profiles/obligations.yaml) and their results."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from auditor.catalogue.loading import load_model
from auditor.i18n import _, pick
from auditor.levels.material import PATH
from auditor.problems import InputError
from auditor.vocabulary import Severity, Verdict, verdict_counts
from auditor.workspace import content_file


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


FINDINGS_RULE = "findings.open_by_severity"
APPROVAL_RULE = "level.approval_current"


def load_rules(profiles: Path) -> dict[str, RuleSpec]:
    spec, loaded = load_model(content_file(profiles, "obligations.yaml"), RulesFile)
    rules = {r.id: r for r in spec.obligations}
    problems = []
    for i, r in enumerate(spec.obligations):
        if r.id == FINDINGS_RULE and r.params.get("fail_from") not in set(Severity):
            problems.append(loaded.problem(("obligations", i, "params", "fail_from"), _(
                "the severity from which an open finding fails the audit: one of {values}").format(
                values=", ".join(Severity))))
        material = r.params.get("material")
        if r.id == APPROVAL_RULE and not (isinstance(material, list) and material
                                          and all(isinstance(m, str) and PATH.fullmatch(m) for m in material)):
            problems.append(loaded.problem(("obligations", i, "params", "material"), _(
                "a list of declared fields such as facts, components.facts, hosts.address, endpoints.protocol")))
    problems += [loaded.problem(("obligations",), _("the rule {id} is missing").format(id=rule))
                 for rule in (FINDINGS_RULE, APPROVAL_RULE) if rule not in rules]
    if problems:
        raise InputError(problems)
    return rules


def material_fields(rules: dict[str, RuleSpec]) -> list[str]:
    """The declared fields whose change makes an approval stale (level.approval_current)."""
    return [str(m) for m in rules[APPROVAL_RULE].params["material"]]


def summary_line(results: list[Result]) -> str:
    """"3 obligations fail, 1 cannot be judged, 5 pass, 2 not applicable." for people."""
    c = verdict_counts(r.verdict for r in results)
    return _("{fails} obligations fail, {indeterminate} cannot be judged, {passes} pass, {na} not applicable.").format(
        fails=c[Verdict.FAIL], indeterminate=c[Verdict.INDETERMINATE], passes=c[Verdict.PASS],
        na=c[Verdict.NOT_APPLICABLE])


def audit_fail_from(rules: dict[str, RuleSpec]) -> Severity:
    """From which severity an open finding fails the audit (findings.open_by_severity, profiles/obligations.yaml)."""
    return Severity(rules[FINDINGS_RULE].params["fail_from"])


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
