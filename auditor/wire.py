"""How plain observation dataclasses are checked when they cross from an agent: no unknown field, every type as
declared (pydantic reads ``__pydantic_config__`` on a standard dataclass)."""

from __future__ import annotations

from pydantic import ConfigDict

WIRE = ConfigDict(extra="forbid")
