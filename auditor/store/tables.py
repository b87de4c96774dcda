"""Database tables. The schema itself is created and changed only by the Alembic migrations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Dialect, Index, Table, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from auditor import clock


class UtcDateTime(TypeDecorator[dt.datetime]):
    """An instant, read back as aware UTC. PostgreSQL keeps it in a ``timestamp with time zone`` (given in UTC);
    SQLite keeps text without an offset, so it is given naive UTC (an aware value in another zone would
    otherwise be written with its local digits)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return clock.to_db(value) if dialect.name == "sqlite" else clock.as_utc(value)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else clock.as_utc(value)


class OrganisationRow(SQLModel, table=True):
    __tablename__ = "organisation"

    id: str = Field(primary_key=True, max_length=64)
    name: str
    name_en: str | None = None
    roles: list[str] = Field(sa_column=Column(JSON, nullable=False))
    parent_id: str | None = Field(default=None, max_length=64)
    declared: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    present: bool = True
    updated_at: dt.datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)


class SystemRow(SQLModel, table=True):
    __tablename__ = "system"

    id: str = Field(primary_key=True, max_length=64)
    name: str
    name_en: str | None = None
    owner_id: str = Field(max_length=64)
    operator_id: str = Field(max_length=64)
    security_unit_id: str | None = Field(default=None, max_length=64)
    lifecycle: str = Field(max_length=16)
    go_live: dt.date | None = None
    retired_on: dt.date | None = None
    facts: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    declared: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    declared_sha256: str = Field(max_length=64)
    present: bool = True
    updated_at: dt.datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)


class HostRow(SQLModel, table=True):
    __tablename__ = "host"

    system_id: str = Field(primary_key=True, max_length=64)
    host_id: str = Field(primary_key=True, max_length=64)
    address: str = Field(max_length=255)
    zone: str | None = Field(default=None, max_length=32)
    exposure: str = Field(max_length=16)
    approved_ports: list[str] = Field(sa_column=Column(JSON, nullable=False))
    patch_method: str = Field(max_length=16)
    present: bool = True
    updated_at: dt.datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)


class EndpointRow(SQLModel, table=True):
    __tablename__ = "endpoint"

    system_id: str = Field(primary_key=True, max_length=64)
    host_id: str = Field(primary_key=True, max_length=64)
    port: int = Field(primary_key=True)
    protocol: str = Field(max_length=16)
    tls: bool
    server_name: str | None = Field(default=None, max_length=255)
    ca_bundle: str | None = None
    present: bool = True
    updated_at: dt.datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)


class InventoryImportRow(SQLModel, table=True):
    __tablename__ = "inventory_import"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, index=True)
    path: str
    loaded_at: dt.datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    organisations: int
    systems: int
    changed: int


class ScanRunRow(SQLModel, table=True):
    __tablename__ = "scan_run"

    id: int | None = Field(default=None, primary_key=True)
    family: str = Field(max_length=16, index=True)
    started_at: dt.datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    finished_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    status: str = Field(max_length=16)  # running, completed, failed
    targets: int = 0
    failed: int = 0
    indeterminate: int = 0
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # the systems the run judged: a system no completed run covers has not been shown to be free of findings
    systems: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))


class FindingRow(SQLModel, table=True):
    """A finding is identified by (check, system, target); its status is open or resolved."""

    __tablename__ = "finding"
    __table_args__ = (UniqueConstraint("check_id", "system_id", "target", name="uq_finding_identity"),)

    id: int | None = Field(default=None, primary_key=True)
    check_id: str = Field(max_length=64, index=True)
    system_id: str = Field(max_length=64, index=True)
    target: str = Field(max_length=255)
    severity: str = Field(max_length=16)
    status: str = Field(max_length=16, index=True)  # open, resolved
    first_seen: dt.datetime = Field(sa_type=UtcDateTime)
    last_seen: dt.datetime = Field(sa_type=UtcDateTime)
    resolved_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    times_seen: int = 1
    last_run_id: int
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class RiskAcceptanceRow(SQLModel, table=True):
    __tablename__ = "risk_acceptance"

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", index=True)
    justification: str
    accepted_by: str = Field(max_length=255)
    accepted_at: dt.datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    expires_on: dt.date


