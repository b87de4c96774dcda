"""Run the demo: services on loopback, a demo workspace that declares them, and the product run on it."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import col, select

from auditor import clock
from auditor.advisories.importer import import_file
from auditor.budget.check import BUDGET
from auditor.context import Context
from auditor.demo.dossier import DemoDossier, run_demo_dossier
from auditor.demo.lab import DemoLab, Served
from auditor.demo.reports import DemoReports, run_demo_reports
from auditor.demo.zones import DemoZones, zone_inventory
from auditor.findings.lifecycle import list_findings
from auditor.findings.view import FindingView
from auditor.i18n import _
from auditor.inventory.load import load_inventory
from auditor.problems import InputError, Problem, display_path
from auditor.records.load import RECORDS
from auditor.scan import Progress, ScanReport, run_scan
from auditor.store.db import open_store
from auditor.store.sync import SyncResult, sync_inventory
from auditor.store.tables import AgentTaskRow
from auditor.workspace import INVENTORY, Workspace, content_root, init_workspace
from auditor.yamlsafe import load_yaml

MARKER = ".auditor-demo"
DEMO_CA = "certs/so-khcn-internal-ca.pem"


@dataclass
class DemoRun:
    workspace: Path
    served: list[Served]
    stray: list[Served] = field(default_factory=list)
    sync: SyncResult | None = None
    systems: int = 0
    store_url: str = ""
    scans: list[ScanReport] = field(default_factory=list)
    findings: list[FindingView] = field(default_factory=list)
    dossier: DemoDossier | None = None
    reports: DemoReports | None = None
    agent_tasks: list[tuple[str, str, str, int, str]] = field(default_factory=list)  # zone, family, agent, targets, state


def _prepare(target: Path) -> None:
    if target.exists() and any(target.iterdir()):
        if not (target / MARKER).exists():
            raise InputError([Problem(display_path(target), 1, 1, "",
                                      _("the folder exists and is not a demo workspace; choose another with --dir"))])
        shutil.rmtree(target)
    target.mkdir(parents=True, exist_ok=True)
    (target / MARKER).write_text("made by 'auditor demo'; the next run removes and rewrites it\n", encoding="utf-8")


def _demo_inventory(served: list[Served], zones: bool = False) -> str:
    """The shipped demo inventory, with each served endpoint moved to the port it really listens on (and, with
    zones, two network zones served by agents)."""
    data: dict[str, Any] = load_yaml(content_root() / INVENTORY).data
    if zones:
        zone_inventory(data)
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
                if ep.get("tls"):
                    ep["ca_bundle"] = DEMO_CA
    for system in data["systems"]:  # the portal's database server: its package list comes from a file
        for host in system.get("hosts", []):
            if (system["id"], host["id"]) == ("cong-dvc", "dvc-db"):
                host["os"] = "Debian 12"
                host["patch"] = {"method": "file", "path": "collected/dvc-db.status"}
    header = ("# Demo workspace written by 'auditor demo': the shipped demo inventory, with the services the demo\n"
              "# really runs moved to the loopback ports they listen on. The demo CA in certs/ stands in for the\n"
              "# public CA a real portal would use, so each served TLS endpoint trusts it (ca_bundle).\n")
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)


DEMO_STATUS = """\
Package: openssl
Status: install ok installed
Version: 3.0.11-1~deb12u2

Package: libssl3
Status: install ok installed
Version: 3.0.11-1~deb12u2
Source: openssl

Package: postgresql-15
Status: install ok installed
Version: 15.8-0+deb12u1
"""


def _demo_advisories(target: Path) -> Path:
    """The database host's package list (an old OpenSSL) and a small advisory file dated today."""
    (target / "collected").mkdir(exist_ok=True)
    (target / "collected" / "dvc-db.status").write_text(DEMO_STATUS, encoding="utf-8")
    today = clock.today().isoformat()
    records = [{"id": "DSA-DEMO-0001", "modified": f"{today}T00:00:00Z", "summary": "openssl security update (demo)",
                "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
                              "ranges": [{"type": "ECOSYSTEM",
                                          "events": [{"introduced": "0"}, {"fixed": "3.0.15-1~deb12u1"}]}]}]}]
    path = target / "collected" / "advisories-demo.json"
    path.write_text(json.dumps(records, indent=1), encoding="utf-8")
    return path


def _fast_port_policy(target: Path) -> None:
    """The demo's own copy of the port policy, without version detection: it keeps the demo under a minute."""
    path = target / "profiles" / "ports" / "policy.yaml"
    text = path.read_text(encoding="utf-8").replace("version_detection: true", "version_detection: false")
    path.write_text("# Demo workspace: version detection (-sV) is off here so that the demo stays quick.\n" + text,
                    encoding="utf-8")


@contextlib.contextmanager
def demo(target: Path, progress: Progress | None = None, zones: bool = False) -> Iterator[DemoRun]:
    """Start the services, write and load the workspace and scan it; the services stop when the block ends.
    With zones, the hosts of two network zones are scanned by an agent each, through a Redis of the demo's own."""
    _prepare(target)
    data = load_yaml(content_root() / INVENTORY).data
    addresses = {(s["id"], h["id"]): h["address"] for s in data["systems"] for h in s.get("hosts", [])}
    lab = DemoLab(addresses)
    # the agents' own folders (their keys) are theirs, not the central workspace's: a temporary folder
    zone_lab = DemoZones(Path(tempfile.mkdtemp(prefix="auditor-demo-zones-"))) if zones else None
    try:
        served = lab.start()
        init_workspace(target, inventory_text=_demo_inventory(served, zones))
        for name in (BUDGET, RECORDS):  # the shipped plans and records, as a province would declare them
            shutil.copy(content_root() / name, target / name)
        _fast_port_policy(target)
        (target / DEMO_CA).parent.mkdir(parents=True, exist_ok=True)
        (target / DEMO_CA).write_bytes(lab.ca.cert_pem)
        run = DemoRun(target, served, lab.stray)
        loaded = load_inventory(target / INVENTORY)
        run.systems = len(loaded.inventory.systems)
        store = open_store(target)
        try:
            run.sync = sync_inventory(store, loaded)
            run.store_url = store.url
            ws = Workspace(target.resolve())
            if zone_lab is not None:
                zone_lab.start_broker(target)
                zone_lab.start_agents(Context(ws, store, loaded))
            run.scans = run_scan(ws, store, loaded.inventory, {"tls"}, None, progress=progress)
            served_systems = {s.system for s in served}
            run.scans += run_scan(ws, store, loaded.inventory, {"ports"}, served_systems, progress=progress)
            with store.session() as s:
                import_file(s, _demo_advisories(target), clock.today())
            run.scans += run_scan(ws, store, loaded.inventory, {"patch"}, {"cong-dvc"}, progress=progress)
            with store.session() as s:
                run.findings = list_findings(s, clock.today())
                run.agent_tasks = [(r.zone, r.family, r.agent_id or "—", r.targets, r.state) for r in
                                   s.exec(select(AgentTaskRow).order_by(col(AgentTaskRow.run_id),
                                                                        col(AgentTaskRow.zone)))]
            ctx = Context(ws, store, loaded)
            run.dossier = run_demo_dossier(ctx, clock.today())
            run.reports = run_demo_reports(ctx, clock.today())
        finally:
            store.close()
        yield run
    finally:
        if zone_lab is not None:
            zone_lab.stop()
        lab.stop()
