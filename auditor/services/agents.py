"""The zone agents as the central server knows them: register one (its zone and the public half of its own key),
revoke one, list them with when each last answered, and write the file an agent runs with."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import yaml
from sqlmodel import col, select

from auditor import clock
from auditor.agents.config import load_central
from auditor.agents.dispatch import central_key
from auditor.agents.signed import parse_public, public_hex
from auditor.context import Context
from auditor.i18n import _
from auditor.ledger.chain import append
from auditor.problems import UserError
from auditor.store.tables import AgentRow
from auditor.workspace import Workspace


class AgentError(UserError):
    pass


@dataclass(frozen=True)
class AgentView:
    id: str
    zone: str
    public_key: str
    registered_at: dt.datetime
    last_seen: dt.datetime | None
    revoked_at: dt.datetime | None
    silent: bool  # its zone has not answered within report_within_hours

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "zone": self.zone, "public_key": self.public_key,
                "registered_at": clock.stamp(self.registered_at),
                "last_seen": clock.stamp(self.last_seen) if self.last_seen else None,
                "revoked_at": clock.stamp(self.revoked_at) if self.revoked_at else None, "silent": self.silent}


def _zone(ctx: Context, zone: str) -> None:
    if zone not in {z.id for z in ctx.loaded.inventory.network_zones}:
        raise AgentError(_("unknown network zone {zone!r}; the inventory declares: {known}").format(
            zone=zone, known=", ".join(z.id for z in ctx.loaded.inventory.network_zones) or "—"))


def register(ctx: Context, agent_id: str, zone: str, public_key: str, by: str | None = None) -> AgentRow:
    """Register an agent of a zone by the public half of its key (recorded in the ledger)."""
    _zone(ctx, zone)
    key = public_key.strip().lower()
    parse_public(key)
    with ctx.store.session() as s:
        if s.get(AgentRow, agent_id) is not None:
            raise AgentError(_("an agent named {id!r} is already registered; revoke it first or choose another name")
                             .format(id=agent_id))
        if s.exec(select(AgentRow).where(col(AgentRow.public_key) == key)).first() is not None:
            raise AgentError(_("this key is already registered for another agent; each agent has its own key"))
        row = AgentRow(id=agent_id, zone=zone, public_key=key, registered_by=by)
        s.add(row)
        append(s, "agent.registered", f"agent/{agent_id}", {"agent": agent_id, "zone": zone, "public_key": key,
                                                            **({"by": by} if by else {})})
    return row


def revoke(ctx: Context, agent_id: str, by: str | None = None) -> None:
    with ctx.store.session() as s:
        row = s.get(AgentRow, agent_id)
        if row is None or row.revoked_at is not None:
            raise AgentError(_("no registered agent is named {id!r}").format(id=agent_id))
        row.revoked_at = clock.now()
        s.add(row)
        append(s, "agent.revoked", f"agent/{agent_id}", {"agent": agent_id, **({"by": by} if by else {})})


def list_agents(ctx: Context) -> list[AgentView]:
    within = {z.id: z.report_within_hours for z in ctx.loaded.inventory.network_zones}
    now = clock.now()
    with ctx.store.session() as s:
        rows = list(s.exec(select(AgentRow).order_by(col(AgentRow.zone), col(AgentRow.id))))
    last: dict[str, dt.datetime] = {}
    for r in rows:
        if r.last_seen is not None and (r.zone not in last or r.last_seen > last[r.zone]):
            last[r.zone] = r.last_seen
    return [AgentView(r.id, r.zone, r.public_key, r.registered_at, r.last_seen, r.revoked_at,
                      r.zone not in last or now - last[r.zone] > dt.timedelta(hours=within.get(r.zone, 48)))
            for r in rows]


def agent_file(ctx: Context, agent_id: str, broker_url: str, *, key_file: str = "agent.key",
               password_file: str | None = "broker-password", ca_file: str | None = None,
               ssh_key: str | None = None) -> str:
    """The YAML an agent runs with: its zone's networks as the inventory declares them now, the central server's
    public key, the broker. No secret is in it."""
    with ctx.store.session() as s:
        row = s.get(AgentRow, agent_id)
    if row is None or row.revoked_at is not None:
        raise AgentError(_("no registered agent is named {id!r}").format(id=agent_id))
    networks = [str(n) for n in ctx.loaded.inventory.zone_networks(row.zone)]
    if not networks:
        raise AgentError(_("no organisation declares a network in zone {zone!r}").format(zone=row.zone))
    broker: dict[str, Any] = {"url": broker_url}
    central = load_central(ctx.ws.root)
    if central is not None:  # the agent's worker is the side that puts a dead agent's task back: same time
        broker["redelivery_seconds"] = central.broker.redelivery_seconds
    if password_file:
        broker["password_file"] = password_file
    if ca_file:
        broker["ca_file"] = ca_file
    data = {"version": 1, "agent": agent_id, "zone": row.zone, "networks": networks, "key_file": key_file,
            "central_key": central_public(ctx.ws), "broker": broker}
    if ssh_key:
        data["ssh_identity_file"] = ssh_key
    return (f"# auditor agent file for {agent_id} (zone {row.zone}), written {clock.stamp()}\n"
            + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def central_public(ws: Workspace) -> str:
    return public_hex(central_key(ws.state_dir))
