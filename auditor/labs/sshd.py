"""A real OpenSSH server on loopback for the SSH collector's tests: its own host key, key login only."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from auditor.labs.servers import free_port


class Sshd:
    def __init__(self, address: str = "127.0.0.1", netns: str | None = None) -> None:
        if shutil.which("sshd") is None and not Path("/usr/sbin/sshd").exists():
            raise RuntimeError("sshd is not installed (Debian package openssh-server)")
        self._tmp = tempfile.TemporaryDirectory(prefix="auditor-sshd-")
        self.dir = Path(self._tmp.name)
        self.address, self.port, self.netns = address, free_port(), netns
        self.user = os.environ.get("USER") or "root"
        for name in ("host", "client", "other"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.dir / name)], check=True)
        (self.dir / "authorized_keys").write_text((self.dir / "client.pub").read_text())
        os.chmod(self.dir, 0o700)
        self.config = self.dir / "sshd_config"
        self.config.write_text(
            f"Port {self.port}\nListenAddress {address}\nHostKey {self.dir / 'host'}\n"
            f"AuthorizedKeysFile {self.dir / 'authorized_keys'}\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin prohibit-password\n"
            f"UsePAM no\nStrictModes no\nPidFile {self.dir / 'sshd.pid'}\nLogLevel ERROR\n")
        Path("/run/sshd").mkdir(exist_ok=True)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def host_key(self) -> str:
        return " ".join((self.dir / "host.pub").read_text().split()[:2])

    @property
    def other_key(self) -> str:
        return " ".join((self.dir / "other.pub").read_text().split()[:2])

    @property
    def identity(self) -> Path:
        return self.dir / "client"

    def start(self) -> Sshd:
        sshd = shutil.which("sshd") or "/usr/sbin/sshd"
        inside = ["ip", "netns", "exec", self.netns] if self.netns else []
        self.proc = subprocess.Popen([*inside, sshd, "-D", "-e", "-f", str(self.config)], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError((self.proc.stderr.read() if self.proc.stderr else b"").decode())
            if self._listening():
                return self
            time.sleep(0.05)
        raise RuntimeError("sshd did not start")

    def _listening(self) -> bool:
        if self.netns is None:
            try:
                socket.create_connection((self.address, self.port), timeout=1).close()
                return True
            except OSError:
                return False
        listening = subprocess.run(["ip", "netns", "exec", self.netns, "ss", "-Hltn", f"sport = :{self.port}"],
                                   capture_output=True, text=True, check=False).stdout
        return bool(listening.strip())

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self._tmp.cleanup()
