"""A Redis of its own on loopback for the demo and the benchmarks (password required, nothing saved), and the
wait for a zone agent to start consuming."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from auditor import safeio
from auditor.labs.servers import free_port

READY_SECONDS = 60


def start_redis(folder: Path, password: str) -> tuple[subprocess.Popen[bytes], int]:
    """redis-server on 127.0.0.1 with its file (0600) and log in ``folder``, once it accepts connections.
    FileNotFoundError if redis-server is not installed; RuntimeError (with its log) if it does not start."""
    port = free_port()
    conf = folder / "redis.conf"
    safeio.write_text(conf, f"port {port}\nbind 127.0.0.1\nsave \"\"\nappendonly no\ndir {folder}\n"
                            f"requirepass {password}\n", mode=0o600)
    log = folder / "redis.log"
    proc = subprocess.Popen(["redis-server", str(conf)], stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + READY_SECONDS
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(log.read_text(errors="replace")[-500:]) from None
            time.sleep(0.1)


def wait_for_agent(log: Path, proc: subprocess.Popen[bytes], deadline: float) -> None:
    """Until the agent's log says Celery's "ready." (it consumes its queue); RuntimeError with the log if it
    exits or the monotonic ``deadline`` passes first."""
    while b"ready." not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(log.read_text(errors="replace")[-500:])
        time.sleep(0.1)
