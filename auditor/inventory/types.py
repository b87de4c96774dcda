"""Value types shared by the inventory models, each with its own validation error type."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, StringConstraints
from pydantic_core import PydanticCustomError

from auditor import clock

ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]

_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ().-]{6,20}$")


def is_host_name(text: str) -> bool:
    """A DNS host name whose last label has a letter (RFC 3696 §2): nothing nmap would read as addresses —
    ``127.0.0.0-31`` or ``10.0.0.*`` is a range of hosts to nmap, and a network is written as one (CIDR)."""
    if not _HOSTNAME.match(text):
        return False
    return re.search(r"[A-Za-z]", text.rstrip(".").rsplit(".", 1)[-1]) is not None


def _address(value: Any) -> str:
    """An IPv4/IPv6 address, a network in CIDR form (whose size the scan policy limits), or a DNS host name."""
    if not isinstance(value, str) or not value.strip():
        raise PydanticCustomError("address_invalid", "not an IP address, network or host name: {value}",
                                  {"value": value})
    text = value.strip()
    try:
        if "/" in text:
            return str(ipaddress.ip_network(text, strict=True))
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if ":" in text or not is_host_name(text):
        raise PydanticCustomError("address_invalid", "not an IP address, network or host name: {value}",
                                  {"value": text})
    return text.lower().rstrip(".")


def _hostname(value: Any) -> str:
    if not isinstance(value, str) or not is_host_name(value.strip()):
        raise PydanticCustomError("hostname_invalid", "not a host name: {value}", {"value": value})
    return value.strip().lower().rstrip(".")


def _email(value: Any) -> str:
    if not isinstance(value, str) or not _EMAIL.match(value.strip()):
        raise PydanticCustomError("email_invalid", "not an e-mail address: {value}", {"value": value})
    return value.strip()


def _phone(value: Any) -> str:
    value = str(value) if isinstance(value, int) else value
    if not isinstance(value, str) or not _PHONE.match(value.strip()):
        raise PydanticCustomError("phone_invalid", "not a telephone number: {value}", {"value": value})
    return value.strip()


Address = Annotated[str, BeforeValidator(_address)]


def _cidr(value: Any) -> str:
    """A network in CIDR form, written with its host bits zero (198.18.1.0/28, not 198.18.1.5/28)."""
    try:
        if not isinstance(value, str) or "/" not in value:
            raise ValueError(value)
        return str(ipaddress.ip_network(value.strip(), strict=True))
    except ValueError:
        raise PydanticCustomError("cidr_invalid", "not a network in CIDR form (such as 198.18.1.0/28): {value}",
                                  {"value": value}) from None


Cidr = Annotated[str, BeforeValidator(_cidr)]
HostName = Annotated[str, BeforeValidator(_hostname)]
Email = Annotated[str, BeforeValidator(_email)]
Phone = Annotated[str, BeforeValidator(_phone)]


def _as_text(kind: str, message: str) -> Callable[[Any], Any]:
    """A date (or time) is written as text (YAML's 2026-11-26); a bare number is not one (pydantic would read it as
    seconds since 1970)."""
    def check(value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise PydanticCustomError(kind, message, {"value": value})
        return value
    return check


def _in_range(day: dt.date, shown: str) -> None:
    if not clock.plausible(day):
        raise PydanticCustomError("date_out_of_range", "{value} is outside the years {first} to {last}",
                                  {"value": shown, "first": clock.EARLIEST.year, "last": clock.LATEST.year})


def _plausible_day(value: dt.date) -> dt.date:
    _in_range(value, value.isoformat())
    return value


def _plausible_moment(value: dt.datetime) -> dt.datetime:
    """A time without an offset is Vietnam time (UTC+7)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.VN_TIME)
    _in_range(value.date(), value.isoformat())
    return value


# dates (and times) a record, a plan or an inventory may hold: written as text, within clock.EARLIEST..LATEST
Day = Annotated[dt.date, BeforeValidator(_as_text("date_invalid", "not a date (YYYY-MM-DD): {value}")),
                AfterValidator(_plausible_day)]
Moment = Annotated[dt.datetime, BeforeValidator(_as_text("datetime_invalid", "not a date and time: {value}")),
                   AfterValidator(_plausible_moment)]
