"""Value types shared by the inventory models, each with its own validation error type."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, StringConstraints
from pydantic_core import PydanticCustomError

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]

_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ().-]{6,20}$")


def _address(value: Any) -> str:
    """An IPv4/IPv6 address, a network in CIDR form, or a DNS host name."""
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
    looks_numeric = re.fullmatch(r"[0-9./:]+", text) is not None or ":" in text
    if looks_numeric or not _HOSTNAME.match(text):
        raise PydanticCustomError("address_invalid", "not an IP address, network or host name: {value}",
                                  {"value": text})
    return text.lower().rstrip(".")


def _hostname(value: Any) -> str:
    if not isinstance(value, str) or not _HOSTNAME.match(value.strip()) or re.fullmatch(r"[0-9.]+", value):
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
HostName = Annotated[str, BeforeValidator(_hostname)]
Email = Annotated[str, BeforeValidator(_email)]
Phone = Annotated[str, BeforeValidator(_phone)]
