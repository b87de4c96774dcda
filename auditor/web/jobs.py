"""Scans started from the console run in the background, one at a time per workspace (the scan lock), so that the
page answers at once; the system's page shows how each went."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from auditor import clock
from auditor.context import workspace_context
from auditor.i18n import _, language
from auditor.problems import InputError, StoreError, UserError
from auditor.services import scans

log = logging.getLogger("auditor.web")


@dataclass
class ScanJob:
    id: int
    account: str
    systems: list[str]
    families: list[str]
    started: dt.datetime
    state: str = "running"  # running, done, failed
    message: str = ""
    runs: list[int] = field(default_factory=list)


class ScanJobs:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._jobs: dict[int, ScanJob] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self, account: str, families: list[str], systems: list[str], lang: str) -> ScanJob:
        scans.check_families(set(families))
        with self._lock:
            job = ScanJob(len(self._jobs) + 1, account, systems, families, clock.now())
            self._jobs[job.id] = job
        thread = threading.Thread(target=self._run, args=(job, lang), name=f"scan-{job.id}", daemon=True)
        self._threads.append(thread)
        thread.start()
        return job

    def _run(self, job: ScanJob, lang: str) -> None:
        with language(lang):
            try:
                with workspace_context(self.root) as ctx:
                    result = scans.scan(ctx, set(job.families), job.systems, started_by=job.account)
                job.runs = [r.run_id for r in result.reports]
                job.message = _("{n} findings on the scanned targets, {failing} failing the audit").format(
                    n=len(result.findings), failing=len(result.failing))
                job.state = "done"
            except InputError as exc:
                job.state, job.message = "failed", "; ".join(p.render() for p in exc.problems)
            except (UserError, StoreError) as exc:
                job.state, job.message = "failed", str(exc)
            except Exception as exc:  # a fault in a probe: said on the page, the details in the server's log
                log.exception("scan %d failed", job.id)
                job.state, job.message = "failed", type(exc).__name__
        log.info("scan %d by %s: %s %s", job.id, job.account, job.state, job.message)

    def get(self, job_id: int) -> ScanJob | None:
        return self._jobs.get(job_id)

    def of_system(self, system: str) -> list[ScanJob]:
        return sorted((j for j in self._jobs.values() if system in j.systems), key=lambda j: -j.id)

    def wait(self, timeout: float) -> None:
        """Wait for the scans started so far (the tests, and a server shutting down)."""
        for t in list(self._threads):
            t.join(timeout)
