"""The port-scan policy for a level (profiles/ports/policy.yaml)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from auditor.catalogue.loading import load_model
from auditor.i18n import _
from auditor.problems import InputError
from auditor.workspace import content_file


class PortPolicySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    levels: list[int] = Field(min_length=1)
    effective_from: dt.date
    reference: str
    ports: str
    version_detection: bool
    timing: int = Field(ge=0, le=5)
    host_timeout_seconds: int = Field(ge=10, le=7200)
    max_addresses: int = Field(ge=1, le=65536)
    admin_exposed_on: list[Literal["public", "user", "internal", "management"]]

    @field_validator("ports")
    @classmethod
    def _ports(cls, value: str) -> str:
        if not re.fullmatch(r"\d{1,5}(-\d{1,5})?(,\d{1,5}(-\d{1,5})?)*", value):
            raise ValueError("ports: a list such as 1-65535 or 22,80,443,8000-8100")
        return value


class DiscoverySettings(BaseModel):
    """How discovery scans (profiles/ports/policy.yaml, ``discovery``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference: str
    top_ports: int = Field(ge=1, le=65535)
    timing: int = Field(ge=0, le=5)
    host_timeout_seconds: int = Field(ge=10, le=7200)
    max_addresses: int = Field(ge=1, le=65536)


class PortPolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default: str
    policies: list[PortPolicySpec] = Field(min_length=1)
    admin_services: dict[str, str] = Field(default_factory=dict)
    admin_products: dict[str, str] = Field(default_factory=dict)
    admin_ports: dict[int, str]
    discovery: DiscoverySettings | None = None


@dataclass(frozen=True)
class AdminServices:
    """What counts as an administration service: by nmap's service name, its product string, or the port."""

    services: dict[str, str]
    products: dict[str, str]
    ports: dict[int, str]

    def identify(self, port: int, service: str, product: str) -> tuple[str, str] | None:
        """(what it administers, how it was recognised: service, product or port), or None."""
        if service in self.services:
            return self.services[service], "service"
        lowered = product.lower()
        for word, name in self.products.items():
            if word.lower() in lowered:
                return name, "product"
        if port in self.ports:
            return self.ports[port], "port"
        return None


@dataclass(frozen=True)
class PortPolicies:
    by_id: dict[str, PortPolicySpec]
    levels: dict[int, str]
    default: str
    admin: AdminServices
    discovery: DiscoverySettings | None

    def for_level(self, level: int | None) -> PortPolicySpec:
        return self.by_id[self.levels.get(level, self.default) if level is not None else self.default]


def load_port_policies(profiles: Path) -> PortPolicies:
    spec, loaded = load_model(content_file(profiles, "ports/policy.yaml"), PortPolicyFile)
    by_id = {p.id: p for p in spec.policies}
    levels = {level: p.id for p in spec.policies for level in p.levels}
    if spec.default not in by_id:
        raise InputError([loaded.problem(("default",), _("no policy has the id {name!r}").format(name=spec.default))])
    return PortPolicies(by_id, levels, spec.default,
                        AdminServices(dict(spec.admin_services), dict(spec.admin_products), dict(spec.admin_ports)),
                        spec.discovery)