class FindingAssignmentRow(SQLModel, table=True):
    """Who must fix a finding, by when, and where it stands, as assigned (the latest row applies; earlier ones
    stay as its history)."""

    __tablename__ = "finding_assignment"

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", index=True)
    organisation_id: str = Field(max_length=64)
    due_on: dt.date | None = None
    state: str = Field(max_length=16)
    note: str | None = None
    assigned_by: str = Field(max_length=255)
    assigned_at: dt.datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)


class OfficerKeyRow(SQLModel, table=True):
    """An officer's public signing key. The private key never enters the database."""

    __tablename__ = "officer_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    organisation_id: str = Field(max_length=64)
    public_key: str = Field(max_length=64)  # Ed25519, raw 32 bytes as hex
    fingerprint: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)


class TrustAnchorRow(SQLModel, table=True):
    """A CA certificate the workspace accepts for its officers' signing certificates (pinned, in the ledger)."""

    __tablename__ = "trust_anchor"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, unique=True)  # of the DER
    subject: str
    not_before: dt.datetime = Field(sa_type=UtcDateTime)
    not_after: dt.datetime = Field(sa_type=UtcDateTime)
    pem: str
    added_at: dt.datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)


class CrlRow(SQLModel, table=True):
    """A certificate revocation list imported offline (a file from the CA)."""

    __tablename__ = "crl"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, unique=True)
    issuer: str
    this_update: dt.datetime = Field(sa_type=UtcDateTime)
    next_update: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    der_b64: str
    imported_at: dt.datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)


class SignedDocumentRow(SQLModel, table=True):
    """The latest signed revision of a PDF the auditor signs (a dossier, a report): each signature is an incremental
    update on the one before, so earlier signatures stay valid."""

    __tablename__ = "signed_document"
    __table_args__ = (UniqueConstraint("kind", "key", "lang", name="uq_signed_document"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # dossier, annual, drill
    key: str = Field(max_length=64)
    lang: str = Field(max_length=8)
    name: str
    pdf_b64: str
    sha256: str = Field(max_length=64)
    signatures: int = 0
    updated_at: dt.datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)


class LedgerRow(SQLModel, table=True):
    """Append-only, hash-chained record of every import, state change and decision.

    ``id`` is the row's position; ``seq`` is part of the hashed content, so moving rows is detectable.
    """

    __tablename__ = "ledger"

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)
    at: dt.datetime = Field(sa_type=UtcDateTime)
    kind: str = Field(max_length=64)
    subject: str = Field(max_length=255)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class DossierRow(SQLModel, table=True):
    """A level dossier (hồ sơ đề xuất cấp độ) and where it stands in its workflow."""

    __tablename__ = "dossier"

    id: int | None = Field(default=None, primary_key=True)
    system_id: str = Field(max_length=64, index=True)
    version: int
    state: str = Field(max_length=16)  # draft, submitted, appraised, approved, returned
    regime: str = Field(max_length=16)
    proposed_level: int
    snapshot: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    snapshot_sha256: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    submitted_on: dt.date | None = None
    appraised_on: dt.date | None = None
    appraisal_opinion: str | None = Field(default=None, max_length=32)
    approved_on: dt.date | None = None
    approved_level: int | None = None
    decision_number: str | None = Field(default=None, max_length=128)
    returned_on: dt.date | None = None
    parties: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class PortObservationRow(SQLModel, table=True):
    """What nmap saw open on a declared host's port: the baseline (first seen or declared) and the last run."""

    __tablename__ = "port_observation"
    __table_args__ = (UniqueConstraint("system_id", "host_id", "address", "port", "protocol", name="uq_port_obs"),)

    id: int | None = Field(default=None, primary_key=True)
    system_id: str = Field(max_length=64, index=True)
    host_id: str = Field(max_length=64)
    address: str = Field(max_length=255)
    port: int
    protocol: str = Field(max_length=8)
    baseline_service: str = Field(max_length=128)
    baseline_product: str = Field(max_length=255)
    baseline_version: str = Field(max_length=128)
    service: str = Field(max_length=128)
    product: str = Field(max_length=255)
    version: str = Field(max_length=128)
    first_seen: dt.datetime = Field(sa_type=UtcDateTime)
    last_seen: dt.datetime = Field(sa_type=UtcDateTime)
    last_run_id: int


