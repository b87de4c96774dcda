"""Load records.yaml and records.d/*.yaml (the files ``auditor records add`` writes), every problem located."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from auditor.i18n import _
from auditor.inventory.messages import problems_from
from auditor.inventory.model import Inventory
from auditor.problems import InputError, Problem
from auditor.records.model import Deployment, Drill, Inspection, RecordsFile, ResponsePlan
from auditor.yamlsafe import LoadedYaml, Path_, load_yaml

RECORDS = "records.yaml"
RECORDS_DIR = "records.d"
KEY_EVENTS = ("attack_started", "detected", "contained", "recovered")


@dataclass(frozen=True)
class Records:
    inspections: tuple[Inspection, ...] = ()
    drills: tuple[Drill, ...] = ()
    response_plans: tuple[ResponsePlan, ...] = ()
    deployments: tuple[Deployment, ...] = ()
    files: tuple[str, ...] = field(default=())

    def drill(self, drill_id: str) -> Drill | None:
        return next((d for d in self.drills if d.id == drill_id), None)

    def last_inspection(self, on: dt.date, *, system: str | None = None,
                        organisation: str | None = None) -> Inspection | None:
        """The latest inspection of a system (or of an organisation as a whole) on or before ``on``."""
        done = [i for i in self._inspections_of.get(("system", system), ()) if i.date <= on] if system else []
        if organisation is not None:
            done += [i for i in self._inspections_of.get(("organisation", organisation), ()) if i.date <= on]
        return max(done, key=lambda i: (i.date, i.id)) if done else None

    @cached_property
    def _inspections_of(self) -> dict[tuple[str, str], list[Inspection]]:
        """The inspections by subject: a province's report asks for the last one of each of thousands of systems."""
        index: dict[tuple[str, str], list[Inspection]] = defaultdict(list)
        for i in self.inspections:
            index[("system", i.system) if i.system else ("organisation", i.organisation or "")].append(i)
        return index

    def response_plan(self, system_id: str) -> ResponsePlan | None:
        return next((p for p in self.response_plans if p.system == system_id), None)

    def deployment(self, system_id: str) -> Deployment | None:
        return next((d for d in self.deployments if d.system == system_id), None)


def record_files(root: Path) -> list[Path]:
    files = [root / RECORDS] if (root / RECORDS).exists() else []
    return files + sorted((root / RECORDS_DIR).glob("*.yaml")) if (root / RECORDS_DIR).is_dir() else files


def load_records(root: Path, inv: Inventory, extra: list[LoadedYaml] | None = None,
                 replacing: Path | None = None) -> Records:
    """Every record file of the workspace (plus ``extra``, a file about to be added, in place of ``replacing``),
    checked together."""
    files = [p for p in record_files(root) if replacing is None or p.resolve() != replacing.resolve()]
    loaded = [load_yaml(p, within=root) for p in files] + list(extra or [])
    problems: list[Problem] = []
    parsed: list[tuple[LoadedYaml, RecordsFile]] = []
    for doc in loaded:
        try:
            parsed.append((doc, RecordsFile.model_validate(doc.data if doc.data is not None else {})))
        except ValidationError as exc:
            problems += problems_from(exc, doc, RecordsFile)
    if problems:
        raise InputError(problems)
    _check(parsed, inv, problems)
    if problems:
        raise InputError(problems)
    return Records(tuple(i for _d, f in parsed for i in f.inspections), tuple(d for _d, f in parsed for d in f.drills),
                   tuple(r for _d, f in parsed for r in f.response_plans),
                   tuple(d for _d, f in parsed for d in f.deployments), tuple(d.file for d in loaded))


