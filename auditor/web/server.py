"""Run the console (uvicorn) for a workspace, until stopped or for a while."""

from __future__ import annotations

import threading
from pathlib import Path


def run_console(root: Path, host: str, port: int, *, tls_cert: Path | None = None, tls_key: Path | None = None,
                seconds: float | None = None) -> None:
    import uvicorn

    from auditor.web.app import create_app

    config = uvicorn.Config(create_app(root), host=host, port=port, log_level="warning", proxy_headers=False,
                            ssl_certfile=str(tls_cert) if tls_cert else None,
                            ssl_keyfile=str(tls_key) if tls_key else None)
    server = uvicorn.Server(config)
    if seconds is not None:
        timer = threading.Timer(seconds, lambda: setattr(server, "should_exit", True))
        timer.daemon = True
        timer.start()
    server.run()
