"""Zone agents end to end: two network zones in network namespaces this test makes, each with TLS and TCP services
that only its own agent can reach, one agent in each (`auditor agent run` inside the namespace), a central Redis
with ACL users and TLS, and the central store on PostgreSQL.

Addresses: 198.18.0.0/15 only (reserved for benchmarking). The central server (the test's own namespace) has no
route into either zone's network. A third namespace holds 198.18.1.16/28, routed from zone A but outside every
declared network: it must receive no packet at all. Everything made is removed at the end, also on failure.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from auditor import clock
from auditor.labs.certs import issue, make_ca
from auditor.labs.sshd import Sshd
from tests.conftest import AUDITOR_BIN, PG_ENV, _reset_postgres, run_auditor

pytestmark = pytest.mark.postgres
HERE = Path(__file__).resolve().parent
TAG = f"{os.getpid() % 100000}"
NS = {"a": f"audza{TAG}", "b": f"audzb{TAG}", "out": f"audzo{TAG}"}
LINKS = {"a": f"vza{TAG}", "b": f"vzb{TAG}"}
CENTRAL = {"a": "198.18.0.1", "b": "198.18.0.5"}  # the central server's end of each zone's link
WEB = {"a": "198.18.1.2", "b": "198.18.2.2"}
UNDECLARED = "198.18.1.5"  # a listener in zone A's network that the inventory does not declare
OUTSIDE = "198.18.1.18"  # routed from zone A, in no declared network


def ip(*args: str, ns: str | None = None) -> None:
    command = ["ip", *(["-n", ns] if ns else []), *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(command)}: {done.stderr}"


def rx_packets(ns: str, link: str) -> int:
    out = subprocess.run(["ip", "netns", "exec", ns, "cat", f"/sys/class/net/{link}/statistics/rx_packets"],
                         capture_output=True, text=True, check=True).stdout
    return int(out.strip())


@contextlib.contextmanager
def namespaces() -> Iterator[None]:
    """Zone A, zone B and the outside, wired to this namespace (the central server) and removed afterwards."""
    made: list[str] = []
    holes: list[str] = []
    try:
        for net in ("198.18.1.0/24", "198.18.2.0/24", "198.18.3.0/24"):  # the zones' networks: never through this
            ip("route", "add", "blackhole", net)  # namespace's default route, out of the machine
            holes.append(net)
        for ns in NS.values():
            ip("netns", "add", ns)
            made.append(ns)
            subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                            "net.ipv6.conf.default.disable_ipv6=1"], check=True, capture_output=True)
            ip("link", "set", "lo", "up", ns=ns)
        for zone, net in (("a", "198.18.1"), ("b", "198.18.2")):
            host, inner = LINKS[zone], f"{LINKS[zone]}n"
            ip("link", "add", host, "type", "veth", "peer", "name", inner, "netns", NS[zone])
            subprocess.run(["sysctl", "-qw", f"net.ipv6.conf.{host}.disable_ipv6=1"], check=True, capture_output=True)
            ip("addr", "add", f"{CENTRAL[zone]}/30", "dev", host)
            ip("link", "set", host, "up")
            ip("addr", "add", f"{CENTRAL[zone][:-1]}{int(CENTRAL[zone][-1]) + 1}/30", "dev", inner, ns=NS[zone])
            ip("link", "set", inner, "up", ns=NS[zone])
            for last in (2, 5):  # the zone's own addresses (no route to the rest of its network)
                ip("addr", "add", f"{net}.{last}/32", "dev", "lo", ns=NS[zone])
        # the outside: 198.18.1.16/28 behind zone A
        ip("link", "add", "vo", "type", "veth", "peer", "name", "vi", "netns", NS["out"], ns=NS["a"])
        ip("addr", "add", "198.18.3.1/30", "dev", "vo", ns=NS["a"])
        ip("link", "set", "vo", "up", ns=NS["a"])
        ip("addr", "add", "198.18.3.2/30", "dev", "vi", ns=NS["out"])
        ip("addr", "add", f"{OUTSIDE}/32", "dev", "lo", ns=NS["out"])
        ip("link", "set", "vi", "up", ns=NS["out"])
        ip("route", "add", "198.18.1.16/28", "via", "198.18.3.2", ns=NS["a"])
        yield
    finally:
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
        for link in LINKS.values():  # deleting a namespace removes its end; the pair goes with it
            subprocess.run(["ip", "link", "del", link], capture_output=True, check=False)
        for net in holes:
            subprocess.run(["ip", "route", "del", "blackhole", net], capture_output=True, check=False)


@dataclass
class Lab:
    root: Path
    ws: Path
    env: dict[str, str]
    redis_port: int
    ca: Path
    passwords: dict[str, str]
    agents: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    outside_before: int = 0  # packets the outside namespace had received when the lab was ready

    def auditor(self, *args: str, env: dict[str, str] | None = None,
                timeout: float = 240) -> subprocess.CompletedProcess[str]:
        return run_auditor(*args, cwd=self.ws, env={**self.env, **(env or {})}, timeout=timeout)

    def start_agent(self, zone: str) -> subprocess.Popen[bytes]:
        folder = self.root / f"agent-{zone}"
        log = self.logs.setdefault(zone, folder / "agent.log")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITOR_") or k == clock.FREEZE_ENV}
        proc = subprocess.Popen(["ip", "netns", "exec", NS[zone], str(AUDITOR_BIN), "agent", "run", "--config",
                                 str(folder / "agent.yaml"), "--zone", f"z{zone}"], stdout=log.open("ab"),
                                stderr=subprocess.STDOUT,
                                env=env, start_new_session=True)
        self.agents[zone] = proc
        deadline = time.monotonic() + 60
        while b"ready." not in log.read_bytes():  # Celery's "celery@... ready." once it consumes
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        return proc

    def stop_agent(self, zone: str, sig: int = signal.SIGTERM) -> None:
        proc = self.agents.pop(zone)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    def stop_broker(self) -> None:
        """Stop Redis the way a restart does (SIGTERM: it writes its append-only file and exits)."""
        broker = self.processes[0]
        broker.terminate()
        broker.wait(timeout=30)

    def start_broker(self) -> None:
        self.processes[0] = start_broker(self.root / "redis.conf", self.redis_port)

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        engine = sa.create_engine(self.env["AUDITOR_DATABASE_URL"])
        try:
            with engine.connect() as conn:
                return [tuple(r) for r in conn.execute(sa.text(sql))]
        finally:
            engine.dispose()


INVENTORY = """\
version: 1
network_zones:
  - {id: za, name: Mạng LAN Sở A, report_within_hours: 48}
  - {id: zb, name: Mạng LAN Sở B, report_within_hours: 48}
