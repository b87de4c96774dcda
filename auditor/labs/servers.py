"""Loopback listeners: a TLS server answering HTTP (with or without HSTS), a plain TCP listener."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


@dataclass
class Listener:
    """A thread accepting connections on 127.0.0.1; each connection is answered by ``respond``."""

    port: int = 0
    name: str = ""
    address: str = LOOPBACK
    _sock: socket.socket | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def start(self) -> Listener:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.address, self.port))
        sock.listen(128)
        sock.settimeout(0.2)
        self.port = sock.getsockname()[1]
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name=f"listener-{self.port}", daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, _addr = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        with contextlib.suppress(OSError, ssl.SSLError, ValueError):
            self.respond(conn)
        with contextlib.suppress(OSError):
            conn.close()

    def respond(self, conn: socket.socket) -> None:
        conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n" if self.name == "ssh" else b"hello\r\n")
        conn.recv(1024)

    def stop(self) -> None:
        self._stop.set()
        if self._sock is not None:
            self._sock.close()
        if self._thread is not None:
            self._thread.join(timeout=2)


def _read_request(conn: socket.socket | ssl.SSLSocket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def http_response(hsts: str | None) -> bytes:
    body = b"<html><body>auditor lab</body></html>"
    headers = [b"HTTP/1.1 200 OK", b"Content-Type: text/html", b"Content-Length: %d" % len(body),
               b"Connection: close"]
    if hsts:
        headers.append(b"Strict-Transport-Security: " + hsts.encode())
    return b"\r\n".join(headers) + b"\r\n\r\n" + body


@dataclass
class HttpListener(Listener):
    """Plain HTTP on a port (no TLS); like real servers, it answers anything that is not HTTP with 400."""

    def respond(self, conn: socket.socket) -> None:
        first = conn.recv(4096)
        if not first[:8].split(b" ")[0].isalpha():
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        while b"\r\n\r\n" not in first and len(first) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                break
            first += chunk
        conn.sendall(http_response(None))


@dataclass
class TlsListener(Listener):
    """TLS with a given context; answers HTTP inside, with the given HSTS header (None for none)."""

    context: ssl.SSLContext | None = None
    hsts: str | None = "max-age=63072000; includeSubDomains"

    def respond(self, conn: socket.socket) -> None:
        assert self.context is not None
        with self.context.wrap_socket(conn, server_side=True) as tls:
            _read_request(tls)
            tls.sendall(http_response(self.hsts))


def server_context(cert_file: Path, key_file: Path, *, min_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
                   max_version: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED,
                   ciphers: str | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if ciphers is not None or min_version < ssl.TLSVersion.TLSv1_2:
        ctx.set_ciphers(ciphers or "DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = min_version
    ctx.maximum_version = max_version
    ctx.load_cert_chain(cert_file, key_file)
    return ctx


@contextlib.contextmanager
def running(*listeners: Listener) -> Iterator[tuple[Listener, ...]]:
    started = [listener.start() for listener in listeners]
    try:
        yield tuple(started)
    finally:
        for listener in started:
            listener.stop()
