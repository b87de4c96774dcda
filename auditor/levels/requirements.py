"""The requirement catalogue (profiles/requirements.yaml) and what covers each requirement."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from auditor.catalogue.checks import Catalogue
from auditor.catalogue.loading import load_model
from auditor.i18n import _, pick
from auditor.problems import InputError, Problem, display_path
from auditor.workspace import content_file


class RequirementSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    group: Literal["management", "technical"]
    levels: list[int] = Field(min_length=1)
    reference: str
    title: str
    title_en: str

    def display_title(self) -> str:
        return pick(self.title, self.title_en)


class RequirementsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    requirements: list[RequirementSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Requirement:
    spec: RequirementSpec
    checks: tuple[str, ...]  # automated checks that cover it (from checks/ `covers`); empty: manual

    @property
    def manual(self) -> bool:
        return not self.checks


def load_requirements(profiles: Path, catalogue: Catalogue) -> list[Requirement]:
    path = content_file(profiles, "requirements.yaml")
    spec, loaded = load_model(path, RequirementsFile)
    ids = [r.id for r in spec.requirements]
    problems = [loaded.problem(("requirements", i, "id"), _("duplicate requirement id {id!r}").format(id=r))
                for i, r in enumerate(ids) if r in ids[:i]]
    known = set(ids)
    for check in catalogue.checks.values():
        for req in check.covers:
            if req not in known:
                problems.append(Problem(display_path(path), 1, 1, "requirements",
                                        _("check {check} covers {req!r}, which is not in the catalogue")
                                        .format(check=check.id, req=req)))
    if problems:
        raise InputError(problems)
    return [Requirement(r, tuple(sorted(c.id for c in catalogue.checks.values() if r.id in c.covers)))
            for r in spec.requirements]
