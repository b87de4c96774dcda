"""Value types shared by the inventory models, each with its own validation error type."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, StringConstraints
from pydantic_core import PydanticCustomError

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
HostName = Annotated[str, BeforeValidator(_hostname)]
Email = Annotated[str, BeforeValidator(_email)]
Phone = Annotated[str, BeforeValidator(_phone)]
