"""The schema of budget.yaml: plans and projects with their funding lines, in exact VND amounts."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from auditor.inventory.types import Day, Id

# A whole number of đồng: plain digits, or Vietnamese grouping in threes with dots or with spaces (the usual space,
# or the no-break spaces word processors put there), one separator throughout. ASCII digits only.
_AMOUNT = re.compile(r"-?(?:[0-9]+|[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+)")
MAX_DIGITS = 20  # 10^20 đồng is far beyond any budget: a longer number is a mistake, not an amount


def _amount(value: Any) -> Decimal:
    """An exact amount of đồng: an integer, or text such as 10.000.000 or 10 000 000. Anything else — a decimal
    point, an exponent, a comma, mixed or misplaced separators, other digits — is refused, not guessed at."""
    if isinstance(value, bool | float):
        raise PydanticCustomError("amount_float", "write the amount exactly, as a whole number of đồng: {value}",
                                  {"value": value})
    if isinstance(value, int):
        digits = str(abs(value))
    elif isinstance(value, str) and _AMOUNT.fullmatch(value.strip()):
        digits = re.sub(r"[^0-9]", "", value)
        value = ("-" if value.strip().startswith("-") else "") + digits
    else:
        raise PydanticCustomError("amount_invalid", "not an amount of đồng: {value}", {"value": value})
    if len(digits.lstrip("0")) > MAX_DIGITS:
        raise PydanticCustomError("amount_invalid", "not an amount of đồng: {value}", {"value": value})
    return Decimal(value)


Amount = Annotated[Decimal, BeforeValidator(_amount)]


class Line(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1)
    amount: Amount
    security: bool


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Id
    kind: Literal["annual_plan", "five_year_plan", "project", "programme"]
    title: str = Field(min_length=1)
    owner: Id
    approved_on: Day
    currency: str = "VND"
    total: Amount
    lines: list[Line] = Field(min_length=1)


class BudgetFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(default=1, ge=1, le=1)
    plans: list[Plan] = Field(default_factory=list)
