"""Bring the store in line with the declared inventory, idempotently and in one transaction.

Rows are keyed by their declared ids. A row is written only when what was declared changed; a system,
host or endpoint no longer declared is kept (later records refer to it) and marked not present.
An import is recorded only when the file's content differs from the last import.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from auditor import clock
from auditor.inventory.load import LoadedInventory
from auditor.inventory.model import System
from auditor.ledger.chain import append
from auditor.problems import display_path
from auditor.store.db import INSERT_BATCH, Store
from auditor.store.tables import EndpointRow, HostRow, InventoryImportRow, OrganisationRow, SystemRow


@dataclass(frozen=True)
class SyncResult:
    added: int
    changed: int
    removed: int
    unchanged: int
    import_recorded: bool


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def system_digest(system: System) -> str:
    """SHA-256 of the system's declaration: a later change to it makes an approval stale."""
    return hashlib.sha256(canonical_json(system.model_dump(mode="json")).encode()).hexdigest()


class _Counter:
    def __init__(self) -> None:
        self.added = self.changed = self.removed = self.unchanged = 0
        self.new_rows: dict[type, list[dict[str, Any]]] = {}  # inserted together, one statement per table
        self.now = clock.now()


def _apply(session: Session, counter: _Counter, existing: Any, model: type, key: dict[str, Any],
           values: dict[str, Any]) -> None:
    if existing is None:
        counter.new_rows.setdefault(model, []).append({**key, **values, "present": True, "updated_at": counter.now})
        counter.added += 1
        return
    differs = not existing.present or any(getattr(existing, k) != v for k, v in values.items())
    if not differs:
        counter.unchanged += 1
        return
    for k, v in values.items():
        setattr(existing, k, v)
    existing.present = True
    existing.updated_at = clock.now()
    session.add(existing)
    counter.changed += 1


def _retire_missing(session: Session, counter: _Counter, rows: list[Any], keep: set[Any],
                    key: Callable[[Any], Any]) -> None:
    for row in rows:
        if row.present and key(row) not in keep:
            row.present = False
            row.updated_at = clock.now()
            session.add(row)
            counter.removed += 1


def sync_inventory(store: Store, loaded: LoadedInventory) -> SyncResult:
    inv = loaded.inventory
    c = _Counter()
    with store.session() as session:
        orgs = {r.id: r for r in session.exec(select(OrganisationRow))}
        for o in inv.organisations:
            _apply(session, c, orgs.get(o.id), OrganisationRow, {"id": o.id}, {
                "name": o.name, "name_en": o.name_en, "roles": list(o.roles), "parent_id": o.parent,
                "declared": o.model_dump(mode="json")})
        _retire_missing(session, c, list(orgs.values()), {o.id for o in inv.organisations}, lambda r: r.id)

        systems = {r.id: r for r in session.exec(select(SystemRow))}
        hosts = {(r.system_id, r.host_id): r for r in session.exec(select(HostRow))}
        endpoints = {(r.system_id, r.host_id, r.port): r for r in session.exec(select(EndpointRow))}
        host_keys: set[tuple[str, str]] = set()
        endpoint_keys: set[tuple[str, str, int]] = set()
        for s in inv.systems:
            _apply(session, c, systems.get(s.id), SystemRow, {"id": s.id}, {
                "name": s.name, "name_en": s.name_en, "owner_id": s.owner, "operator_id": s.operator,
                "security_unit_id": s.security_unit, "lifecycle": s.lifecycle, "go_live": s.go_live,
                "retired_on": s.retired_on, "facts": s.facts.model_dump(mode="json", exclude_none=True),
                "declared": s.model_dump(mode="json"), "declared_sha256": system_digest(s)})
            for h in s.hosts:
                host_keys.add((s.id, h.id))
                _apply(session, c, hosts.get((s.id, h.id)), HostRow, {"system_id": s.id, "host_id": h.id}, {
                    "address": h.address, "zone": h.zone, "exposure": h.exposure,
                    "approved_ports": [p.label for p in h.approved_ports], "patch_method": h.patch.method})
            for e in s.endpoints:
                endpoint_keys.add((s.id, e.host, e.port))
                _apply(session, c, endpoints.get((s.id, e.host, e.port)), EndpointRow,
                       {"system_id": s.id, "host_id": e.host, "port": e.port},
                       {"protocol": e.protocol, "tls": e.tls, "server_name": e.server_name,
                        "ca_bundle": e.ca_bundle})
        # a province's first load adds tens of thousands of rows: as plain rows in batches, not ORM objects
        for model, rows in c.new_rows.items():
            for start in range(0, len(rows), INSERT_BATCH):
                session.execute(insert(model), rows[start:start + INSERT_BATCH])
        _retire_missing(session, c, list(systems.values()), {s.id for s in inv.systems}, lambda r: r.id)
        _retire_missing(session, c, list(hosts.values()), host_keys, lambda r: (r.system_id, r.host_id))
        _retire_missing(session, c, list(endpoints.values()), endpoint_keys,
                        lambda r: (r.system_id, r.host_id, r.port))

        last = session.exec(select(InventoryImportRow).order_by(col(InventoryImportRow.id).desc()).limit(1)).first()
        record = last is None or last.sha256 != loaded.sha256 or c.added or c.changed or c.removed
        if record:
            session.add(InventoryImportRow(sha256=loaded.sha256, path=display_path(loaded.path),
                                           organisations=len(inv.organisations), systems=len(inv.systems),
                                           changed=c.added + c.changed + c.removed))
            append(session, "inventory.imported", "inventory", {
                "sha256": loaded.sha256, "organisations": len(inv.organisations), "systems": len(inv.systems),
                "added": c.added, "changed": c.changed, "removed": c.removed})
    return SyncResult(c.added, c.changed, c.removed, c.unchanged, bool(record))
