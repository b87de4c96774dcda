"""The task queue: Celery on Redis, set up the same way on both sides.

Late acknowledgement: a task is acknowledged when the agent has finished it, so a task whose agent dies is
delivered again (after the broker's redelivery time); every task and result is JSON only (never pickle).
Remote control, events, gossip and heartbeats between workers are off: agents share nothing but their queue.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from celery import Celery

    from auditor.agents.config import Broker

RESULT_DAYS = 7


def queue_of(zone: str) -> str:
    return f"zone.{zone}"


def transport_options(redelivery_seconds: int) -> dict[str, float]:
    """The broker's redelivery time, and how often the worker's loop looks for tasks whose agent died: kombu
    sweeps every ``interval x throttle`` seconds (100 by default); here a tenth of the redelivery time, between
    one second and a minute, so a dead agent's task is back on its queue soon after that time has passed."""
    sweep = min(60.0, max(1.0, redelivery_seconds / 10))
    return {"visibility_timeout": redelivery_seconds, "unacked_restore_interval": sweep,
            "unacked_restore_throttle": 1}


def key_prefix(zone: str) -> str:
    """Every key and channel of a zone's queue and results starts with this, so that a zone's Redis ACL user can
    be limited to its own zone (``~zone:Z:* &zone:Z:*``): its tasks, its unacknowledged tasks, its results."""
    return f"zone:{zone}:"


def make_app(broker: Broker, url: str, ca_file: str | None, zone: str) -> Celery:
    """The Celery app of one zone (the central server has one per zone it sends to, an agent its own)."""
    from celery import Celery

    app = Celery("auditor", broker=url, backend=url, set_as_current=False)
    tls = {"ssl_cert_reqs": ssl.CERT_REQUIRED, "ssl_ca_certs": ca_file} if url.startswith("rediss:") else None
    app.conf.update(
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_serializer="json", result_serializer="json", accept_content=["json"], result_accept_content=["json"],
        broker_transport_options={**transport_options(broker.redelivery_seconds), "global_keyprefix": key_prefix(zone)},
        result_backend_transport_options={"visibility_timeout": broker.redelivery_seconds,
                                          "global_keyprefix": key_prefix(zone)},
        result_expires=RESULT_DAYS * 86400, broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None, worker_hijack_root_logger=False, worker_enable_remote_control=False,
        worker_send_task_events=False, task_send_sent_event=False, task_default_queue="zone.none",
        broker_use_ssl=tls, redis_backend_use_ssl=tls, worker_cancel_long_running_tasks_on_connection_loss=False,
        result_extended=False)
    return app
