"""Dates and numbers as people read them, the same in the terminal, the console and the documents: days as
dd/mm/yyyy (the Vietnamese administrative convention, kept in English output too), times in Vietnam time, and
numbers with the thousands separator of the language (412.000 in Vietnamese, 412,000 in English). JSON keeps
ISO 8601 and plain numbers."""

from __future__ import annotations

import datetime as dt

from auditor import clock
from auditor.i18n import _, get_language
from auditor.labels import label
from auditor.vocabulary import SEVERITIES


def vnd(value: object) -> str:
    """Đồng with dots between thousands, as Vietnamese documents write them."""
    return f"{int(str(value)):,}".replace(",", ".")


def pct(value: object) -> str:
    """A percentage as the language writes it: 66,7% in Vietnamese, 66.7% in English."""
    if value is None:
        return "—"
    text = str(value)
    return (text.replace(".", ",") if get_language() == "vi" else text) + "%"


def day(value: object) -> str:
    """A day as dd/mm/yyyy: a date, an instant (its day in Vietnam) or the ISO text of either (a snapshot's);
    nothing, a dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.datetime):
        value = clock.in_vietnam(value).date()
    elif not isinstance(value, dt.date):
        value = dt.date.fromisoformat(str(value)[:10])
    return value.strftime("%d/%m/%Y")


def moment(value: dt.datetime | None) -> str:
    """An instant as dd/mm/yyyy HH:MM, Vietnam time."""
    return clock.in_vietnam(value).strftime("%d/%m/%Y %H:%M") if value is not None else "—"


def number(value: int) -> str:
    """A whole number with the thousands separator of the language."""
    text = f"{value:,}"
    return text.replace(",", ".") if get_language() == "vi" else text


def by_severity(counts: dict[str, int]) -> str:
    """Counts by severity in words, most serious first ('4 cao, 1 trung bình'); none at all, 'none'."""
    shown = [f"{number(counts[sev])} {label(sev)}" for sev in SEVERITIES if counts.get(sev)]
    return ", ".join(shown) if shown else _("none")
