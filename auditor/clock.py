"""Time has one home: "now" and "today" in Vietnam time, the end of a day, adding months, and the naive UTC
values the two databases store.

Everything in the auditor that needs the current time asks this module. ``AUDITOR_NOW`` fixes the clock at
one instant (``2026-11-26T10:00:00+07:00``, or a bare date for noon of that day in Vietnam): the tests freeze
it there, and a user can reproduce what the auditor said on a past day. Verdicts never depend on the time a
row was written, only on the business dates of the records (approval, inspection, drill, first seen...).
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
from pathlib import Path

from auditor.problems import UserError

# Vietnam keeps UTC+7 all year (no daylight saving since 1975): a fixed offset needs no tz database.
VN_TIME = dt.timezone(dt.timedelta(hours=7), "ICT")
FREEZE_ENV = "AUDITOR_NOW"

# the dates a record, a plan, an inventory or an option may hold: anything outside is a typo (0001-01-01,
# 9999-12-31), and would overflow the date arithmetic of due dates and time zones further on
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2199, 12, 31)


def plausible(day: dt.date) -> bool:
    return EARLIEST <= day <= LATEST


class ClockError(UserError):
    """AUDITOR_NOW does not hold a date or a date and time (a usage error: exit code 2)."""


def parse_instant(text: str) -> dt.datetime:
    """An ISO date and time (Vietnam time when it has no offset), or a date (noon in Vietnam), as UTC."""
    text = text.strip()
    try:
        if len(text) == 10:
            value = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(12), VN_TIME)
        else:
            value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ClockError(f"{FREEZE_ENV}: not a date or a date and time: {text!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=VN_TIME)
    return value.astimezone(dt.UTC).replace(microsecond=0)


def now() -> dt.datetime:
    """The current instant, in UTC, to the second."""
    frozen = os.environ.get(FREEZE_ENV)
    if frozen:
        return parse_instant(frozen)
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def file_date(path: Path) -> dt.date:
    """The day (in Vietnam) a file was last modified."""
    return in_vietnam(dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)).date()


def today() -> dt.date:
    """Today's date in Vietnam (not the machine's local date)."""
    return in_vietnam(now()).date()


def in_vietnam(value: dt.datetime) -> dt.datetime:
    """An instant in Vietnam time (a naive value is taken as UTC, as the store keeps it)."""
    return as_utc(value).astimezone(VN_TIME)


def start_of_day(day: dt.date) -> dt.datetime:
    """The first instant of a day in Vietnam, as UTC."""
    return dt.datetime.combine(day, dt.time(), VN_TIME).astimezone(dt.UTC)


def end_of_day(day: dt.date) -> dt.datetime:
    """The first instant after a day in Vietnam, as UTC: a moment is on or before ``day`` when it is earlier."""
    return start_of_day(day + dt.timedelta(days=1))


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the last day of the month when that month is shorter)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def as_utc(value: dt.datetime) -> dt.datetime:
    """An aware UTC instant; a naive value is UTC already (what the store keeps)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def to_db(value: dt.datetime) -> dt.datetime:
    """The naive UTC value a column without a time zone keeps (SQLite's text form)."""
    return as_utc(value).replace(tzinfo=None)


def stamp(value: dt.datetime | None = None) -> str:
    """An instant as ISO text in UTC, to the second (now, when none is given)."""
    return as_utc(value or now()).isoformat(timespec="seconds")
