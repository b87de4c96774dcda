"""TLS endpoints served by a real nginx (Debian package) on loopback, for tests and benchmarks.

One nginx master with its workers, one `server` block per endpoint, all in a temporary prefix that is
removed on stop. Only 127.0.0.1 is ever listened on.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NginxSite:
    port: int
    cert_file: Path
    key_file: Path
    protocols: str = "TLSv1.2 TLSv1.3"
    ciphers: str = "ECDHE+AESGCM:ECDHE+CHACHA20"
    hsts: str | None = "max-age=63072000; includeSubDomains"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


class Nginx:
    def __init__(self, sites: list[NginxSite], workers: int = 2) -> None:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed (Debian package nginx-light)")
        self.binary = binary
        self.sites = sites
        self._tmp = tempfile.TemporaryDirectory(prefix="auditor-nginx-")
        self.prefix = Path(self._tmp.name)
        (self.prefix / "logs").mkdir()
        user = "user root;\n" if os.geteuid() == 0 else ""
        blocks = []
        for s in sites:
            hsts = f'        add_header Strict-Transport-Security "{s.hsts}" always;\n' if s.hsts else ""
            blocks.append(
                f"    server {{\n        listen 127.0.0.1:{s.port} ssl;\n"
                f"        ssl_certificate {s.cert_file};\n        ssl_certificate_key {s.key_file};\n"
                f"        ssl_protocols {s.protocols};\n        ssl_ciphers '{s.ciphers}';\n"
                f"        ssl_prefer_server_ciphers off;\n{hsts}"
                f"        location / {{ return 200 'auditor lab\\n'; }}\n    }}\n")
        conf = (f"{user}worker_processes {workers};\npid {self.prefix}/nginx.pid;\n"
                f"error_log {self.prefix}/logs/error.log warn;\nevents {{ worker_connections 4096; }}\n"
                f"http {{\n    access_log off;\n    client_body_temp_path {self.prefix}/body;\n"
                f"    proxy_temp_path {self.prefix}/proxy;\n    fastcgi_temp_path {self.prefix}/fcgi;\n"
                f"    uwsgi_temp_path {self.prefix}/uwsgi;\n    scgi_temp_path {self.prefix}/scgi;\n"
                + "".join(blocks) + "}\n")
        self.conf = self.prefix / "nginx.conf"
        self.conf.write_text(conf)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Nginx:
        self.proc = subprocess.Popen([self.binary, "-p", str(self.prefix), "-c", str(self.conf), "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        for s in self.sites:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"nginx stopped: {self.proc.stderr.read().decode() if self.proc.stderr else ''}")
                try:
                    socket.create_connection(("127.0.0.1", s.port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"nginx did not listen on {s.port}") from None
                    time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._tmp.cleanup()
