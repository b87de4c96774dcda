"""Zone agents benchmark: a TLS scan of N endpoints through the task queue, with one agent and with several,
against the same scan run locally and against sslyze's own command line, in one run.

Serves N TLS endpoints with nginx on 127.0.0.1 (good and broken configurations, as bench.tls does), starts a
Redis of its own on loopback, and declares the endpoints twice: in a plain workspace (the central server scans
them itself) and in a workspace where 127.0.0.0/30 is a network zone, whose targets go to the zone's agents
(`auditor agent run`, each a process on this machine consuming the zone's queue). Prints each scan's wall time,
its throughput, and the ratios: queue over local scan (the queue's overhead), k agents over one agent (the
growth with agents), local scan over the sslyze CLI (the peer).

    python -m bench.agents                          # 1,000 endpoints; 1, 2 and 4 agents; 100 targets per task
    python -m bench.agents --endpoints 200 --agents 1,2

The agents share this machine's cores with nginx and the central server: on a machine with few cores the
growth with agents stops where the cores do, as it would for agents on one physical host.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from auditor.labs.broker import start_redis, wait_for_agent
from auditor.labs.tls_zoo import Zoo
from bench._measure import Measured, measure
from bench.tls import SSLYZE_COMMANDS, Endpoint, nginx_endpoints, workspace

AUDITOR = str(Path(sys.executable).parent / "auditor")
ZONE_NETWORK = "127.0.0.0/30"
PASSWORD = secrets.token_hex(16)


def _password_file(folder: Path) -> None:
    (folder / "broker-password").write_text(PASSWORD)
    (folder / "broker-password").chmod(0o600)


def _run(*args: str, cwd: Path) -> str:
    done = subprocess.run([AUDITOR, *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"auditor {' '.join(args)}: exit {done.returncode}\n{done.stderr[-2000:]}")
    return done.stdout


def zone_workspace(root: Path, zoo: Zoo, endpoints: list[Endpoint], redis_port: int, task_targets: int) -> Path:
    """The same declaration, with the host in a network zone served by agents."""
    ws = workspace(root, zoo, endpoints)
    text = (ws / "inventory.yaml").read_text(encoding="utf-8")
    text = text.replace("version: 1\n", "version: 1\nnetwork_zones:\n  - {id: za, name: Bench zone}\n", 1).replace(
        "roles: [owner, operator]}", f"roles: [owner, operator], networks: [{{zone: za, cidr: {ZONE_NETWORK}}}]}}", 1)
    (ws / "inventory.yaml").write_text(text, encoding="utf-8")
    _password_file(ws)
    (ws / "agents.yaml").write_text(f"broker:\n  url: redis://127.0.0.1:{redis_port}/0\n  password_file: broker-password\n"
                                    "  redelivery_seconds: 3600\n"
                                    f"wait_seconds: 3600\ntask_targets: {task_targets}\n", encoding="utf-8")
    return ws


def make_agents(ws: Path, root: Path, count: int, redis_port: int) -> list[Path]:
    folders = []
    for i in range(count):
        folder = root / f"agent-{i}"
        folder.mkdir()
        _password_file(folder)
        public = json.loads(_run("agent", "keygen", "--key", str(folder / "agent.key"), "--json", cwd=folder))
        _run("agent", "register", f"bench-{i}", "--zone", "za", "--public-key", public["public_key"], cwd=ws)
        _run("agent", "config", f"bench-{i}", "--broker", f"redis://127.0.0.1:{redis_port}/0", "--out",
             str(folder / "agent.yaml"), cwd=ws)
        folders.append(folder)
    return folders


def start_agents(folders: list[Path]) -> list[subprocess.Popen[bytes]]:
    procs = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITOR_")}
    for folder in folders:
        log = folder / "agent.log"
        log.write_bytes(b"")
        procs.append(subprocess.Popen([AUDITOR, "agent", "run", "--config", str(folder / "agent.yaml")], cwd=folder,
                                      stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env,
                                      start_new_session=True))
    deadline = time.monotonic() + 60
    for folder, proc in zip(folders, procs, strict=True):
        try:
            wait_for_agent(folder / "agent.log", proc, deadline)
        except RuntimeError as exc:
            raise SystemExit(f"agent in {folder} did not start: {exc}") from None
    return procs


def stop_agents(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        proc.wait(timeout=60)


def scanned(m: Measured) -> tuple[int, list[tuple[str, str]]]:
    doc = json.loads(m.stdout)
    run = next(r for r in doc["runs"] if r["family"] == "tls")
    unchecked = [i for i in run["indeterminate"] if i["check"] == "agents.no_report"]
    if m.returncode not in (0, 1) or unchecked:
        raise SystemExit(f"the scan did not check everything (exit {m.returncode}): {unchecked[:3]}\n{m.stderr[-2000:]}")
    return run["targets"], sorted((f["check"], f["target"]) for f in doc["findings"] if f["check"].startswith("tls."))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoints", type=int, default=1000)
    parser.add_argument("--agents", default="1,2,4", help="comma-separated numbers of agents (default 1,2,4)")
    parser.add_argument("--task-targets", type=int, default=100, help="targets per task (agents.yaml task_targets)")
    args = parser.parse_args()
    counts = [int(x) for x in args.agents.split(",")]
    zoo = Zoo()
    nginx = redis = None
    rows: list[tuple[str, Measured]] = []
    try:
        nginx, endpoints = nginx_endpoints(zoo, args.endpoints)
        with tempfile.TemporaryDirectory(prefix="auditor-bench-agents-") as tmp:
            root = Path(tmp)
            try:
                redis, redis_port = start_redis(root, PASSWORD)
            except (OSError, RuntimeError) as exc:
                raise SystemExit(f"redis-server did not start: {exc}") from None
            (root / "local").mkdir()
            (root / "zone").mkdir()
            local_ws = workspace(root / "local", zoo, endpoints)
            zone_ws = zone_workspace(root / "zone", zoo, endpoints, redis_port, args.task_targets)
            folders = make_agents(zone_ws, root, max(counts), redis_port)
            scan = ["scan", "--check", "tls", "--json", "--workspace"]
            local = measure([AUDITOR, *scan, str(local_ws)])
            targets, expected = scanned(local)
            rows.append(("local scan", local))
            names = [f"{e.server_name}:{e.port}{{127.0.0.1}}" for e in endpoints]
            peer = measure([sys.executable, "-m", "sslyze", *SSLYZE_COMMANDS, "--json_out", str(root / "s.json"),
                            *names])
            if peer.returncode != 0:
                raise SystemExit(peer.stderr[-2000:])
            rows.append(("sslyze CLI", peer))
            for k in counts:
                procs = start_agents(folders[:k])
                try:
                    m = measure([AUDITOR, *scan, str(zone_ws)])
                finally:
                    stop_agents(procs)
                got, findings = scanned(m)
                if got != targets or findings != expected:
                    raise SystemExit(f"{k} agent(s): {got} targets and {len(findings)} findings; the local scan had "
                                     f"{targets} and {len(expected)}")
                rows.append((f"{k} agent{'s' if k > 1 else ''}", m))
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=30)
        if nginx is not None:
            nginx.stop()
        zoo.close()
    one = next((m.seconds for name, m in rows if name == "1 agent"), None)
    print(f"{args.endpoints} TLS endpoints served by nginx on 127.0.0.1; {args.task_targets} targets per task; "
          f"{os.cpu_count()} cores; one run each (the agents' findings equal the local scan's: checked)")
    print(f"{'':>12} {'wall s':>8} {'endpoints/s':>12} {'peak MiB':>9} {'vs local':>9} {'vs 1 agent':>11}")
    for name, m in rows:
        vs_one = f"{one / m.seconds:>10.2f}x" if one and name.endswith(("agent", "agents")) else f"{'':>11}"
        print(f"{name:>12} {m.seconds:>8.1f} {args.endpoints / m.seconds:>12.1f} {m.peak_mib:>9.0f} "
              f"{m.seconds / local.seconds:>9.2f} {vs_one}")
    print("vs local = wall time / the local scan's (for agents: the queue's overhead; for sslyze: the peer); "
          "vs 1 agent = speed-up over one agent; peak MiB = the central scan's process tree only")


if __name__ == "__main__":
    main()
