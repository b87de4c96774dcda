"""The central side of the queue: send a zone's targets as signed tasks, take each answer in once.

An answer is taken in only if it is signed with the key registered for an agent of the task's zone, follows the
schema, names the task, and holds one observation per target sent; the task's row moves from "sent" to
"answered" in one conditional update, so an answer that arrives twice (a task delivered again after its agent
died, a replayed message) is taken in once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError
from sqlalchemy import update
from sqlmodel import Session

from auditor import clock, safeio
from auditor.agents.config import CentralConfig
from auditor.agents.queue import make_app, queue_of
from auditor.agents.signed import SignatureError, load_key, new_key, open_signed, parse_public, sign, signer_of
from auditor.agents.wire import MAX_TARGETS, PACKAGE_HOSTS_PER_TASK, TASK_NAME, ProbeResult, ProbeTask
from auditor.i18n import _
from auditor.store.db import Store
from auditor.store.tables import AgentRow, AgentTaskRow

if TYPE_CHECKING:
    from celery import Celery

log = logging.getLogger("auditor.agents")
KEY_FILE = "agents/central-ed25519.pem"
POLL_SECONDS = 0.2


class BrokerDown(Exception):
    """The broker could not be reached (after kombu's own retries); ``sent``: the tasks it took before."""

    def __init__(self, note: str, sent: list[Sent]) -> None:
        super().__init__(note)
        self.sent = sent


def _broker_errors() -> tuple[type[BaseException], ...]:
    from kombu.exceptions import OperationalError
    from redis.exceptions import RedisError

    return (OperationalError, RedisError, OSError)


def central_key(state_dir: Path) -> Ed25519PrivateKey:
    """The key the central server signs tasks with (made on first use, 0600 in .auditor/agents/)."""
    path = state_dir / KEY_FILE
    if not path.exists():
        safeio.private_dir(path.parent)
        new_key(path)
    return load_key(path)


@dataclass(frozen=True)
class Sent:
    task_id: str
    zone: str
    family: str
    targets: int


@dataclass(frozen=True)
class Answer:
    sent: Sent
    result: ProbeResult | None  # None: no usable answer in time (``note`` says why)
    note: str | None = None
    alive: bool = False  # a registered agent of the zone signed this answer (a result or a refusal)


class Dispatch:
    """The tasks of one scan run, sent and collected."""

    def __init__(self, config: CentralConfig, root: Path, state_dir: Path, store: Store, run_id: int) -> None:
        self.config, self.store, self.run_id, self.root = config, store, run_id, root
        self.key = central_key(state_dir)
        self.apps: dict[str, Celery] = {}
        self.sent: list[Sent] = []

    def app_for(self, zone: str) -> Celery:
        """The zone's own app: its queue's and results' keys carry the zone's prefix (see queue.key_prefix)."""
        if zone not in self.apps:
            broker = self.config.broker
            self.apps[zone] = make_app(broker, broker.connection_url(self.root), broker.ca_path(self.root), zone)
        return self.apps[zone]

    def send(self, zone: str, family: str, **targets: Any) -> list[Sent]:
        """Send the targets of one family to a zone's queue, in tasks of at most task_targets (agents.yaml)."""
        (name, items), = ((k, v) for k, v in targets.items() if isinstance(v, list))
        extra = {k: v for k, v in targets.items() if not isinstance(v, list)}
        out: list[Sent] = []
        publishing: tuple[type[BaseException], ...] = (*_broker_errors(), RuntimeError)
        per_task = min(self.config.task_targets, PACKAGE_HOSTS_PER_TASK if family == "patch" else MAX_TARGETS)
        for i in range(0, len(items), per_task):
            now = clock.now()
            task = ProbeTask(task_id=uuid.uuid4().hex, zone=zone, family=family, issued_at=now,
                             expires_at=now + dt.timedelta(hours=self.config.task_lifetime_hours),
                             **{name: items[i:i + per_task]}, **extra)
            sent = Sent(task.task_id, zone, family, task.size)
            with self.store.session() as s:
                s.add(AgentTaskRow(id=task.task_id, run_id=self.run_id, zone=zone, family=family, targets=task.size,
                                   state="sent", sent_at=now))
            try:
                self.app_for(zone).send_task(TASK_NAME, args=[sign(self.key, "central", task.model_dump(mode="json"))],
                                             task_id=task.task_id, queue=queue_of(zone))
            except publishing as exc:
                # Celery's result store gives up on a broker it cannot reach with a RuntimeError caused by it
                cause = exc.__cause__ if isinstance(exc, RuntimeError) else exc
                if not isinstance(cause, _broker_errors()):
                    raise
                note = _("the broker cannot be reached: {error}").format(error=str(cause)[:300])
                _close(self.store, sent, "failed", note)
                self.sent += out  # the tasks already sent are still collected
                raise BrokerDown(note, out) from exc
            out.append(sent)
        self.sent += out
        return out

    def collect(self) -> Iterator[Answer]:
        """Each task's answer as it comes, until all came or the wait is over (the rest: unanswered)."""
        from celery.result import AsyncResult

        deadline = time.monotonic() + self.config.wait_seconds
        waiting = {s.task_id: s for s in self.sent}
        errors = _broker_errors()
        while waiting:
            for task_id, sent in list(waiting.items()):
                pending = AsyncResult(task_id, app=self.app_for(sent.zone))
                try:
                    if not pending.ready():
                        continue
                except errors as exc:  # the broker restarting: ask again until the wait is over
                    log.warning("the broker cannot be reached (%s); asking again", str(exc)[:200])
                    break
                del waiting[task_id]
                if pending.successful():
                    yield ingest(self.store, sent, pending.result)
                else:
                    yield _close(self.store, sent, "failed", _("the agent failed: {error}").format(
                        error=str(pending.result)[:300]))
                with contextlib.suppress(*errors):  # left behind, it expires with the broker's result lifetime
                    pending.forget()
            if waiting and time.monotonic() >= deadline:
                for sent in waiting.values():
                    yield _close(self.store, sent, "unanswered", _("no answer from zone {zone} within {seconds} s")
                                 .format(zone=sent.zone, seconds=self.config.wait_seconds))
                return
            if waiting:
                time.sleep(POLL_SECONDS)


def _close(store: Store, sent: Sent, state: str, note: str) -> Answer:
    with store.session() as s:
        s.execute(update(AgentTaskRow).where(AgentTaskRow.id == sent.task_id,  # type: ignore[arg-type]
                                             AgentTaskRow.state == "sent")  # type: ignore[arg-type]
                  .values(state=state, note=note))
    return Answer(sent, None, note)


def _claim(s: Session, sent: Sent, state: str, agent: str, digest: str, note: str | None) -> bool:
    """Move the task from sent to answered (or refused); False if its answer was already taken in."""
    done = s.execute(update(AgentTaskRow).where(AgentTaskRow.id == sent.task_id,  # type: ignore[arg-type]
                                                AgentTaskRow.state == "sent")  # type: ignore[arg-type]
                     .values(state=state, answered_at=clock.now(), agent_id=agent, result_sha256=digest, note=note))
    return bool(getattr(done, "rowcount", 0) == 1)


def ingest(store: Store, sent: Sent, envelope: Any) -> Answer:
    """Check an answer and take it in once."""
    try:
        agent_id = signer_of(envelope)
    except SignatureError as exc:
        return _close(store, sent, "rejected", str(exc))
    with store.session() as s:
        agent = s.get(AgentRow, agent_id)
        if agent is None or agent.revoked_at is not None or agent.zone != sent.zone:
            note = _("signed by {agent!r}, which is not a registered agent of zone {zone}").format(
                agent=agent_id[:64], zone=sent.zone)
            log.warning("task %s: %s", sent.task_id, note)
            return _close(store, sent, "rejected", note)
        public = agent.public_key
    try:
        result = ProbeResult.model_validate(open_signed(envelope, parse_public(public)))
    except (SignatureError, ValidationError, ValueError) as exc:
        return _close(store, sent, "rejected", str(exc)[:500])
    if (result.task_id, result.agent, result.zone) != (sent.task_id, agent_id, sent.zone):
        return _close(store, sent, "rejected", _("the answer names another task, agent or zone"))
    if result.refused is None and result.size != sent.targets:
        return _close(store, sent, "rejected", _("the answer holds {got} observations for {sent} targets").format(
            got=result.size, sent=sent.targets))
    digest = hashlib.sha256(envelope["body"].encode()).hexdigest()
    with store.session() as s:
        if not _claim(s, sent, "refused" if result.refused else "answered", agent_id, digest, result.refused):
            log.info("task %s: answer already taken in; this copy is ignored", sent.task_id)
            return Answer(sent, None, _("already taken in"))
        row = s.get(AgentRow, agent_id)
        assert row is not None
        row.last_seen = clock.now()
        s.add(row)
    return Answer(sent, None if result.refused else result, result.refused, alive=True)
