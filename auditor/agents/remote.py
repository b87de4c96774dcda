"""Which targets a scan probes itself and which it sends to a zone's agent, and what an unanswered zone means.

A host belongs to a network zone when it says so or when a network of that zone holds its address; the rest is
probed from the central server as before. A zone's targets are never probed from the central server: when its
agent does not answer they are indeterminate (``agents.no_report``), never clean, and a zone that has given no
answer for longer than its ``report_within_hours`` is a finding of its own (``agents.zone_silent``) on each system
with targets there.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import func, select

from auditor import clock
from auditor.agents.config import CentralConfig, load_central
from auditor.agents.dispatch import BrokerDown, Dispatch
from auditor.agents.wire import ProbeResult
from auditor.catalogue.checks import Catalogue
from auditor.evaluate.outcome import Outcome
from auditor.i18n import _
from auditor.inventory.model import Inventory
from auditor.store.db import Store
from auditor.store.tables import AgentRow, table_of
from auditor.vocabulary import Verdict
from auditor.workspace import Workspace

T = TypeVar("T")


@dataclass
class Zones:
    """The network zones of an inventory, for one scan."""

    ws: Workspace
    store: Store
    inv: Inventory
    config: CentralConfig | None = None
    _of: dict[tuple[str, str], str | None] = field(default_factory=dict)

    @classmethod
    def of(cls, ws: Workspace, store: Store, inv: Inventory) -> Zones:
        zones = cls(ws, store, inv, load_central(ws.root) if inv.network_zones else None)
        zones._of = {(s.id, h.id): inv.network_zone_of(h) for s in inv.systems for h in s.hosts}
        return zones

    def zone(self, system: str, host: str) -> str | None:
        return self._of.get((system, host))

    def split(self, targets: list[T], key: Callable[[T], tuple[str, str]]) -> tuple[list[T], dict[str, list[T]]]:
        """(what the central server probes, what each zone's agent probes), in plan order."""
        local: list[T] = []
        remote: dict[str, list[T]] = defaultdict(list)
        for t in targets:
            zone = self.zone(*key(t))
            if zone is None:
                local.append(t)
            else:
                remote[zone].append(t)
        return local, dict(remote)


@dataclass
class Remote(Generic[T]):
    """One family's targets in the zones of one run: sent before the central server probes its own, then the
    answers as they come."""

    zones: Zones
    catalogue: Catalogue
    run_id: int
    family: str
    by_zone: dict[str, list[T]]
    system_of: Callable[[T], str]
    label_of: Callable[[T], str]
    answered: set[str] = field(default_factory=set)
    dispatch: Dispatch | None = None
    pending: dict[str, list[T]] = field(default_factory=dict)  # task id → its targets
    problem: str | None = None
    not_sent: list[tuple[list[T], str]] = field(default_factory=list)  # targets the broker did not take, and why

    def send(self, payload: Callable[[list[T]], dict[str, Any]]) -> None:
        if not self.by_zone:
            return
        if self.zones.config is None:
            self.problem = _("the inventory declares network zones but the workspace has no agents.yaml (the broker)")
            return
        self.dispatch = Dispatch(self.zones.config, self.zones.ws.root, self.zones.ws.state_dir, self.zones.store,
                                 self.run_id)
        for zone, targets in self.by_zone.items():
            size = 0
            try:
                for sent in self.dispatch.send(zone, self.family, **payload(targets)):
                    self.pending[sent.task_id] = targets[size:size + sent.targets]
                    size += sent.targets
            except BrokerDown as exc:
                for sent in exc.sent:  # taken before the broker went away
                    self.pending[sent.task_id] = targets[size:size + sent.targets]
                    size += sent.targets
                self.not_sent.append((targets[size:], str(exc)))

    def answers(self) -> Iterator[tuple[list[T], ProbeResult | None, str | None]]:
        """(the targets of a task, its result or None, why none)."""
        if self.dispatch is None:
            for targets in self.by_zone.values():
                yield targets, None, self.problem
            return
        yield from ((targets, None, note) for targets, note in self.not_sent)
        for answer in self.dispatch.collect():
            if answer.alive:
                self.answered.add(answer.sent.zone)
            yield self.pending[answer.sent.task_id], answer.result, answer.note

    def unchecked(self, targets: list[T], note: str | None) -> list[Outcome]:
        severity = self.catalogue.get("agents.no_report").severity
        return [Outcome("agents.no_report", self.system_of(t), self.label_of(t), Verdict.INDETERMINATE, severity,
                        {"reason": note or ""}) for t in targets]

    def zone_outcomes(self, now: dt.datetime) -> list[Outcome]:
        """Per system with targets in a zone: whether the zone's agent is silent beyond its interval."""
        severity = self.catalogue.get("agents.zone_silent").severity
        with self.zones.store.session() as s:
            t = table_of(AgentRow).c
            last: dict[str, dt.datetime | None] = {r[0]: r[1] for r in s.execute(
                select(t.zone, func.max(t.last_seen)).group_by(t.zone))}
        within = {z.id: z.report_within_hours for z in self.zones.inv.network_zones}
        out = []
        for zone, targets in sorted(self.by_zone.items()):
            seen = last.get(zone)
            if zone in self.answered:
                verdict = Verdict.PASS
            elif seen is None or now - clock.as_utc(seen) > dt.timedelta(hours=within.get(zone, 48)):
                verdict = Verdict.FAIL
            else:
                verdict = Verdict.INDETERMINATE
            detail = {"zone": zone, "last_answer": clock.stamp(seen) if seen else None,
                      "report_within_hours": within.get(zone, 48)}
            for system in sorted({self.system_of(t) for t in targets}):
                out.append(Outcome("agents.zone_silent", system, f"zone/{zone}", verdict, severity, detail))
        return out
