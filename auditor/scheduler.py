"""The scheduler: each check family runs for each system at the interval its level sets.

One scheduler per workspace (a lock file), scans never overlap (a second lock, also taken by `auditor
scan`), runs missed while it was down run at start, SIGTERM stops it after the current job, and a run
left 'running' by a killed process is marked 'interrupted' (its findings were never written: they are
stored in one transaction at the end of a run).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from auditor import clock
from auditor.catalogue.loading import load_model
from auditor.i18n import _
from auditor.inventory.model import Inventory
from auditor.levels.current import current_levels
from auditor.problems import UserError
from auditor.scan import FAMILIES, run_scan
from auditor.store.db import Store
from auditor.store.tables import ScanRunRow, ScheduleStateRow
from auditor.vocabulary import Lifecycle, RunStatus
from auditor.workspace import Workspace, content_file

Family = str


class ScheduleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    intervals_hours: dict[int, dict[Family, float]]
    default: dict[Family, float]
    tick_seconds: int = Field(default=60, ge=1, le=3600)
    # discovery over the networks organisations declare (every zone at once); None: not scheduled
    discovery_hours: float | None = Field(default=None, gt=0, le=24 * 366)

    def interval(self, level: int | None, family: str) -> dt.timedelta:
        hours = self.intervals_hours.get(level or 0, self.default).get(family, self.default.get(family, 24))
        return dt.timedelta(hours=hours)


def load_schedule(profiles: Path) -> ScheduleSpec:
    spec, _loaded = load_model(content_file(profiles, "schedule.yaml"), ScheduleSpec)
    return spec


class Busy(UserError):
    pass


@contextlib.contextmanager
def file_lock(path: Path, what: str) -> Iterator[IO[str]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = path.open("a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise Busy(_("{what} is already running in this workspace ({lock})").format(what=what, lock=path)) from None
    try:
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield fh
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def scan_lock(ws: Workspace) -> contextlib.AbstractContextManager[IO[str]]:
    return file_lock(ws.state_dir / "scan.lock", _("a scan"))


@dataclass(frozen=True)
class Job:
    family: str
    system: str
    interval: dt.timedelta
    last_started: dt.datetime | None
    last_status: str | None

    def next_due(self) -> dt.datetime | None:
        return None if self.last_started is None else self.last_started + self.interval

    def due(self, now: dt.datetime) -> bool:
        nd = self.next_due()
        return nd is None or now >= nd or self.last_status != RunStatus.COMPLETED


def jobs(session: Session, inv: Inventory, spec: ScheduleSpec, levels: dict[str, int | None]) -> list[Job]:
    state = {(r.family, r.system_id): r for r in session.exec(select(ScheduleStateRow))}
    out = []
    for s in inv.systems:
        if s.lifecycle is Lifecycle.RETIRED:
            continue
        for family in FAMILIES:
            row = state.get((family, s.id))
            out.append(Job(family, s.id, spec.interval(levels.get(s.id), family),
                           row.last_started if row else None, row.last_status if row else None))
    if spec.discovery_hours and any(n.discover for o in inv.organisations for n in o.networks):
        row = state.get(DISCOVERY)
        out.append(Job(DISCOVERY[0], DISCOVERY[1], dt.timedelta(hours=spec.discovery_hours),
                       row.last_started if row else None, row.last_status if row else None))
    return out


def mark_interrupted(session: Session) -> int:
    """Runs left 'running' by a process that is gone (the caller holds the scan lock)."""
    count = 0
    for run in session.exec(select(ScanRunRow).where(col(ScanRunRow.status) == RunStatus.RUNNING)):
        run.status, run.finished_at = RunStatus.INTERRUPTED, clock.now()
        session.add(run)
        count += 1
    return count


REMINDERS = ("reminders", "*")  # the schedule state row of the daily reminders
DISCOVERY = ("discover", "*")  # and of discovery, over every declared network
REMINDER_INTERVAL = dt.timedelta(hours=24)


class Scheduler:
    def __init__(self, ws: Workspace, store: Store, inv: Inventory, log: Callable[[str], None],
                 remind: Callable[[], str] | None = None) -> None:
        self.ws, self.store, self.inv, self.log = ws, store, inv, log
        self.spec = load_schedule(ws.content("profiles"))
        self.stopping = False
        self.remind = remind  # sends the day's reminders (when the workspace names an SMTP server)

    def _remind(self, now: dt.datetime) -> bool:
        """Once a day: the reminders, one message per unit; a failure is logged and tried at the next tick."""
        if self.remind is None:
            return False
        with self.store.session() as s:
            row = s.get(ScheduleStateRow, REMINDERS) or ScheduleStateRow(family=REMINDERS[0], system_id=REMINDERS[1])
            if (row.last_started is not None and row.last_status == RunStatus.COMPLETED
                    and now - row.last_started < REMINDER_INTERVAL):
                return False
            row.last_started, row.last_status = now, RunStatus.RUNNING
            s.add(row)
        try:
            self.log(self.remind())
            status = RunStatus.COMPLETED
        except Exception as exc:
            self.log(f"reminders: {type(exc).__name__}: {exc}")
            status = RunStatus.FAILED
        with self.store.session() as s:
            done = s.get(ScheduleStateRow, REMINDERS)
            assert done is not None
            done.last_finished, done.last_status = clock.now(), status
            s.add(done)
        return True

    def request_stop(self, *_args: object) -> None:
        self.stopping = True
        self.log(_("stop requested: finishing the current job"))

    def due(self, now: dt.datetime) -> list[Job]:
        with self.store.session() as s:
            levels = current_levels(s, self.inv, self.ws.content("profiles"), clock.in_vietnam(now).date())
            return [j for j in jobs(s, self.inv, self.spec, levels) if j.due(now)]

    def run_job(self, job: Job) -> str:
        started = clock.now()
        with self.store.session() as s:
            row = s.get(ScheduleStateRow, (job.family, job.system)) or ScheduleStateRow(family=job.family,
                                                                                      system_id=job.system)
            row.last_started, row.last_status = started, RunStatus.RUNNING
            s.add(row)
        status, run_id = RunStatus.FAILED, None
        try:
            with scan_lock(self.ws):
                reports = run_scan(self.ws, self.store, self.inv, {job.family},
                                   None if (job.family, job.system) == DISCOVERY else {job.system})
            status, run_id = RunStatus.COMPLETED, reports[0].run_id if reports else None
        except Busy:
            status = RunStatus.SKIPPED
        except Exception as exc:  # a failing job is recorded; the scheduler goes on with the others
            self.log(f"{job.family}/{job.system}: {type(exc).__name__}: {exc}")
        with self.store.session() as s:
            finished = s.get(ScheduleStateRow, (job.family, job.system))
            assert finished is not None
            finished.last_finished, finished.last_status, finished.last_run_id = clock.now(), status, run_id
            if status is RunStatus.SKIPPED:
                finished.last_started = None  # try again at the next tick
            s.add(finished)
        self.log(f"{job.family}/{job.system}: {status}")
        return status

    def tick(self, *, survive: bool = True) -> int:
        """Run what is due. A store that fails on the way (PostgreSQL restarting, a locked SQLite file) ends this
        tick with a line in the log; the next tick tries again, so the scheduler outlives the outage (unless not
        ``survive``: a single tick, `schedule run --once`, ends with the fault)."""
        done = 0
        try:
            for job in self.due(clock.now()):
                if self.stopping:
                    break
                self.run_job(job)
                done += 1
            if not self.stopping and self._remind(clock.now()):
                done += 1
        except Exception as exc:
            from auditor.faults import store_fault

            fault = store_fault(exc)
            if fault is None or not survive:
                raise
            self.log(_("the store failed; trying again at the next tick: {fault}").format(fault=fault))
        return done

    def run_forever(self) -> None:
        import schedule

        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        self.tick()  # catch up at once on what was missed while the scheduler was down
        schedule.every(self.spec.tick_seconds).seconds.do(self.tick)
        while not self.stopping:
            schedule.run_pending()
            time.sleep(0.2)
        schedule.clear()