organisations:
  - id: so-a
    name: Sở A
    roles: [owner, operator]
    networks: [{zone: za, cidr: 198.18.1.0/28}]
  - id: so-b
    name: Sở B
    roles: [owner, operator]
    networks: [{zone: zb, cidr: 198.18.2.0/28}]
systems:
  - id: cong-a
    name: Cổng A
    owner: so-a
    operator: so-a
    lifecycle: operating
    go_live: 2024-01-01
    hosts: [{id: web, address: 198.18.1.2, approved_ports: [443]}]
    endpoints:
      - {host: web, port: 443, protocol: https, tls: true}
  - id: cong-b
    name: Cổng B
    owner: so-b
    operator: so-b
    lifecycle: operating
    go_live: 2024-01-01
    hosts: [{id: web, address: 198.18.2.2, approved_ports: [443, SSH_PORT],
             patch: {method: ssh, user: SSH_USER, port: SSH_PORT, host_key: "SSH_HOST_KEY"}}]
    endpoints:
      - {host: web, port: 443, protocol: https, tls: true}
"""


def _redis_conf(lab_root: Path, port: int, cert: Path, key: Path, ca: Path, passwords: dict[str, str]) -> Path:
    agent_acl = "~zone:{z}:* &zone:{z}:* +@all -@admin -@dangerous"  # its own zone's keys and channels only
    conf = lab_root / "redis.conf"
    conf.write_text("\n".join([
        "port 0", f"tls-port {port}", f"bind 127.0.0.1 {CENTRAL['a']} {CENTRAL['b']}",
        f"tls-cert-file {cert}", f"tls-key-file {key}", f"tls-ca-cert-file {ca}", "tls-auth-clients no",
        f"dir {lab_root}", "appendonly yes", "appendfsync always", 'save ""', "daemonize no",
        # on with a password nobody has: Redis 7.0 replays its append-only file as the default user and drops
        # every MULTI/EXEC in it (acknowledgements, results) when that user is off (redis/redis#14541)
        f"user default on #{hashlib.sha256(secrets.token_bytes(32)).hexdigest()} ~* &* +@all",
        f"user central on >{passwords['central']} ~* &* +@all",
        f"user agent-za on >{passwords['za']} {agent_acl.format(z='za')}",
        f"user agent-zb on >{passwords['zb']} {agent_acl.format(z='zb')}", ""]))
    conf.chmod(0o600)
    return conf


def start_broker(conf: Path, port: int) -> subprocess.Popen[bytes]:
    """Redis from the lab's file (its log next to it), once it accepts connections."""
    import socket

    proc = subprocess.Popen(["redis-server", str(conf)], stdout=(conf.parent / "redis.log").open("ab"),
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, (conf.parent / "redis.log").read_text()
            time.sleep(0.1)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    if os.geteuid() != 0:
        pytest.fail("the zone agent tests make network namespaces: run them as root (./dev test and CI do)")
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.fail(f"{PG_ENV} is not set: the zone agent tests keep the central store on PostgreSQL (./dev test)")
    _reset_postgres(url)
    root = Path(tempfile.mkdtemp(prefix="auditor-zones-"))
    procs: list[subprocess.Popen[bytes]] = []
    stops: list[Callable[[], None]] = []
    lab_ = None
    with namespaces():
        try:
            ca = make_ca("Zone lab CA")
            ca_file = root / "ca.pem"
            ca_file.write_bytes(ca.cert_pem)
            cert, key = issue(ca, ["127.0.0.1", CENTRAL["a"], CENTRAL["b"]]).write(root, "redis")
            now = clock.now()
            expired = issue(ca, [WEB["a"]], not_before=now - dt.timedelta(days=400),
                            not_after=now - dt.timedelta(days=3)).write(root, "web-a")
            good_b = issue(ca, [WEB["b"]]).write(root, "web-b")
            passwords = {"central": secrets.token_hex(16), "za": secrets.token_hex(16), "zb": secrets.token_hex(16)}
            port = _free_port()
            conf = _redis_conf(root, port, cert, key, ca_file, passwords)
            procs.append(start_broker(conf, port))
            # the services of each zone, inside its namespace
            services = {
                "a": [{"address": WEB["a"], "port": 443, "kind": "tls", "cert": str(expired[0]), "key": str(expired[1])},
                      {"address": WEB["a"], "port": 8080, "kind": "tcp"},
                      {"address": UNDECLARED, "port": 8081, "kind": "tcp"}],
                "b": [{"address": WEB["b"], "port": 443, "kind": "tls", "cert": str(good_b[0]), "key": str(good_b[1])},
                      {"address": WEB["b"], "port": 9000, "kind": "tcp"}],
                "out": [{"address": OUTSIDE, "port": 443, "kind": "tcp"}]}
            for zone, spec in services.items():
                spec_file = root / f"services-{zone}.json"
                spec_file.write_text(json.dumps(spec))
                p = subprocess.Popen(["ip", "netns", "exec", NS[zone], sys.executable, str(HERE / "zone_services.py"),
                                      str(spec_file)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                procs.append(p)
                assert p.stdout is not None and p.stdout.readline().strip() == b"ready"
            # the central workspace: the inventory, agents.yaml (broker password in a private file)
            # an SSH server in zone B: the agent there collects the packages of 198.18.2.2 with its own key
            sshd = Sshd(WEB["b"], netns=NS["b"]).start()
            stops.append(sshd.stop)
            ws = root / "central"
            ws.mkdir()
            (ws / "inventory.yaml").write_text(INVENTORY.replace("SSH_PORT", str(sshd.port)).replace(
                "SSH_USER", sshd.user).replace("SSH_HOST_KEY", sshd.host_key))
            (ws / "broker-password").write_text(passwords["central"])
            (ws / "broker-password").chmod(0o600)
            (ws / "agents.yaml").write_text(
                f"broker:\n  url: rediss://central@127.0.0.1:{port}/0\n  password_file: broker-password\n"
                f"  ca_file: {ca_file}\n  redelivery_seconds: 20\nwait_seconds: 120\n")
            lab_ = Lab(root, ws, {"AUDITOR_DATABASE_URL": url}, port, ca_file, passwords, processes=procs)
            assert lab_.auditor("inventory", "load").returncode == 0
            for zone in ("a", "b"):  # each agent: its own key made on its side, registered centrally
                folder = root / f"agent-{zone}"
                folder.mkdir()
                made = run_auditor("agent", "keygen", "--key", folder / "agent.key", "--json", cwd=folder)
                assert made.returncode == 0, made.stderr
                public = json.loads(made.stdout)["public_key"]
                done = lab_.auditor("agent", "register", f"agent-{zone}", "--zone", f"z{zone}", "--public-key", public)
                assert done.returncode == 0, done.stdout + done.stderr
                shutil.copy(sshd.identity, folder / "ssh-key")
                (folder / "ssh-key").chmod(0o600)
                done = lab_.auditor("agent", "config", f"agent-{zone}", "--broker",
                                    f"rediss://agent-z{zone}@{CENTRAL[zone]}:{port}/0", "--ca-file", str(ca_file),
                                    "--ssh-key", "ssh-key", "--out", str(folder / "agent.yaml"))
                assert done.returncode == 0, done.stdout + done.stderr
                (folder / "broker-password").write_text(passwords[f"z{zone}"])
                (folder / "broker-password").chmod(0o600)
                lab_.start_agent(zone)
            lab_.outside_before = rx_packets(NS["out"], "vi")
            yield lab_
        finally:
            if lab_ is not None:
                for zone in list(lab_.agents):
                    lab_.stop_agent(zone, signal.SIGKILL)
            for p in procs:
                p.kill()
                p.wait(timeout=30)
            for stop in stops:
                stop()
            shutil.rmtree(root, ignore_errors=True)


def _findings(lab: Lab) -> set[tuple[str, str, str, str]]:
    return {(str(c), str(s), str(t), str(st)) for c, s, t, st in
            lab.rows("SELECT check_id, system_id, target, status FROM finding")}


def test_both_zones_are_scanned_by_their_own_agents(lab: Lab) -> None:
    # the central server cannot reach either zone itself (the test's blackhole routes stand for the firewall)
    import socket

    with pytest.raises(OSError):
        socket.create_connection((WEB["a"], 443), timeout=2).close()
    done = lab.auditor("scan", "--json")
    assert done.returncode == 1, done.stdout + done.stderr  # findings that fail the audit
    found = _findings(lab)
    assert ("tls.cert.expired", "cong-a", "web:443", "open") in found
    assert any(c == "ports.unexpected_open" and s == "cong-a" and "8080" in t for c, s, t, _ in found)
    assert any(c == "ports.unexpected_open" and s == "cong-b" and "9000" in t for c, s, t, _ in found)
    assert not any(c == "tls.cert.expired" and s == "cong-b" for c, s, _, _ in found)  # B's certificate is good
    assert ("agents.zone_silent", "cong-a", "zone/za", "open") not in found
    tasks = lab.rows("SELECT zone, family, state, agent_id FROM agent_task")
    assert {(z, f, st, a) for z, f, st, a in tasks} == {
        ("za", "tls", "answered", "agent-a"), ("zb", "tls", "answered", "agent-b"),
        ("za", "ports", "answered", "agent-a"), ("zb", "ports", "answered", "agent-b"),
        ("zb", "patch", "answered", "agent-b")}
    # the nmap XML an agent returned is kept centrally, as a local scan's is
    evidence = list((lab.ws / ".auditor" / "evidence").glob("nmap-run*-cong-a-web.xml"))
    assert evidence and WEB["a"] in evidence[0].read_text()
    listed = json.loads(lab.auditor("agent", "list", "--json").stdout)
    assert {a["id"]: a["silent"] for a in listed} == {"agent-a": False, "agent-b": False}
    assert lab.auditor("verify").returncode == 0


def _send_raw(lab: Lab, zone: str, body: dict[str, object], key_file: Path | None = None) -> dict[str, object]:
    """A task put on a zone's queue by hand (as someone with broker access could), and the agent's signed answer."""
    from auditor.agents.config import load_central
    from auditor.agents.dispatch import central_key
    from auditor.agents.queue import make_app, queue_of
    from auditor.agents.signed import load_key, sign
    from auditor.agents.wire import TASK_NAME

    config = load_central(lab.ws)
    assert config is not None
    app = make_app(config.broker, config.broker.connection_url(lab.ws), config.broker.ca_path(lab.ws), zone)
    key = load_key(key_file) if key_file else central_key(lab.ws / ".auditor")
    task_id = str(body["task_id"])
    app.send_task(TASK_NAME, args=[sign(key, "central", body)], task_id=task_id, queue=queue_of(zone))
    from celery.result import AsyncResult

    envelope = AsyncResult(task_id, app=app).get(timeout=60)
    assert isinstance(envelope, dict)
    return json.loads(envelope["body"])


def _task(zone: str, addresses: list[str]) -> dict[str, object]:
    now = clock.now()
    return {"task_id": secrets.token_hex(16), "zone": zone, "family": "tls", "issued_at": now.isoformat(),
            "expires_at": (now + dt.timedelta(hours=1)).isoformat(),
            "tls": [{"system_id": "x", "host_id": "h", "address": a, "port": 443, "protocol": "https",
                     "server_name": None, "ca_bundle": None} for a in addresses],
            "tls_settings": {"timeout_seconds": 2}}


def test_an_agent_refuses_targets_outside_its_zone_and_tasks_it_cannot_trust(lab: Lab, tmp_path: Path) -> None:
    before = rx_packets(NS["out"], "vi")
    answer = _send_raw(lab, "za", _task("za", [WEB["a"], WEB["b"], OUTSIDE]))
    assert answer["refused"] and "198.18.2.2" in str(answer["refused"]) and OUTSIDE in str(answer["refused"])
    assert answer["tls"] == []
    # a task for another zone, put on this zone's queue
    answer = _send_raw(lab, "za", _task("zb", [WEB["b"]]))
    assert answer["refused"] and "zb" in str(answer["refused"])
    # a task signed with a key that is not the central server's
    from auditor.agents.signed import new_key

    new_key(tmp_path / "forger.key")
    answer = _send_raw(lab, "za", _task("za", [WEB["a"]]), key_file=tmp_path / "forger.key")
    assert answer["refused"] and "chữ ký" in str(answer["refused"])  # the signature does not verify
    assert rx_packets(NS["out"], "vi") == before  # nothing outside the declared networks got a packet


def test_an_agents_broker_user_reaches_its_own_zones_keys_only(lab: Lab) -> None:
    import redis

    client = redis.Redis(host="127.0.0.1", port=lab.redis_port, username="agent-za", password=lab.passwords["za"],
                         ssl=True, ssl_ca_certs=str(lab.ca))
    try:
        assert client.llen("zone:za:zone.za") >= 0  # its own queue
        for attempt in (lambda: client.llen("zone:zb:zone.zb"), lambda: client.get("zone:zb:celery-task-meta-x"),
                        lambda: client.hgetall("zone:zb:unacked"), lambda: client.publish("zone:zb:x", "y"),
                        lambda: client.set("celery-task-meta-x", "y"), lambda: client.keys("*")):
            with pytest.raises(redis.exceptions.NoPermissionError):
                attempt()
    finally:
        client.close()


def test_an_agent_started_for_another_zone_than_its_file_says_stops_at_once(lab: Lab) -> None:
    done = run_auditor("agent", "run", "--config", lab.root / "agent-a" / "agent.yaml", "--zone", "zb",
                       cwd=lab.root / "agent-a", env={"AUDITOR_LANG": "en"}, timeout=60)
    assert done.returncode == 2 and "agent of zone 'za', not 'zb'" in done.stderr, done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_an_answer_that_arrives_twice_is_taken_in_once(lab: Lab) -> None:
    from celery.result import AsyncResult

    from auditor.agents.config import load_central
    from auditor.agents.dispatch import Dispatch, ingest
    from auditor.plan import TlsTarget
    from auditor.store.db import open_store
    from auditor.workspace import find_workspace

    ws = find_workspace(lab.ws)
    store = open_store(ws.root, lab.env["AUDITOR_DATABASE_URL"])
    config = load_central(lab.ws)
    assert config is not None
    dispatch = Dispatch(config, lab.ws, ws.state_dir, store, run_id=999999)
    from auditor.catalogue.tls_policy import ProbeSettings

    sent, = dispatch.send("zb", "tls", tls=[TlsTarget("cong-b", "web", WEB["b"], 443, "https", None, None)],
                          tls_settings=ProbeSettings(timeout_seconds=3))
    envelope = AsyncResult(sent.task_id, app=dispatch.app_for("zb")).get(timeout=90)
    first = ingest(store, sent, envelope)
    again = ingest(store, sent, envelope)
    assert first.result is not None and len(first.result.tls) == 1 and first.result.tls[0].speaks_tls
    assert again.result is None and again.note
    assert lab.rows(f"SELECT state FROM agent_task WHERE id = '{sent.task_id}'") == [("answered",)]
    # a result altered on the way (one byte of its body) is rejected, not taken in
    sent2, = dispatch.send("zb", "tls", tls=[TlsTarget("cong-b", "web", WEB["b"], 443, "https", None, None)],
                           tls_settings=ProbeSettings(timeout_seconds=3))
    envelope2 = AsyncResult(sent2.task_id, app=dispatch.app_for("zb")).get(timeout=90)
    envelope2["body"] = envelope2["body"].replace('"speaks_tls":true', '"speaks_tls":false')
    assert ingest(store, sent2, envelope2).result is None
    assert lab.rows(f"SELECT state FROM agent_task WHERE id = '{sent2.task_id}'") == [("rejected",)]


def test_discovery_finds_the_undeclared_listener_and_nothing_outside(lab: Lab) -> None:
    done = lab.auditor("discover", "--zone", "za", "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    found = json.loads(done.stdout)["findings"]
    hosts = {f["target"]: f for f in found if f["check"] == "inventory.undeclared_host"}
    assert set(hosts) == {UNDECLARED}, hosts  # .2 is a declared host; nothing else answers in 198.18.1.0/28
    assert hosts[UNDECLARED]["system"] == "so-a"
    assert "8081" in hosts[UNDECLARED]["detail"]["proposed"] and "network_zone: za" in hosts[UNDECLARED]["detail"][
        "proposed"]
    services = {(f["system"], f["target"]) for f in found if f["check"] == "inventory.undeclared_service"}
    assert ("cong-a", "web:8080") in services
    assert rx_packets(NS["out"], "vi") == lab.outside_before


def test_the_scheduler_runs_discovery_through_the_agents(lab: Lab) -> None:
    before = lab.rows("SELECT count(*) FROM scan_run WHERE family = 'discover'")[0][0]
    done = lab.auditor("schedule", "run", "--once")  # everything is due: the families per system, and discovery
    assert done.returncode == 0, done.stdout + done.stderr
    assert lab.rows("SELECT last_status FROM schedule_state WHERE family = 'discover' AND system_id = '*'") == [
        ("completed",)]
    assert lab.rows("SELECT count(*) FROM scan_run WHERE family = 'discover' AND status = 'completed'")[0][0] \
        == before + 1
    assert {z for (z,) in lab.rows("SELECT DISTINCT zone FROM agent_task WHERE family = 'discover'")} == {"za", "zb"}
    assert ("inventory.undeclared_host", "so-a", UNDECLARED, "open") in _findings(lab)
    assert rx_packets(NS["out"], "vi") == lab.outside_before


def test_the_zone_agent_collects_packages_over_ssh_with_its_own_key(lab: Lab) -> None:
    done = lab.auditor("scan", "--check", "patch", "--json")
    assert done.returncode in (0, 1), done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert not [i for r in result["runs"] for i in r["indeterminate"] if i["check"] == "agents.no_report"], done.stdout
    run_id = result["runs"][0]["run_id"]
    assert lab.rows(f"SELECT zone, family, state FROM agent_task WHERE run_id = {run_id}") == [
        ("zb", "patch", "answered")]
    found = _findings(lab)
    # collected (this machine's own dpkg database, read over SSH inside zone B); no advisories imported yet
    assert ("patch.advisories_stale", "cong-b", "web:advisories", "open") in found
    assert not any(c == "patch.collection_failed" for c, *_rest in found)
    dump = b"".join(str(r).encode() for r in lab.rows("SELECT * FROM agent_task"))
    assert b"PRIVATE KEY" not in dump


def _tls_scan(lab: Lab) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(AUDITOR_BIN), "scan", "--check", "tls", "--json"], cwd=lab.ws,
                            env={**{k: v for k, v in os.environ.items() if not k.startswith("AUDITOR_")
                                    or k == clock.FREEZE_ENV}, **lab.env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_an_agent_killed_mid_task_loses_nothing(lab: Lab) -> None:
    log = lab.logs["a"]
    mark = log.stat().st_size
    scan = _tls_scan(lab)
    try:
        deadline = time.monotonic() + 60
        while b": tls, 1 targets" not in log.read_bytes()[mark:]:  # the agent has the task: kill it now
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        lab.stop_agent("a", signal.SIGKILL)
        lab.start_agent("a")  # the task comes back after the redelivery time (20 s here)
        out, err = scan.communicate(timeout=180)
    finally:
        if scan.poll() is None:
            scan.kill()
    assert scan.returncode == 1, err.decode()
    result = json.loads(out)
    runs = {r["family"]: r for r in result["runs"]}
    assert not [i for i in runs["tls"]["indeterminate"] if i["check"] == "agents.no_report"], log.read_text()[-6000:]
    run_id = runs["tls"]["run_id"]
    assert {r for r in lab.rows(f"SELECT zone, state FROM agent_task WHERE run_id = {run_id}")} == {
        ("za", "answered"), ("zb", "answered")}
    assert lab.rows("SELECT count(*) FROM finding WHERE check_id = 'tls.cert.expired' AND system_id = 'cong-a' "
                    "AND status = 'open'") == [(1,)]
    assert log.read_bytes()[mark:].count(b": tls, 1 targets") >= 2  # delivered again, taken in once


def test_work_resumes_after_the_broker_restarts(lab: Lab) -> None:
    lab.stop_agent("a")  # zone A's task waits on its queue while the broker restarts
    before = {r[0] for r in lab.rows("SELECT id FROM agent_task")}
    scan = _tls_scan(lab)
    try:
        deadline = time.monotonic() + 60  # zone B answered: both tasks were sent, A's waits on its queue
        while ("zb", "answered") not in {(z, st) for i, z, st in lab.rows("SELECT id, zone, state FROM agent_task")
                                         if i not in before}:
            assert scan.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        lab.stop_broker()
        time.sleep(3)  # the central server asks for answers meanwhile; agent B loses its connection
        lab.start_broker()
        lab.start_agent("a")
        out, err = scan.communicate(timeout=180)
    finally:
        if scan.poll() is None:
            scan.kill()
    assert scan.returncode == 1, (out + err).decode()
    run_id = {r["family"]: r for r in json.loads(out)["runs"]}["tls"]["run_id"]
    assert set(lab.rows(f"SELECT zone, state FROM agent_task WHERE run_id = {run_id}")) == {
        ("za", "answered"), ("zb", "answered")}, (lab.root / "redis.log").read_text()[-3000:]
    # agent B lived through the restart: it is connected again and answers the next scan
    done = lab.auditor("scan", "--check", "tls", "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    run_id = {r["family"]: r for r in json.loads(done.stdout)["runs"]}["tls"]["run_id"]
    assert set(lab.rows(f"SELECT zone, state FROM agent_task WHERE run_id = {run_id}")) == {
        ("za", "answered"), ("zb", "answered")}
    assert lab.rows("SELECT count(*) FROM finding WHERE check_id = 'tls.cert.expired' AND system_id = 'cong-a'") \
        == [(1,)]


def test_a_broker_that_is_down_leaves_the_zones_unchecked_and_says_why(lab: Lab) -> None:
    before = {f for f in _findings(lab) if not f[0].startswith("agents.")}
    lab.stop_broker()
    try:
        done = lab.auditor("scan", "--check", "tls", "--json")
    finally:
        lab.start_broker()
    assert "Traceback" not in done.stderr, done.stderr
    result = json.loads(done.stdout)
    unchecked = {(i["system"], i["target"]): i["detail"]["reason"] for r in result["runs"]
                 for i in r["indeterminate"] if i["check"] == "agents.no_report"}
    assert set(unchecked) == {("cong-a", "web:443"), ("cong-b", "web:443")}, done.stdout
    assert all("broker" in reason or "máy chủ hàng đợi" in reason for reason in unchecked.values()), unchecked
    run_id = result["runs"][0]["run_id"]
    assert set(lab.rows(f"SELECT zone, state FROM agent_task WHERE run_id = {run_id}")) == {
        ("za", "failed"), ("zb", "failed")}
    # a scan that reached nothing resolves nothing (a zone never heard from is silent: this test alone)
    assert {f for f in _findings(lab) if not f[0].startswith("agents.")} == before


def test_a_silent_zone_is_a_finding_and_its_targets_are_never_clean(lab: Lab) -> None:
    lab.stop_agent("b")
    later = (clock.now() + dt.timedelta(days=3)).isoformat()
    (lab.ws / "agents.yaml").write_text((lab.ws / "agents.yaml").read_text().replace("wait_seconds: 120",
                                                                                    "wait_seconds: 30"))
    done = lab.auditor("scan", "--json", env={clock.FREEZE_ENV: later})
    assert done.returncode == 1, done.stdout + done.stderr
    result = json.loads(done.stdout)
    unchecked = {(i["system"], i["target"]) for r in result["runs"] for i in r["indeterminate"]
                 if i["check"] == "agents.no_report"}
    assert ("cong-b", "web:443") in unchecked and ("cong-b", "web") in unchecked
    found = _findings(lab)
    assert ("agents.zone_silent", "cong-b", "zone/zb", "open") in found
    assert ("agents.zone_silent", "cong-a", "zone/za", "open") not in found
    # B's findings stay as they were: not resolved by a scan that did not reach them
    assert any(c == "ports.unexpected_open" and s == "cong-b" and st == "open" for c, s, _, st in found)
    listed = {a["id"]: a["silent"] for a in json.loads(lab.auditor("agent", "list", "--json",
                                                                   env={clock.FREEZE_ENV: later}).stdout)}
    assert listed == {"agent-a": False, "agent-b": True}
