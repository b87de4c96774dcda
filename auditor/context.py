"""Open the workspace, validate its inventory and bring the store in line: what most commands start with."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import col, select

from auditor.i18n import _
from auditor.inventory.load import LoadedInventory, load_inventory
from auditor.problems import InputError, Problem, display_path
from auditor.store.db import Store, open_store
from auditor.store.sync import sync_inventory
from auditor.store.tables import ScanRunRow
from auditor.vocabulary import RunStatus
from auditor.workspace import Workspace, find_workspace


@dataclass
class Context:
    ws: Workspace
    store: Store
    loaded: LoadedInventory
    interrupted: int = 0  # runs left 'running' by a process that is gone, marked interrupted on opening

    def check_systems(self, ids: list[str] | None) -> set[str] | None:
        if not ids:
            return None
        known = {s.id for s in self.loaded.inventory.systems}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise InputError([Problem(display_path(self.ws.inventory_path), 1, 1, "systems",
                                      _("unknown system {ref!r}").format(ref=u)) for u in unknown])
        return set(ids)


def settle_interrupted_runs(ws: Workspace, store: Store) -> int:
    """Mark as interrupted the scan runs left 'running' by a process that is gone (killed with -9, a power cut):
    a run holds the workspace's scan lock while it runs, so when the lock is free nothing is running. While a
    scan is running, its run is left alone. How many were marked."""
    with store.session() as s:
        if s.exec(select(ScanRunRow.id).where(col(ScanRunRow.status) == RunStatus.RUNNING).limit(1)).first() is None:
            return 0
    from auditor.scheduler import Busy, mark_interrupted, scan_lock  # the scan code: only when a run is left

    try:
        with scan_lock(ws), store.session() as s:
            return mark_interrupted(s)
    except Busy:
        return 0


@contextmanager
def workspace_context(workspace: Path | None) -> Iterator[Context]:
    ws = find_workspace(workspace)
    loaded = load_inventory(ws.inventory_path)
    store = open_store(ws.root)
    try:
        sync_inventory(store, loaded)
        yield Context(ws, store, loaded, settle_interrupted_runs(ws, store))
    finally:
        store.close()
