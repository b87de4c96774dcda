"""The agent: a Celery worker on its zone's queue only. For each task it checks the central server's signature,
the task's zone and age, and that every target lies in the networks its own file allows; then it probes, and
returns the observations signed with its own key. It holds no database credentials and judges nothing."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import ValidationError

from auditor import clock, safeio
from auditor.agents.config import AgentConfig
from auditor.agents.signed import SignatureError, open_signed, sign
from auditor.agents.wire import MAX_EVIDENCE, PackageObservation, PackageTarget, ProbeResult, ProbeTask
from auditor.i18n import _
from auditor.probes.discovery import DiscoveryObservation, discover
from auditor.probes.nmap_ports import PortObservation, scan_host
from auditor.probes.packages import CollectionError, collect_ssh
from auditor.probes.tls_sslyze import probe_all
from auditor.problems import InputError

log = logging.getLogger("auditor.agent")
PORT_SCAN_PARALLEL = 4
Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def _addresses(target: str) -> list[Net]:
    """The addresses a target stands for: itself (an address or a network), or what its name resolves to here."""
    try:
        return [ipaddress.ip_network(target, strict=False)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(target, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return []
    return [ipaddress.ip_network(str(info[4][0]).split("%")[0]) for info in infos]


def inside(target: str, networks: list[Net]) -> bool:
    """Whether every address the target stands for lies in one of the networks (a name that does not resolve is
    not inside)."""
    found = _addresses(target)
    return bool(found) and all(any(a.version == n.version and a.subnet_of(n) for n in networks)  # type: ignore[arg-type]
                               for a in found)


def refusal(task: ProbeTask, config: AgentConfig) -> str | None:
    """Why the agent will not run this task, or None."""
    if task.zone != config.zone:
        return _("the task is for zone {zone!r}; this agent serves {mine!r}").format(zone=task.zone, mine=config.zone)
    if task.expires_at < clock.now():
        return _("the task expired at {at}").format(at=clock.stamp(task.expires_at))
    networks = [ipaddress.ip_network(n) for n in config.networks]
    wanted = ([t.address for t in task.tls] + [t.address for t, _policy in task.ports]
              + [n.network for n in task.networks] + [h.address for h in task.packages])
    outside = sorted({w for w in wanted if not inside(w, networks)})
    if outside:
        return _("outside the networks of zone {zone}: {targets}; nothing was probed").format(
            zone=config.zone, targets=", ".join(outside[:20]))
    return None


def _evidence(path: str | None) -> str | None:
    if path is None:
        return None
    p = Path(path)
    try:
        raw = safeio.read_bytes(p, max_bytes=MAX_EVIDENCE)
    except InputError:
        return None
    finally:
        with contextlib.suppress(OSError):
            p.unlink()
    return raw.decode(errors="replace")


def ssh_identity(config: AgentConfig, base: Path) -> Path | None:
    if config.ssh_identity_file is None:
        return None
    path = base / config.ssh_identity_file
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise CollectionError(_("the agent's SSH key {path}: {error}").format(path=path, error=exc.strerror)) from None
    if mode & 0o077:
        raise CollectionError(_("{path} can be read by others; make it private (chmod 600)").format(path=path))
    return path


def _packages(host: PackageTarget, identity: Path | None) -> PackageObservation:
    try:
        found = collect_ssh(host.address, host.port, host.user, host.host_key, identity)
    except CollectionError as exc:
        return PackageObservation(error=str(exc)[:2000])
    return PackageObservation(packages=found.as_json())


def run_task(task: ProbeTask, config: AgentConfig, work_dir: Path, base: Path) -> ProbeResult:
    """Probe what the task names (after :func:`refusal` said nothing against it)."""
    base_ids = {"task_id": task.task_id, "agent": config.agent, "zone": config.zone}
    if task.family == "tls":
        assert task.tls_settings is not None
        order = {t: i for i, t in enumerate(task.tls)}
        seen = sorted(probe_all(task.tls, task.tls_settings), key=lambda o: order[o.target])
        return ProbeResult(**base_ids, finished_at=clock.now(), tls=seen)
    if task.family == "ports":
        with ThreadPoolExecutor(max_workers=PORT_SCAN_PARALLEL) as pool:
            ports: list[PortObservation] = list(pool.map(lambda tp: scan_host(tp[0], tp[1], work_dir, 0), task.ports))
        evidence = [_evidence(o.evidence) for o in ports]
        return ProbeResult(**base_ids, finished_at=clock.now(), ports=[replace(o, evidence=None) for o in ports],
                           evidence=evidence)
    if task.family == "patch":
        identity = ssh_identity(config, base)
        with ThreadPoolExecutor(max_workers=PORT_SCAN_PARALLEL) as pool:
            collected = list(pool.map(lambda h: _packages(h, identity), task.packages))
        return ProbeResult(**base_ids, finished_at=clock.now(), packages=collected)
    assert task.discovery is not None
    found: list[DiscoveryObservation] = [discover(n, task.discovery, work_dir, 0) for n in task.networks]
    evidence = [_evidence(o.evidence) for o in found]
    return ProbeResult(**base_ids, finished_at=clock.now(), discovered=[replace(o, evidence=None) for o in found],
                       evidence=evidence)


def handle(envelope: Any, task_id: str, config: AgentConfig, key: Ed25519PrivateKey, central: Ed25519PublicKey,
           work_dir: Path, base: Path) -> dict[str, str]:
    """One message from the queue → the signed result (a refusal is a result too: the central server learns why)."""
    def refuse(reason: str) -> dict[str, str]:
        log.warning("refused task %s: %s", task_id, reason)
        result = ProbeResult(task_id=task_id, agent=config.agent, zone=config.zone, finished_at=clock.now(),
                             refused=reason)
        return sign(key, config.agent, result.model_dump(mode="json"))

    try:
        body = open_signed(envelope, central)
        task = ProbeTask.model_validate(body)
    except SignatureError as exc:
        return refuse(str(exc))
    except ValidationError as exc:
        return refuse(_("the task does not follow the schema: {error}").format(error=str(exc)[:300]))
    if task.task_id != task_id:
        return refuse(_("the task's id does not match the message's"))
    reason = refusal(task, config)
    if reason is not None:
        return refuse(reason)
    log.info("task %s: %s, %d targets", task_id, task.family, task.size)
    try:
        result = run_task(task, config, work_dir, base)
    except CollectionError as exc:  # the agent's own SSH key unusable: said once, for the whole task
        return refuse(str(exc))
    return sign(key, config.agent, result.model_dump(mode="json"))


def private_work_dir(config: AgentConfig, base: Path) -> Path:
    if config.work_dir:
        return safeio.private_dir(base / config.work_dir)
    return Path(tempfile.mkdtemp(prefix="auditor-agent-"))
