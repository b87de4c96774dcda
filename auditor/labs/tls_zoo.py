"""A zoo of TLS servers on loopback, good and broken, each with the findings it must produce.

Used by the tests (one server per finding id), the demo (a few broken ones) and bench/tls.py.
"""

from __future__ import annotations

import datetime as dt
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from auditor import clock
from auditor.labs.certs import Issued, issue, make_ca, new_key, resign_sha1
from auditor.labs.servers import HttpListener, Listener, TlsListener, server_context

GOOD_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"
HSTS_2Y = "max-age=63072000; includeSubDomains"


@dataclass
class ZooServer:
    name: str
    listener: Listener
    server_name: str
    protocol: str = "https"
    expected: frozenset[str] = field(default_factory=frozenset)

    @property
    def port(self) -> int:
        return self.listener.port


class Zoo:
    """Builds servers; certificates and keys live in a temporary folder removed by :meth:`close`."""

    def __init__(self, ca: Issued | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="auditor-zoo-")
        self.dir = Path(self._tmp.name)
        self.ca = ca or make_ca("Auditor Zoo CA")
        self.ca_file = self.dir / "zoo-ca.pem"
        self.ca_file.write_bytes(self.ca.cert_pem)
        self.servers: list[ZooServer] = []
        self._n = 0

    def _files(self, issued: Issued) -> tuple[Path, Path]:
        self._n += 1
        return issued.write(self.dir, f"s{self._n}")

    def tls(self, name: str, expected: set[str], *, cert: Issued | None = None, server_name: str | None = None,
            min_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
            max_version: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED, ciphers: str | None = GOOD_CIPHERS,
            hsts: str | None = HSTS_2Y, protocol: str = "https", cert_file: Path | None = None,
            key_file: Path | None = None, address: str = "127.0.0.1") -> ZooServer:
        sni = server_name or f"{name}.zoo.test"
        if cert_file is None or key_file is None:
            cert_file, key_file = self._files(cert or issue(self.ca, [sni]))
        ctx = server_context(cert_file, key_file, min_version=min_version, max_version=max_version, ciphers=ciphers)
        server = ZooServer(name, TlsListener(context=ctx, hsts=hsts, address=address).start(), sni, protocol,
                           frozenset(expected))
        self.servers.append(server)
        return server

    def plain_http(self, name: str, expected: set[str], address: str = "127.0.0.1") -> ZooServer:
        server = ZooServer(name, HttpListener(address=address).start(), f"{name}.zoo.test", "https",
                           frozenset(expected))
        self.servers.append(server)
        return server

    def sha1_signed(self, name: str, expected: set[str]) -> ZooServer:
        rsa_ca = make_ca("Auditor Zoo RSA CA", key=new_key("rsa", 2048))
        issued = resign_sha1(issue(rsa_ca, [f"{name}.zoo.test"], key=new_key("rsa", 2048)), rsa_ca)
        (self.dir / "zoo-ca.pem").write_bytes(self.ca_file.read_bytes() + rsa_ca.cert_pem)
        cert_file, key_file = self._files(issued)
        return self.tls(name, expected, cert_file=cert_file, key_file=key_file, ciphers=GOOD_CIPHERS + ":@SECLEVEL=0")

    def close(self) -> None:
        for s in self.servers:
            s.listener.stop()
        self._tmp.cleanup()


def standard_zoo(zoo: Zoo) -> list[ZooServer]:
    """One server per TLS finding the tests can provoke on this machine, plus clean ones."""
    now = clock.now()
    ca = zoo.ca
    rsa = new_key("rsa", 2048)
    legacy_ciphers = "ECDHE+AESGCM:ECDHE+AES:@SECLEVEL=0"
    return [
        zoo.tls("clean", set(), cert=issue(ca, ["clean.zoo.test"], key=rsa)),
        zoo.tls("tls13-ecdsa", set(), min_version=ssl.TLSVersion.TLSv1_3, ciphers=None),
        zoo.tls("expired", {"tls.cert.expired"},
                cert=issue(ca, ["expired.zoo.test"], not_before=now - dt.timedelta(days=400),
                           not_after=now - dt.timedelta(days=2))),
        zoo.tls("expiring", {"tls.cert.expiring"},
                cert=issue(ca, ["expiring.zoo.test"], not_after=now + dt.timedelta(days=10))),
        zoo.tls("self-signed", {"tls.cert.untrusted"}, cert=issue(None, ["self-signed.zoo.test"])),
        zoo.tls("wrong-name", {"tls.cert.hostname_mismatch"}, cert=issue(ca, ["other.zoo.test"])),
        zoo.tls("tls10-11", {"tls.protocol.legacy", "tls.cipher.weak"}, cert=issue(ca, ["tls10-11.zoo.test"], key=rsa),
                min_version=ssl.TLSVersion.TLSv1, ciphers=legacy_ciphers),
        zoo.tls("rsa-kx-cbc", {"tls.cipher.weak", "tls.cipher.no_forward_secrecy"},
                cert=issue(ca, ["rsa-kx-cbc.zoo.test"], key=rsa), max_version=ssl.TLSVersion.TLSv1_2,
                ciphers="AES128-SHA:AES256-SHA:AES128-SHA256"),
        zoo.tls("rsa1024", {"tls.cert.weak_key"}, cert=issue(ca, ["rsa1024.zoo.test"], key=new_key("rsa", 1024)),
                ciphers=GOOD_CIPHERS + ":@SECLEVEL=0"),
        zoo.sha1_signed("sha1", {"tls.cert.weak_signature"}),
        zoo.tls("no-hsts", {"tls.hsts.missing"}, hsts=None),
        zoo.tls("short-hsts", {"tls.hsts.missing"}, hsts="max-age=300"),
        zoo.tls("imaps", set(), protocol="imaps", hsts=None),
        zoo.plain_http("plain-http", {"tls.not_tls"}),
    ]
