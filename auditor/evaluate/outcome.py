"""One check's verdict on one target, as every check family reports it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auditor.vocabulary import Severity, Verdict


@dataclass(frozen=True, slots=True)  # a fleet's patch scan holds hundreds of thousands
class Outcome:
    check: str
    system: str
    target: str
    verdict: Verdict
    severity: Severity
    detail: dict[str, Any] = field(default_factory=dict)
