"""Run the demo: services on loopback, a demo workspace that declares them, and the product run on it."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from auditor.demo.lab import Served, start_lab
from auditor.i18n import _
from auditor.inventory.load import load_inventory
from auditor.problems import InputError, Problem, display_path
from auditor.store.db import open_store
from auditor.store.sync import SyncResult, sync_inventory
from auditor.workspace import INVENTORY, content_root, init_workspace
from auditor.yamlsafe import load_yaml

MARKER = ".auditor-demo"


@dataclass
class DemoRun:
    workspace: Path
    served: list[Served]
    sync: SyncResult | None = None
    systems: int = 0
    store_url: str = ""


def _prepare(target: Path) -> None:
    if target.exists() and any(target.iterdir()):
        if not (target / MARKER).exists():
            raise InputError([Problem(display_path(target), 1, 1, "",
                                      _("the folder exists and is not a demo workspace; choose another with --dir"))])
        shutil.rmtree(target)
    target.mkdir(parents=True, exist_ok=True)
    (target / MARKER).write_text("made by 'auditor demo'; removed and rewritten by the next run\n", encoding="utf-8")


def _demo_inventory(served: list[Served]) -> str:
    """The shipped demo inventory, with each served endpoint moved to the port it really listens on."""
    data: dict[str, Any] = load_yaml(content_root() / INVENTORY).data
    moved = {(s.system, s.host, s.declared_port): s.port for s in served}
    for system in data["systems"]:
        for host in system.get("hosts", []):
            ports = []
            for p in host.get("approved_ports", []):
                number, _sep, proto = str(p).partition("/")
                new = moved.get((system["id"], host["id"], int(number)))
                ports.append(f"{new}/{proto or 'tcp'}" if new else p)
            host["approved_ports"] = ports
        for ep in system.get("endpoints", []):
            new = moved.get((system["id"], ep["host"], ep["port"]))
            if new:
                ep["port"] = new
    header = ("# Demo workspace written by 'auditor demo': the shipped demo inventory, with the services the demo\n"
              "# really runs moved to the loopback ports they listen on.\n")
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)


@contextlib.contextmanager
def demo(target: Path) -> Iterator[DemoRun]:
    """Start the services and write and load the workspace; the services stop when the block ends."""
    _prepare(target)
    data = load_yaml(content_root() / INVENTORY).data
    addresses = {(s["id"], h["id"]): h["address"] for s in data["systems"] for h in s.get("hosts", [])}
    with tempfile.TemporaryDirectory(prefix="auditor-demo-keys-") as scratch:
        served, _ca = start_lab(target / "certs", Path(scratch), addresses)
        try:
            init_workspace(target, inventory_text=_demo_inventory(served))
            run = DemoRun(target, served)
            loaded = load_inventory(target / INVENTORY)
            store = open_store(target)
            try:
                run.sync = sync_inventory(store, loaded)
                run.store_url = store.url
            finally:
                store.close()
            run.systems = len(loaded.inventory.systems)
            yield run
        finally:
            for s in served:
                s.listener.stop()
