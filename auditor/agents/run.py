"""``auditor agent run``: the agent's worker, on its zone's queue only."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from auditor.agents.config import load_agent
from auditor.agents.queue import make_app, queue_of
from auditor.agents.signed import load_key, parse_public
from auditor.agents.wire import TASK_NAME
from auditor.agents.worker import handle, private_work_dir, ssh_identity
from auditor.i18n import _
from auditor.probes.packages import CollectionError
from auditor.problems import UserError


def run_agent(config_path: Path, zone: str | None = None) -> None:
    """Check the agent's file and key, then consume the zone's queue until stopped (one task at a time, in this
    process: a task's probes run in parallel themselves)."""
    config = load_agent(config_path)
    if zone is not None and zone != config.zone:
        raise UserError(_("{file} is the file of an agent of zone {mine!r}, not {zone!r}").format(
            file=config_path, mine=config.zone, zone=zone))
    base = config_path.parent
    key = load_key(base / config.key_file)
    central = parse_public(config.central_key)
    url = config.broker.connection_url(base)
    work = private_work_dir(config, base)
    try:
        ssh_identity(config, base)  # said now, not at the first package task
    except CollectionError as exc:
        raise UserError(str(exc)) from None
    app = make_app(config.broker, url, config.broker.ca_path(base), config.zone)

    @app.task(name=TASK_NAME, bind=True)  # type: ignore[untyped-decorator]
    def probe(self: Any, envelope: Any) -> dict[str, str]:
        return handle(envelope, str(self.request.id), config, key, central, work, base)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app.worker_main(["worker", "--pool=solo", "--concurrency=1", "--queues", queue_of(config.zone),
                     "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
                     "--hostname", f"{config.agent}@{config.zone}"])
