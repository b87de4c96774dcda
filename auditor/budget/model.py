"""The schema of budget.yaml: plans and projects with their funding lines, in exact VND amounts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from auditor.inventory.types import Id


def _amount(value: Any) -> Decimal:
    """An exact amount of đồng: an integer, or text of digits (dots or spaces as thousands separators)."""
    if isinstance(value, bool | float):
        raise PydanticCustomError("amount_float", "write the amount exactly, as a whole number of đồng: {value}",
                                  {"value": value})
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip().replace(" ", "").replace(".", "").replace("_", "")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise PydanticCustomError("amount_invalid", "not an amount of đồng: {value}", {"value": value}) from None
        if amount != amount.to_integral_value():
            raise PydanticCustomError("amount_float", "write the amount exactly, as a whole number of đồng: {value}",
                                      {"value": value})
        return amount
    raise PydanticCustomError("amount_invalid", "not an amount of đồng: {value}", {"value": value})


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
    approved_on: dt.date
    currency: str = "VND"
    total: Amount
    lines: list[Line] = Field(min_length=1)


class BudgetFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(default=1, ge=1, le=1)
    plans: list[Plan] = Field(default_factory=list)
