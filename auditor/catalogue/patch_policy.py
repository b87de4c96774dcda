"""The patch-level policy (profiles/patch/policy.yaml): advisory freshness by level, end-of-life dates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from auditor.catalogue.loading import load_model
from auditor.workspace import content_file


class EndOfLife(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    os: str
    release: str
    codename: str
    eol: dt.date
    reference: str


class PatchPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    advisories_max_age_days: dict[int, int]
    default_max_age_days: int = Field(ge=1)
    end_of_life: list[EndOfLife]

    def max_age(self, level: int | None) -> int:
        return self.advisories_max_age_days.get(level or 0, self.default_max_age_days)

    def eol_of(self, os_id: str, version: str, codename: str) -> EndOfLife | None:
        """The entry for a release: by version (9.4 matches a table row for 9), or by codename."""
        major = version.split(".")[0]
        return next((e for e in self.end_of_life if e.os == os_id and (
            e.release in (version, major) or (codename and e.codename == codename))), None)


def load_patch_policy(profiles: Path) -> PatchPolicy:
    spec, _loaded = load_model(content_file(profiles, "patch/policy.yaml"), PatchPolicy)
    return spec
