"""The check catalogue: every finding id with its titles, default severity and the requirements it covers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from auditor.catalogue.loading import load_model
from auditor.i18n import _, pick
from auditor.problems import InputError, Problem
from auditor.vocabulary import Severity
from auditor.workspace import content_root


class CheckSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
    title: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    severity: Severity
    covers: list[str] = Field(default_factory=list)
    remediation: str = ""
    remediation_en: str = ""

    def display_title(self) -> str:
        return pick(self.title, self.title_en)

    def display_remediation(self) -> str:
        return pick(self.remediation, self.remediation_en)


class CheckFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    family: str
    checks: list[CheckSpec]


@dataclass(frozen=True)
class Catalogue:
    checks: dict[str, CheckSpec]

    def get(self, check_id: str) -> CheckSpec:
        return self.checks[check_id]

    def title(self, check_id: str) -> str:
        spec = self.checks.get(check_id)
        return spec.display_title() if spec else check_id


def load_catalogue(directory: Path) -> Catalogue:
    checks: dict[str, CheckSpec] = {}
    first: dict[str, str] = {}
    problems: list[Problem] = []
    files = {p.name: p for p in (content_root() / "checks").glob("*.yaml")} if directory.name == "checks" else {}
    files.update({p.name: p for p in directory.glob("*.yaml")})  # the workspace's own files win
    for path in (files[name] for name in sorted(files)):
        try:
            parsed, loaded = load_model(path, CheckFile)
        except InputError as exc:
            problems += exc.problems
            continue
        for i, spec in enumerate(parsed.checks):
            if spec.id in checks:
                problems.append(loaded.problem(("checks", i, "id"), _("duplicate check id {value!r} (first at {place})")
                                               .format(value=spec.id, place=first[spec.id])))
                continue
            checks[spec.id] = spec
            pos = loaded.position(("checks", i, "id"))
            first[spec.id] = f"{loaded.file}:{pos.line}"
    if problems:
        raise InputError(problems)
    return Catalogue(checks)
