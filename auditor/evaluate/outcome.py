"""One check's verdict on one target, as every check family reports it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Verdict = Literal["fail", "pass", "indeterminate", "not_applicable"]


@dataclass(frozen=True)
class Outcome:
    check: str
    system: str
    target: str
    verdict: Verdict
    severity: str
    detail: dict[str, Any] = field(default_factory=dict)
