"""The demo's loopback services, bound on the addresses the demo inventory declares."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from auditor.labs.certs import Issued, issue, make_ca
from auditor.labs.servers import HttpListener, Listener, TlsListener, server_context


@dataclass(frozen=True)
class Served:
    """One demo service: which declared endpoint it stands for and where it really listens."""

    system: str
    host: str
    declared_port: int
    listener: Listener
    what: str

    @property
    def address(self) -> str:
        return self.listener.address

    @property
    def port(self) -> int:
        return self.listener.port


def _bind(listener: Listener, address: str) -> Listener:
    if not ipaddress.ip_address(address).is_loopback:
        raise ValueError(f"the demo only listens on loopback, not {address}")
    listener.address = address
    return listener.start()


def start_lab(certs_dir: Path, scratch: Path, addresses: dict[tuple[str, str], str]) -> tuple[list[Served], Issued]:
    """Start the demo services. ``addresses`` maps (system, host) to the declared loopback address.

    Private keys go to ``scratch`` (a temporary folder), never into the workspace.
    """
    ca = make_ca("Sở KH&CN An Giang — CA nội bộ (demo)")
    certs_dir.mkdir(parents=True, exist_ok=True)
    (certs_dir / "so-khcn-internal-ca.pem").write_bytes(ca.cert_pem)
    leaf = issue(ca, ["dichvucong.angiang.gov.vn.invalid"])
    cert, key = leaf.write(scratch, "dichvucong")
    served = [
        Served("cong-dvc", "dvc-web", 443,
               _bind(TlsListener(context=server_context(cert, key)), addresses[("cong-dvc", "dvc-web")]),
               "HTTPS, TLS 1.2–1.3"),
        Served("cong-dvc", "dvc-web", 80, _bind(HttpListener(), addresses[("cong-dvc", "dvc-web")]), "HTTP"),
        Served("cong-dvc", "dvc-db", 5432, _bind(Listener(name="tcp"), addresses[("cong-dvc", "dvc-db")]),
               "TCP"),
    ]
    return served, ca
