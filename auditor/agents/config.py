"""Where the broker is and how to reach it, on both sides: the central server's agents.yaml (in the workspace) and
an agent's own file (written by ``auditor agent config`` for the agent's machine).

No secret is written in either: the broker password comes from a file readable only by its owner, or from the
environment; the agent's private key stays in its own file on the agent's machine.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from auditor import safeio
from auditor.catalogue.loading import load_model
from auditor.i18n import _
from auditor.inventory.types import ID_PATTERN, Cidr
from auditor.problems import UserError

FILE = "agents.yaml"
PASSWORD_ENV = "AUDITOR_BROKER_PASSWORD"
LOOPBACK_NAMES = ("localhost",)


class Broker(BaseModel):
    """A Redis server: its URL without the password (redis:// on loopback only, rediss:// elsewhere), the ACL
    user in the URL, the password from ``password_file`` or AUDITOR_BROKER_PASSWORD, and the CA that signed the
    server's certificate for rediss://."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    password_file: str | None = None
    ca_file: str | None = None
    redelivery_seconds: int = Field(default=3600, ge=5, le=7 * 86400)  # an unacknowledged task is sent again after

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("redis", "rediss") or not parts.hostname:
            raise ValueError("a Redis URL such as rediss://user@broker.example:6380/0")
        if parts.password:
            raise ValueError("write the password in password_file or AUDITOR_BROKER_PASSWORD, not in the URL")
        if parts.scheme == "redis" and not _loopback(parts.hostname):
            raise ValueError("a broker that is not on loopback is reached with TLS: rediss://")
        return value

    def connection_url(self, base: Path) -> str:
        """The URL with the password in it (never printed or logged)."""
        password = self.password(base)
        parts = urlsplit(self.url)
        if password is None:
            return self.url
        user = quote(parts.username or "", safe="")
        netloc = f"{user}:{quote(password, safe='')}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    def password(self, base: Path) -> str | None:
        if self.password_file:
            path = base / self.password_file
            raw = safeio.read_bytes(path, max_bytes=4096)
            if os.stat(path).st_mode & 0o077:
                raise UserError(_("{path} can be read by others; make it private (chmod 600)").format(path=path))
            return raw.decode().strip()
        return os.environ.get(PASSWORD_ENV) or None

    def ca_path(self, base: Path) -> str | None:
        return str(base / self.ca_file) if self.ca_file else None


def _loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class CentralConfig(BaseModel):
    """agents.yaml in the workspace: the broker, and how long a scan waits for the agents' answers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(default=1, ge=1, le=1)
    broker: Broker
    wait_seconds: int = Field(default=900, ge=1, le=86400)
    task_lifetime_hours: int = Field(default=24, ge=1, le=24 * 14)  # an agent refuses a task older than this
    # targets per task: a zone's targets are split so that several agents of the zone share them
    task_targets: int = Field(default=200, ge=1, le=5000)


class AgentConfig(BaseModel):
    """An agent's file: who it is, its zone, the networks it may probe, its key, the central server's key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(default=1, ge=1, le=1)
    agent: str = Field(pattern=ID_PATTERN)
    zone: str = Field(pattern=ID_PATTERN)
    networks: list[Cidr] = Field(min_length=1)
    key_file: str
    central_key: str = Field(pattern=r"^[0-9a-f]{64}$")
    broker: Broker
    work_dir: str | None = None  # where nmap's XML waits before it is sent (a private temporary folder if unset)
    ssh_identity_file: str | None = None  # the agent's SSH key for package collection (0600); ssh's defaults if unset


def load_central(root: Path) -> CentralConfig | None:
    path = root / FILE
    if not path.exists():
        return None
    return load_model(path, CentralConfig)[0]


def load_agent(path: Path) -> AgentConfig:
    return load_model(path, AgentConfig)[0]
