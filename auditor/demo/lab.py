"""The demo's loopback services, bound on the addresses the demo inventory declares.

Some are configured well, some the way real servers go wrong (an expired or soon-expiring certificate,
a self-signed one, a wrong name, TLS 1.0 and no HSTS), so that the demo shows the findings they cause.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass
from typing import Any

from auditor import clock
from auditor.labs.certs import Issued, issue, make_ca
from auditor.labs.servers import Listener
from auditor.labs.tls_zoo import Zoo

Addresses = dict[tuple[str, str], str]


@dataclass(frozen=True)
class Served:
    """One demo service: which declared endpoint it stands for and where it really listens."""

    system: str
    host: str
    declared_port: int
    listener: Listener
    what: str
    trust_demo_ca: bool = True

    @property
    def address(self) -> str:
        return self.listener.address

    @property
    def port(self) -> int:
        return self.listener.port


def _loopback(address: str) -> str:
    if not ipaddress.ip_address(address).is_loopback:
        raise ValueError(f"the demo only listens on loopback, not {address}")
    return address


class DemoLab:
    def __init__(self, addresses: Addresses) -> None:
        self.ca: Issued = make_ca("Sở KH&CN An Giang — CA nội bộ (demo)")
        self.zoo = Zoo(self.ca)
        self.addresses = addresses
        self.served: list[Served] = []
        self.stray: list[Served] = []  # listening, but declared nowhere

    def _tls(self, system: str, host: str, port: int, what: str, server_name: str, **kw: Any) -> None:
        server = self.zoo.tls(f"{system}-{host}-{port}", set(), server_name=server_name,
                              address=_loopback(self.addresses[(system, host)]), **kw)
        self.served.append(Served(system, host, port, server.listener, what))

    def start(self) -> list[Served]:
        now = clock.now()
        ca = self.ca
        self._tls("cong-dvc", "dvc-web", 443, "HTTPS, TLS 1.2–1.3, HSTS", "dichvucong.angiang.gov.vn.invalid")
        self.served.append(Served("cong-dvc", "dvc-web", 80, self.zoo.plain_http(
            "dvc-http", set(), address=_loopback(self.addresses[("cong-dvc", "dvc-web")])).listener, "HTTP"))
        self.served.append(Served("cong-dvc", "dvc-db", 5432, Listener(
            name="tcp", address=_loopback(self.addresses[("cong-dvc", "dvc-db")])).start(), "TCP"))
        self._tls("he-thong-tthc", "tthc-app", 443, "HTTPS, chứng thư còn 12 ngày", "motcua.angiang.gov.vn.invalid",
                  cert=issue(ca, ["motcua.angiang.gov.vn.invalid"], not_after=now + dt.timedelta(days=12)))
        self._tls("cong-ttdt", "portal-web", 443, "HTTPS, TLS 1.0–1.3, không HSTS", "angiang.gov.vn.invalid",
                  min_version=ssl.TLSVersion.TLSv1, ciphers="ECDHE+AESGCM:ECDHE+AES:@SECLEVEL=0", hsts=None)
        self._tls("thu-cong-vu", "mail", 443, "HTTPS, chứng thư tự ký", "mail.angiang.gov.vn.invalid",
                  cert=issue(None, ["mail.angiang.gov.vn.invalid"]))
        self._tls("thu-cong-vu", "mail", 993, "IMAPS", "mail.angiang.gov.vn.invalid", hsts=None)
        self._tls("qlvb-dh", "qlvb-app", 443, "HTTPS, chứng thư sai tên", "qlvb.angiang.gov.vn.invalid",
                  cert=issue(ca, ["vanban.angiang.gov.vn.invalid"]))
        # a development server someone left running on the portal's public web host: not an approved port
        try:
            stray = Listener(name="http-dev", port=8081, address=_loopback(self.addresses[("cong-dvc", "dvc-web")])).start()
        except OSError:
            stray = Listener(name="http-dev", address=_loopback(self.addresses[("cong-dvc", "dvc-web")])).start()
        self.stray.append(Served("cong-dvc", "dvc-web", 0, stray, "TCP (không khai báo)"))
        self._tls("quan-ly-can-bo", "qlcb-app", 443, "HTTPS, chứng thư đã hết hạn", "qlcb.angiang.gov.vn.invalid",
                  cert=issue(ca, ["qlcb.angiang.gov.vn.invalid"], not_before=now - dt.timedelta(days=400),
                             not_after=now - dt.timedelta(days=5)))
        return self.served

    def stop(self) -> None:
        for s in self.served + self.stray:
            s.listener.stop()
        self.zoo.close()