def _check(parsed: list[tuple[LoadedYaml, RecordsFile]], inv: Inventory, problems: list[Problem]) -> None:
    seen: dict[tuple[str, str], bool] = {}

    def unique(doc: LoadedYaml, kind: str, key: str, path: Path_, message: str) -> None:
        if (kind, key) in seen:
            problems.append(doc.problem(path, message))
        seen[(kind, key)] = True

    for doc, f in parsed:
        system = _ref(doc, problems, lambda ref: inv.system(ref) is not None, _("unknown system {ref!r}"))
        org = _ref(doc, problems, lambda ref: inv.organisation(ref) is not None, _("unknown organisation {ref!r}"))
        for i, ins in enumerate(f.inspections):
            base = ("inspections", i)
            unique(doc, "inspection", ins.id, (*base, "id"), _("duplicate inspection id {id!r}").format(id=ins.id))
            if ins.system is not None:
                system((*base, "system"), ins.system)
            if ins.organisation is not None:
                org((*base, "organisation"), ins.organisation)
        for i, d in enumerate(f.drills):
            base = ("drills", i)
            unique(doc, "drill", d.id, (*base, "id"), _("duplicate drill id {id!r}").format(id=d.id))
            for j, ref in enumerate(d.systems):
                system((*base, "systems", j), ref)
            if d.organiser is not None:
                org((*base, "organiser"), d.organiser)
            for j, p in enumerate(d.participants):
                if p.organisation is not None:
                    org((*base, "participants", j, "organisation"), p.organisation)
            for j, action in enumerate(d.follow_up):
                org((*base, "follow_up", j, "owner"), action.owner)
                if action.deadline < d.date:
                    problems.append(doc.problem((*base, "follow_up", j, "deadline"), _(
                        "the deadline {deadline} is before the drill of {date}").format(deadline=action.deadline,
                                                                                          date=d.date)))
            _check_timeline(doc, base, d, problems)
        for i, plan in enumerate(f.response_plans):
            base = ("response_plans", i)
            system((*base, "system"), plan.system)
            unique(doc, "response_plan", plan.system, (*base, "system"),
                   _("a second response plan for {system!r}; keep one, with its last review").format(system=plan.system))
            if plan.last_reviewed is not None and plan.last_reviewed < plan.approved_on:
                problems.append(doc.problem((*base, "last_reviewed"), _(
                    "reviewed on {reviewed}, before its approval on {approved}").format(reviewed=plan.last_reviewed,
                                                                                       approved=plan.approved_on)))
        for i, dep in enumerate(f.deployments):
            base = ("deployments", i)
            system((*base, "system"), dep.system)
            unique(doc, "deployment", dep.system, (*base, "system"),
                   _("a second deployment status for {system!r}").format(system=dep.system))


def _ref(doc: LoadedYaml, problems: list[Problem], exists: Callable[[str], bool],
         message: str) -> Callable[[Path_, str], None]:
    def check(path: Path_, ref: str) -> None:
        if not exists(ref):
            problems.append(doc.problem(path, message.format(ref=ref)))
    return check


def _check_timeline(doc: LoadedYaml, base: Path_, d: Drill, problems: list[Problem]) -> None:
    """At most one of each key event; they happen in order: attack, detection, containment, recovery."""
    last: tuple[str, Any] | None = None
    seen: set[str] = set()
    for j, e in enumerate(d.timeline):
        if e.event == "note":
            continue
        path = (*base, "timeline", j, "event")
        if e.event in seen:
            problems.append(doc.problem(path, _("a second {event!r} event").format(event=e.event)))
            continue
        seen.add(e.event)
        if e.event != "attack_started" and "attack_started" not in seen:
            problems.append(doc.problem(path, _("{event!r} before any 'attack_started' event").format(event=e.event)))
        if last is not None and KEY_EVENTS.index(e.event) < KEY_EVENTS.index(last[0]):
            problems.append(doc.problem(path, _("{event!r} listed after {previous!r}").format(event=e.event,
                                                                                             previous=last[0])))
        elif last is not None and e.at < last[1]:
            problems.append(doc.problem((*base, "timeline", j, "at"), _(
                "{event!r} at {at} is earlier than {previous!r} at {previous_at}").format(
                event=e.event, at=e.at.isoformat(), previous=last[0], previous_at=last[1].isoformat())))
        last = (e.event, e.at)
