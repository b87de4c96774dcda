"""The schema of inventory.yaml.

Every model forbids unknown keys. Facts that decide the security level are optional: a fact left out is
"not declared", and the level rules say "cannot determine: missing X" rather than guess.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from auditor.i18n import pick
from auditor.inventory.types import Address, Cidr, Day, Email, HostName, Id, Phone
from auditor.vocabulary import Lifecycle

Role = Literal["owner", "operator", "security_unit", "appraiser", "independent_appraiser"]
InformationKind = Literal["public", "private", "personal", "state_secret"]
SystemKind = Literal["internal", "online_service", "infrastructure", "industrial_control", "other"]
Audience = Literal["internal", "agencies", "citizens", "businesses"]
InfrastructureScope = Literal["none", "agency", "sector", "province", "multi_province", "national", "international"]
Harm = Literal["none", "harm", "serious", "especially_serious"]
IcsGrade = Literal["none", "grade_iv", "grade_iii", "grade_ii", "grade_i", "special", "national_security"]
Exposure = Literal["public", "user", "internal", "management"]
Zone = Literal["internet", "dmz", "server", "database", "management", "internal", "user", "wifi", "device_management"]
Protocol = Literal["https", "http", "smtp", "smtps", "submission", "imap", "imaps", "pop3", "pop3s", "ldap", "ldaps",
                   "ftp", "postgres", "rdp", "xmpp", "ssh", "tls", "tcp"]
TransportProtocol = Literal["tcp", "udp"]
PatchMethod = Literal["local", "ssh", "file", "none"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Representative(Strict):
    name: str = Field(min_length=1)
    title: str | None = None


class SecurityRegulation(Strict):
    """The organisation's quy chế bảo đảm an toàn thông tin (TT 12/2022 Điều 9.7; NĐ 331/2026 Điều 30.7)."""

    decision: str = Field(min_length=1)
    issued_on: Day


class CertificateIdentity(Strict):
    """How the certificates of the organisation's officers name it: the subject's organisation (O), or its
    organisation identifier (2.5.4.97), or both (then both must match)."""

    organisation: str | None = Field(default=None, min_length=1)
    identifier: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one(self) -> CertificateIdentity:
        if not self.organisation and not self.identifier:
            raise PydanticCustomError("signing_incomplete", "give 'organisation', 'identifier' or both", {})
        return self


class OwnedNetwork(Strict):
    """A network an organisation owns, in one network zone: the only addresses discovery scans."""

    zone: Id | None = None  # None: a network the central server reaches itself
    cidr: Cidr
    discover: bool = True  # whether `auditor discover` looks for undeclared hosts in it


class Organisation(Strict):
    id: Id
    name: str = Field(min_length=1)
    name_en: str | None = None
    roles: list[Role] = Field(min_length=1)
    parent: Id | None = None
    mandate: str | None = None
    representative: Representative | None = None
    address: str | None = None
    phone: Phone | None = None
    email: Email | None = None
    security_regulation: SecurityRegulation | None = None
    signing: CertificateIdentity | None = None  # how its officers' signing certificates identify it
    networks: list[OwnedNetwork] = Field(default_factory=list)

    def certificate_identity(self) -> CertificateIdentity:
        """How its officers' certificates name it: as declared, else by its name (the subject's O)."""
        return self.signing or CertificateIdentity(organisation=self.name)


class Contact(Strict):
    name: str = Field(min_length=1)
    role: str | None = None
    organisation: Id | None = None
    email: Email | None = None
    phone: Phone | None = None


class PersonalData(Strict):
    basic: int = Field(default=0, ge=0, le=200_000_000)
    sensitive: int = Field(default=0, ge=0, le=200_000_000)


class Facts(Strict):
    """What decides the level (Decree 85/2016 Art. 6-11; Decree 331/2026 Art. 11-15)."""

    information: list[InformationKind] | None = Field(default=None, min_length=1)
    kinds: list[SystemKind] | None = Field(default=None, min_length=1)
    serves: list[Audience] | None = Field(default=None, min_length=1)
    personal_data_subjects: PersonalData | None = None
    online_public_service_level: int | None = Field(default=None, ge=0, le=4)
    administrative_procedures: bool | None = None
    conditional_business: bool | None = None
    infrastructure_scope: InfrastructureScope | None = None
    national_egovernment: bool | None = None
    always_on: bool | None = None
    national_data_centre: bool | None = None
    defence_security_harm: Harm | None = None
    industrial_control: IcsGrade | None = None
    prime_minister_decision: int | None = Field(default=None, ge=1, le=5)


_PORT_TEXT = re.compile(r"^\s*(\d{1,6})\s*(?:/\s*(tcp|udp))?\s*$", re.IGNORECASE)