class AdvisoryRow(SQLModel, table=True):
    """One advisory as it affects one source package of one release, from an imported offline file."""

    __tablename__ = "advisory"
    __table_args__ = (UniqueConstraint("origin", "advisory_id", "os_id", "release", "source_package",
                                       name="uq_advisory"),
                      Index("ix_advisory_lookup", "os_id", "release", "source_package"))

    id: int | None = Field(default=None, primary_key=True)
    origin: str = Field(max_length=32)  # osv, debian-tracker
    advisory_id: str = Field(max_length=128)
    os_id: str = Field(max_length=16, index=True)
    release: str = Field(max_length=32, index=True)  # codename for Debian (bookworm), version for Ubuntu (22.04)
    source_package: str = Field(max_length=255, index=True)
    fixed_version: str | None = Field(default=None, max_length=255)
    urgency: str | None = Field(default=None, max_length=32)
    data_date: dt.date
    import_id: int


class AdvisoryImportRow(SQLModel, table=True):
    __tablename__ = "advisory_import"

    id: int | None = Field(default=None, primary_key=True)
    file: str
    sha256: str = Field(max_length=64)
    origin: str = Field(max_length=32)
    entries: int
    data_date: dt.date
    imported_at: dt.datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)


class ScheduleStateRow(SQLModel, table=True):
    """When each check family last ran for each system under the scheduler."""

    __tablename__ = "schedule_state"

    family: str = Field(primary_key=True, max_length=16)
    system_id: str = Field(primary_key=True, max_length=64)
    last_started: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_finished: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_status: str | None = Field(default=None, max_length=16)
    last_run_id: int | None = None


class ReportRow(SQLModel, table=True):
    """A report as written: the frozen snapshot it was rendered from, its hash, and the hash of each file."""

    __tablename__ = "report"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, index=True)  # annual, drill
    key: str = Field(max_length=64, index=True)  # the year, or the drill's id
    lang: str = Field(max_length=8)
    created_at: dt.datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    snapshot: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    snapshot_sha256: str = Field(max_length=64)
    files: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class AccountRow(SQLModel, table=True):
    """A web console account. The password is kept only as its Argon2id hash; role, organisation, hash and whether
    it is disabled are recorded in the ledger, so a row edited outside the auditor is refused at login."""

    __tablename__ = "account"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=16)
    organisation_id: str = Field(max_length=64)
    full_name: str = Field(default="", max_length=255)
    password_hash: str = Field(max_length=255)
    disabled: bool = False
    lang: str = Field(default="vi", max_length=8)
    failed_logins: int = 0
    locked_until: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: dt.datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)


class WebSessionRow(SQLModel, table=True):
    """A signed-in console session. The cookie holds a random token; the store keeps only its SHA-256."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_sha256: str = Field(max_length=64, unique=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    csrf: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    last_seen_at: dt.datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)


class ApiTokenRow(SQLModel, table=True):
    """A per-account token for the JSON API; only its SHA-256 is kept."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    token_sha256: str = Field(max_length=64, unique=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    label: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    revoked: bool = False


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a model, for plain-row reads of many rows (no ORM object per row)."""
    return SQLModel.metadata.tables[str(model.__tablename__)]


class AgentRow(SQLModel, table=True):
    """A registered agent: its zone and the public half of its own key (the private half never leaves it)."""

    __tablename__ = "agent"

    id: str = Field(primary_key=True, max_length=64)
    zone: str = Field(max_length=64, index=True)
    public_key: str = Field(max_length=64)
    registered_at: dt.datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    registered_by: str | None = Field(default=None, max_length=255)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_seen: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)


class AgentTaskRow(SQLModel, table=True):
    """A task sent to a zone's queue, and what became of it: its result is taken in once, whatever the queue does."""

    __tablename__ = "agent_task"

    id: str = Field(primary_key=True, max_length=32)  # the task's id (a UUID in hex), also Celery's
    run_id: int = Field(index=True)
    zone: str = Field(max_length=64, index=True)
    family: str = Field(max_length=16)
    targets: int
    sent_at: dt.datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    state: str = Field(max_length=16)  # sent, answered, refused, unanswered
    answered_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    agent_id: str | None = Field(default=None, max_length=64)
    result_sha256: str | None = Field(default=None, max_length=64)
    note: str | None = None
