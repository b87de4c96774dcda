"""The demo with network zones (``auditor demo --zones``): two zones, a Redis of the demo's own on loopback, and
one agent per zone (``auditor agent run`` in a process of its own), so that the zones' targets are scanned by
their agents and judged centrally, as in a deployment. Everything stays on loopback and stops with the demo."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor import safeio
from auditor.agents.config import FILE as AGENTS_FILE
from auditor.agents.signed import load_key, new_key, public_hex
from auditor.context import Context
from auditor.i18n import _
from auditor.labs.broker import READY_SECONDS, start_redis, wait_for_agent
from auditor.problems import UserError

# (zone, name, owner of the network, network): the data centre's DMZ and a department's server LAN
ZONES = (("dmz-ttdl", "DMZ Trung tâm dữ liệu tỉnh", "ttcds", "127.20.1.0/24"),
         ("lan-sokhcn", "Mạng máy chủ Sở KH&CN", "so-khcn", "127.20.3.0/24"))


def zone_inventory(data: dict[str, Any]) -> None:
    """Declare the demo's two zones and who owns their networks (the hosts in them follow by address)."""
    data["network_zones"] = [{"id": z, "name": name, "report_within_hours": 48} for z, name, _o, _n in ZONES]
    for org in data["organisations"]:
        nets = [{"zone": z, "cidr": net} for z, _name, owner, net in ZONES if owner == org["id"]]
        if nets:
            org["networks"] = nets


@dataclass
class DemoZones:
    folder: Path
    redis_port: int = 0
    password: str = field(default_factory=lambda: secrets.token_hex(16))
    redis: subprocess.Popen[bytes] | None = None
    agents: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def _private(self, path: Path, text: str) -> None:
        safeio.write_text(path, text, mode=0o600)

    def start_broker(self, workspace: Path) -> None:
        """Redis on loopback with a password of this demo; agents.yaml in the workspace."""
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            self.redis, self.redis_port = start_redis(self.folder, self.password)
        except FileNotFoundError:
            raise UserError(_("redis-server is not installed (Debian package redis-server; ./dev demo installs it)")) \
                from None
        except RuntimeError as exc:
            raise UserError(_("the demo's Redis did not start: {log}").format(log=exc)) from None
        self._private(workspace / "broker-password", self.password)
        safeio.write_text(workspace / AGENTS_FILE,
                          f"broker:\n  url: redis://127.0.0.1:{self.redis_port}/0\n  password_file: broker-password\n"
                          "  redelivery_seconds: 300\nwait_seconds: 120\n", mode=0o644)

    def start_agents(self, ctx: Context) -> None:
        """One agent per zone: its own key, registered centrally, its file written by the central server."""
        from auditor.services.agents import agent_file, register

        made = []
        for zone, _name, _owner, _net in ZONES:
            agent = f"agent-{zone}"
            folder = self.folder / agent
            safeio.private_dir(folder)
            new_key(folder / "agent.key")
            register(ctx, agent, zone, public_hex(load_key(folder / "agent.key")), by="demo")
            safeio.write_text(folder / "agent.yaml", agent_file(ctx, agent, f"redis://127.0.0.1:{self.redis_port}/0"),
                              mode=0o644)
            self._private(folder / "broker-password", self.password)
            log = folder / "agent.log"
            env = {k: v for k, v in os.environ.items() if k != "AUDITOR_DATABASE_URL"}  # agents hold no store
            self.agents.append(subprocess.Popen([sys.executable, "-m", "auditor", "agent", "run", "--config",
                                                 str(folder / "agent.yaml")], cwd=folder, stdout=log.open("wb"),
                                                stderr=subprocess.STDOUT, env=env, start_new_session=True))
            made.append(agent)
        deadline = time.monotonic() + READY_SECONDS
        for agent, proc in zip(made, self.agents, strict=True):
            try:
                wait_for_agent(self.folder / agent / "agent.log", proc, deadline)
            except RuntimeError as exc:
                raise UserError(_("the demo's agent {agent} did not start: {log}").format(agent=agent, log=exc)) \
                    from None

    def stop(self) -> None:
        for proc in self.agents:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, 15)
        for proc in [*self.agents, *([self.redis] if self.redis else [])]:
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(self.folder, ignore_errors=True)