class ApprovedPort(Strict):
    port: int = Field(ge=1, le=65535)
    protocol: TransportProtocol = "tcp"
    service: str | None = None
    product: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_short_form(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise PydanticCustomError("port_invalid", "not a port: {value}", {"value": value})
        if isinstance(value, int):
            return {"port": value}
        if isinstance(value, str):
            m = _PORT_TEXT.match(value)
            if not m:
                raise PydanticCustomError("port_invalid", "not a port: {value}", {"value": value})
            return {"port": int(m.group(1)), "protocol": (m.group(2) or "tcp").lower()}
        return value

    @property
    def label(self) -> str:
        return f"{self.port}/{self.protocol}"


class PatchSource(Strict):
    method: PatchMethod = "none"
    user: str | None = None
    port: int = Field(default=22, ge=1, le=65535)
    host_key: str | None = None
    identity_file: str | None = None
    path: str | None = None

    @model_validator(mode="after")
    def _needs(self) -> PatchSource:
        if self.method == "ssh" and not (self.user and self.host_key):
            raise PydanticCustomError("patch_ssh_incomplete",
                                      "SSH collection needs 'user' and a pinned 'host_key'", {})
        if self.method == "file" and not self.path:
            raise PydanticCustomError("patch_file_incomplete", "file collection needs 'path'", {})
        return self


class Host(Strict):
    id: Id
    name: str | None = None
    address: Address
    zone: Zone | None = None  # the security zone of TT 12/2022 (dmz, server, ...)
    network_zone: Id | None = None  # where it is scanned from (an agent's zone); else found from the networks
    exposure: Exposure = "internal"
    os: str | None = None
    approved_ports: list[ApprovedPort] = Field(default_factory=list)
    patch: PatchSource = Field(default_factory=PatchSource)


class Endpoint(Strict):
    host: Id
    port: int = Field(ge=1, le=65535)
    protocol: Protocol = "tcp"
    tls: bool = False
    server_name: HostName | None = None
    ca_bundle: str | None = None
    description: str | None = None

    @property
    def key(self) -> str:
        return f"{self.host}:{self.port}"


class Component(Strict):
    """A part of a system with facts of its own: the system's level is the highest of its components'."""

    id: Id
    name: str = Field(min_length=1)
    facts: Facts = Field(default_factory=Facts)


class System(Strict):
    id: Id
    name: str = Field(min_length=1)
    name_en: str | None = None
    description: str | None = None
    owner: Id
    operator: Id
    security_unit: Id | None = None
    lifecycle: Lifecycle
    go_live: Day | None = None
    retired_on: Day | None = None
    # the investment decision (quyết định đầu tư): a system under investment before 01/7/2026 may finish its
    # appraisal and approval under NĐ 85 (NĐ 331/2026 Điều 39.1)
    investment_decided_on: Day | None = None
    facts: Facts = Field(default_factory=Facts)
    components: list[Component] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)
    hosts: list[Host] = Field(default_factory=list)
    endpoints: list[Endpoint] = Field(default_factory=list)

    def in_service_on(self, day: dt.date) -> bool:
        """Whether the system was in service at the end of ``day``, by its declared dates."""
        if self.go_live is None or self.go_live > day:
            return False
        if self.lifecycle is Lifecycle.RETIRED:
            return self.retired_on is not None and day < self.retired_on
        return self.lifecycle.in_service

    def handles_procedures(self) -> str | None:
        """Where it handles administrative procedures: 'the system' or a component's id; None if nowhere."""
        if self.facts.administrative_procedures:
            return self.id
        return next((c.id for c in self.components if c.facts.administrative_procedures), None)


class NetworkZone(Strict):
    """A part of the network the central server cannot reach (a department's LAN, a commune network): its targets
    are probed by the zone's agent. Not the security zone of TT 12/2022 (``hosts[].zone``)."""

    id: Id
    name: str = Field(min_length=1)
    name_en: str | None = None
    report_within_hours: int = Field(default=48, ge=1, le=24 * 90)  # an agent silent longer is a finding


class Meta(Strict):
    title: str | None = None
    province: str | None = None
    contact: Email | None = None


class Inventory(Strict):
    version: Annotated[int, Field(ge=1, le=1)] = 1
    meta: Meta = Field(default_factory=Meta)
    network_zones: list[NetworkZone] = Field(default_factory=list)
    organisations: list[Organisation] = Field(default_factory=list)
    systems: list[System] = Field(default_factory=list)

    @cached_property
    def _networks(self) -> list[tuple[IPv4Network | IPv6Network, str | None, str]]:
        """(network, zone, organisation) of every declared network."""
        return [(ip_network(n.cidr), n.zone, o.id) for o in self.organisations for n in o.networks]

    def network_zone_of(self, host: Host) -> str | None:
        """The network zone a host is probed from: as declared, else the zone of the declared network holding its
        address; None for the central server's own reach."""
        if host.network_zone is not None:
            return host.network_zone
        try:
            mine = ip_network(host.address, strict=False)
        except ValueError:
            return None  # a host name: declare its network_zone
        return next((zone for net, zone, _org in self._networks
                     if net.version == mine.version and mine.subnet_of(net)), None)  # type: ignore[arg-type]

    def zone_networks(self, zone: str | None) -> list[IPv4Network | IPv6Network]:
        return [net for net, z, _org in self._networks if z == zone]

    @cached_property
    def _organisations_by_id(self) -> dict[str, Organisation]:
        return {o.id: o for o in self.organisations}

    @cached_property
    def _systems_by_id(self) -> dict[str, System]:
        return {s.id: s for s in self.systems}

    def organisation(self, org_id: str) -> Organisation | None:
        return self._organisations_by_id.get(org_id)

    def organisation_name(self, org_id: str | None) -> str | None:
        """An organisation's name in the current language (its id if undeclared; None if none is named)."""
        org = self.organisation(org_id) if org_id else None
        return pick(org.name, org.name_en) if org else org_id

    def system(self, system_id: str) -> System | None:
        return self._systems_by_id.get(system_id)  # a report asks this for each of 200,000 findings
