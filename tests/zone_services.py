"""Listeners a zone agent test starts inside a network namespace it made: run as
``ip netns exec NS python tests/zone_services.py SPEC.json``. Each entry: address, port and kind (tls with a
certificate and key, tcp: accepts and closes)."""

from __future__ import annotations

import json
import socket
import ssl
import sys
import threading
import time


def serve(entry: dict[str, object]) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((str(entry["address"]), int(str(entry["port"]))))
    sock.listen(64)
    context = None
    if entry["kind"] == "tls":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(entry["cert"]), str(entry["key"]))
    while True:
        conn, _addr = sock.accept()
        if context is not None:
            def handshake(c: socket.socket = conn) -> None:
                try:
                    with context.wrap_socket(c, server_side=True) as tls:
                        tls.settimeout(5)
                        tls.recv(4096)
                        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass
            threading.Thread(target=handshake, daemon=True).start()
        else:
            conn.close()


def main() -> None:
    with open(sys.argv[1]) as fh:
        spec = json.load(fh)
    for entry in spec:
        threading.Thread(target=serve, args=(entry,), daemon=True).start()
    print("ready", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
