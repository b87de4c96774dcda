"""auditor inventory check | load | list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import typer
from rich.table import Table
from sqlmodel import col, select

from auditor.cli.common import (
    EXIT_INPUT,
    EXIT_OK,
    JsonOpt,
    LangOpt,
    WorkspaceOpt,
    err,
    handle_errors,
    out,
    plain,
    print_json,
    say,
)
from auditor.i18n import _
from auditor.inventory.load import LoadedInventory, load_inventory
from auditor.inventory.parts import PARTS_DIR
from auditor.labels import label
from auditor.problems import InputError, display_path
from auditor.store.db import Store, open_store
from auditor.store.sync import SyncResult, sync_inventory
from auditor.store.tables import InventoryImportRow, OrganisationRow, SystemRow
from auditor.textformat import day, moment, number
from auditor.workspace import Workspace, find_workspace

app = typer.Typer(add_completion=False, no_args_is_help=True)


def load_into_store(ws: Workspace, store: Store) -> tuple[LoadedInventory, SyncResult]:
    loaded = load_inventory(ws.inventory_path)
    return loaded, sync_inventory(store, loaded)


@app.command("check")
@handle_errors
def check(workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Validate inventory.yaml (and inventory.d/*.yaml); print every problem as FILE:LINE:COLUMN: field: message
    (exit 2)."""
    ws = find_workspace(workspace)
    loaded = load_inventory(ws.inventory_path)
    inv = loaded.inventory
    if as_json:
        print_json({"ok": True, "file": display_path(ws.inventory_path),
                    "files": [display_path(f) for f in loaded.files], "organisations": len(inv.organisations),
                    "systems": len(inv.systems)})
    elif len(loaded.files) > 1:
        say(_("{file} and {n} files in {folder}/: valid ({orgs} organisations, {systems} systems)").format(
            file=display_path(ws.inventory_path), n=len(loaded.files) - 1, folder=PARTS_DIR,
            orgs=len(inv.organisations), systems=len(inv.systems)))
    else:
        say(_("{file}: valid ({orgs} organisations, {systems} systems)").format(
            file=display_path(ws.inventory_path), orgs=len(inv.organisations), systems=len(inv.systems)))
    raise typer.Exit(EXIT_OK)


@app.command("load")
@handle_errors
def load(workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Validate inventory.yaml and bring the store in line with it (idempotent)."""
    ws = find_workspace(workspace)
    store = open_store(ws.root)
    try:
        _loaded, result = load_into_store(ws, store)
    finally:
        store.close()
    data = {"added": result.added, "changed": result.changed, "removed": result.removed,
            "unchanged": result.unchanged, "import_recorded": result.import_recorded, "store": store.url}
    if as_json:
        print_json(data)
    else:
        say(_("Loaded into {store}: {added} added, {changed} changed, {removed} no longer declared, "
                    "{unchanged} unchanged.").format(**data))


def _facts_summary(facts: dict[str, Any]) -> str:
    parts = []
    if facts.get("information"):
        parts.append(", ".join(label(i) for i in facts["information"]))
    pd = facts.get("personal_data_subjects")
    if pd:
        parts.append(_("personal data {basic} + {sensitive} sensitive").format(
            basic=number(int(pd.get("basic") or 0)), sensitive=number(int(pd.get("sensitive") or 0))))
    if facts.get("online_public_service_level") is not None:
        parts.append(_("online service level {n}").format(n=facts["online_public_service_level"]))
    if facts.get("administrative_procedures"):
        parts.append(_("administrative procedures"))
    if facts.get("infrastructure_scope") not in (None, "none"):
        parts.append(_("infrastructure: {scope}").format(scope=facts["infrastructure_scope"]))
    if facts.get("always_on"):
        parts.append("24/7")
    return "; ".join(parts)


@app.command("list")
@handle_errors
def list_(workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """List organisations and systems (from the store, loading inventory.yaml first if it changed). When the
    inventory has problems, they are listed and the store's content from the last load is shown (exit code 2)."""
    ws = find_workspace(workspace)
    store = open_store(ws.root)
    refused: InputError | None = None
    try:
        try:
            loaded: LoadedInventory | None = load_inventory(ws.inventory_path)
        except InputError as exc:
            loaded, refused = None, exc
        with store.session() as s:
            last = s.exec(select(InventoryImportRow).order_by(col(InventoryImportRow.id).desc()).limit(1)).first()
        if loaded is not None and (last is None or last.sha256 != loaded.sha256):
            sync_inventory(store, loaded)
            if not as_json:
                err.print(_("inventory.yaml changed since the last load; loaded it."))
        with store.session() as s:
            orgs = s.exec(select(OrganisationRow).where(OrganisationRow.present).order_by(col(OrganisationRow.id))).all()
            systems = s.exec(select(SystemRow).where(SystemRow.present).order_by(col(SystemRow.id))).all()
    finally:
        store.close()
    if refused is not None:
        for p in refused.problems:
            err.print(p.render(), markup=False)
        err.print(_("{n} problem(s) in the inventory; shown is what the store holds from its last load ({when}).")
                  .format(n=len(refused.problems), when=moment(last.loaded_at) if last else _("never loaded")))
    if as_json:
        print_json({
            "ok": refused is None,
            **({"problems": [p.as_json() for p in refused.problems],
                "loaded_at": last.loaded_at.isoformat() if last else None} if refused is not None else {}),
            "organisations": [{"id": o.id, "name": o.name, "name_en": o.name_en, "roles": o.roles,
                               "parent": o.parent_id} for o in orgs],
            "systems": [{"id": r.id, "name": r.name, "name_en": r.name_en, "owner": r.owner_id,
                         "operator": r.operator_id, "security_unit": r.security_unit_id, "lifecycle": r.lifecycle,
                         "go_live": r.go_live, "retired_on": r.retired_on, "facts": r.facts,
                         "hosts": len(r.declared.get("hosts", [])),
                         "endpoints": len(r.declared.get("endpoints", []))} for r in systems],
        })
    else:
        t = Table(title=_("Organisations"))
        t.add_column(_("Id"), no_wrap=True)
        t.add_column(_("Name"))
        t.add_column(_("Roles"))
        for o in orgs:
            t.add_row(o.id, plain(o.name), ", ".join(label(r) for r in o.roles))
        out.print(t)
        out.print(systems_table(systems, out.width))
    if refused is not None:
        raise typer.Exit(EXIT_INPUT)


def systems_table(systems: Sequence[SystemRow], width: int) -> Table:
    """The systems as a table that fits the terminal: ids and dates are never cut; at 80 columns the owner and
    operator share a column, and the facts for the level are shown from 120 columns (`level propose` has them)."""
    wide = width >= 120
    t = Table(title=_("Information systems"))
    t.add_column(_("Id"), no_wrap=True)
    t.add_column(_("Name"), min_width=10)
    if wide:
        t.add_column(_("Owner"), overflow="fold")
        t.add_column(_("Operator"), overflow="fold")
    else:
        t.add_column(_("Owner / operator"), overflow="fold")
    t.add_column(_("State"))
    t.add_column(_("Go-live"), min_width=10)
    if wide:
        t.add_column(_("Facts for the level"))
    for r in systems:
        units = [r.owner_id, r.operator_id] if wide else [
            r.owner_id if r.owner_id == r.operator_id else f"{r.owner_id} / {r.operator_id}"]
        facts = [_facts_summary(r.facts)] if wide else []
        t.add_row(r.id, plain(r.name), *units, label(r.lifecycle), day(r.go_live), *facts)
    return t
