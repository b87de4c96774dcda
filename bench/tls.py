"""TLS benchmark: the auditor's full TLS scan and evaluation against sslyze's own command line.

Starts N TLS endpoints on loopback (a mix of good and broken configurations from the test zoo), then in
the same run: `auditor scan --check tls --json` on a workspace declaring them, and `python -m sslyze`
with the same scan commands on the same endpoints. Prints both wall times, the ratio and the peak memory
of each process tree (PSS, sampled from /proc).

    python -m bench.tls                  # N = 50
    python -m bench.tls --sizes 25,50,100
"""

from __future__ import annotations

import argparse
import json
import shutil
import ssl
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from auditor.labs.certs import issue, new_key
from auditor.labs.nginx import Nginx, NginxSite
from auditor.labs.servers import free_port
from auditor.labs.tls_zoo import Zoo, ZooServer
from bench._measure import paired

SSLYZE_COMMANDS = ["--certinfo", "--sslv2", "--sslv3", "--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3",
                   "--compression", "--heartbleed", "--robot", "--openssl_ccs", "--reneg", "--http_headers",
                   "--mozilla_config", "disable", "--quiet"]


@dataclass(frozen=True)
class Endpoint:
    server_name: str
    port: int


def nginx_endpoints(zoo: Zoo, n: int) -> tuple[Nginx, list[Endpoint]]:
    """N endpoints served by nginx: a mix of good and broken configurations, like a real estate."""
    rsa = new_key("rsa", 2048)
    sites, endpoints = [], []
    ports: set[int] = set()
    for i in range(n):
        sni = f"e{i}.bench.test"
        kind = i % 5
        cert = issue(zoo.ca, [sni], key=rsa if kind in (0, 3, 4) else None)
        cert_file, key_file = cert.write(zoo.dir, f"bench{i}")
        port = free_port()
        while port in ports:
            port = free_port()
        ports.add(port)
        site = NginxSite(port, cert_file, key_file)
        if kind == 2:
            site = NginxSite(port, cert_file, key_file, hsts=None)
        elif kind == 3:
            site = NginxSite(port, cert_file, key_file, protocols="TLSv1 TLSv1.1 TLSv1.2 TLSv1.3",
                             ciphers="ECDHE+AESGCM:ECDHE+AES:@SECLEVEL=0")
        elif kind == 4:
            site = NginxSite(port, cert_file, key_file, protocols="TLSv1.2", ciphers="AES128-SHA:AES256-SHA")
        sites.append(site)
        endpoints.append(Endpoint(sni, port))
    return Nginx(sites).start(), endpoints


def start_endpoints(zoo: Zoo, n: int) -> list[ZooServer]:
    rsa = new_key("rsa", 2048)
    servers = []
    for i in range(n):
        name = f"e{i}"
        sni = f"{name}.bench.test"
        kind = i % 5
        if kind == 0:
            servers.append(zoo.tls(name, set(), server_name=sni, cert=issue(zoo.ca, [sni], key=rsa)))
        elif kind == 1:
            servers.append(zoo.tls(name, set(), server_name=sni))
        elif kind == 2:
            servers.append(zoo.tls(name, set(), server_name=sni, hsts=None))
        elif kind == 3:
            servers.append(zoo.tls(name, set(), server_name=sni, cert=issue(zoo.ca, [sni], key=rsa),
                                   min_version=ssl.TLSVersion.TLSv1, ciphers="ECDHE+AESGCM:ECDHE+AES:@SECLEVEL=0"))
        else:
            servers.append(zoo.tls(name, set(), server_name=sni, cert=issue(zoo.ca, [sni], key=rsa),
                                   max_version=ssl.TLSVersion.TLSv1_2, ciphers="AES128-SHA:AES256-SHA"))
    return servers


def workspace(root: Path, zoo: Zoo, servers: list[ZooServer] | list[Endpoint]) -> Path:
    ws = root / "ws"
    (ws / "certs").mkdir(parents=True)
    shutil.copy(zoo.ca_file, ws / "certs" / "ca.pem")
    lines = ["version: 1", "organisations:", "  - {id: o, name: Bench, roles: [owner, operator]}", "systems:",
             "  - id: bench", "    name: Bench", "    owner: o", "    operator: o", "    lifecycle: operating",
             "    go_live: 2020-01-01", "    hosts:", "      - {id: h, address: 127.0.0.1}", "    endpoints:"]
    for s in servers:
        lines.append(f"      - {{host: h, port: {s.port}, protocol: https, tls: true, server_name: {s.server_name},"
                     f" ca_bundle: certs/ca.pem}}")
    (ws / "inventory.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ws


def run(n: int, server: str, runs: int) -> dict[str, float]:
    zoo = Zoo()
    nginx = None
    try:
        if server == "nginx":
            nginx, servers = nginx_endpoints(zoo, n)
        else:
            servers = start_endpoints(zoo, n)  # type: ignore[assignment]
        with tempfile.TemporaryDirectory() as tmp:
            ws = workspace(Path(tmp), zoo, servers)
            targets = [f"{s.server_name}:{s.port}{{127.0.0.1}}" for s in servers]
            pairs = paired([str(Path(sys.executable).parent / "auditor"), "scan", "--check", "tls", "--json",
                            "--workspace", str(ws)],
                           [sys.executable, "-m", "sslyze", *SSLYZE_COMMANDS, "--json_out", str(Path(tmp) / "s.json"),
                            *targets], runs, ok_a=(0, 1))
            doc = json.loads(pairs.a[-1].stdout)
            scanned = len(json.loads((Path(tmp) / "s.json").read_text())["server_scan_results"])
    finally:
        if nginx is not None:
            nginx.stop()
        zoo.close()
    assert doc["runs"][0]["targets"] == n and scanned == n
    low, high = pairs.ratio_range
    return {"n": n, "auditor_s": pairs.a_seconds, "sslyze_s": pairs.b_seconds, "ratio": pairs.ratio, "low": low,
            "high": high, "auditor_mib": pairs.a_peak_mib, "sslyze_mib": pairs.b_peak_mib,
            "findings": len(doc["findings"])}

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="50", help="comma-separated numbers of endpoints (default 50)")
    parser.add_argument("--server", choices=["nginx", "python"], default="nginx",
                        help="what serves the endpoints: nginx (default) or Python threads in this process")
    parser.add_argument("--runs", type=int, default=3, help="alternating pairs per size (medians are printed)")
    args = parser.parse_args()
    print(f"endpoints served by {args.server} on 127.0.0.1; both tools run the same scan commands; "
          f"median of {args.runs} alternating pairs")
    print(f"{'endpoints':>9} {'auditor s':>10} {'sslyze CLI s':>13} {'ratio':>6} {'(pairs)':>11} {'auditor MiB':>12} "
          f"{'sslyze MiB':>11} {'findings':>9}")
    for n in (int(x) for x in args.sizes.split(",")):
        r = run(n, args.server, args.runs)
        spread = f"{r['low']:.2f}-{r['high']:.2f}"
        print(f"{r['n']:>9} {r['auditor_s']:>10.2f} {r['sslyze_s']:>13.2f} {r['ratio']:>6.2f} {spread:>11} "
              f"{r['auditor_mib']:>12.0f} {r['sslyze_mib']:>11.0f} {r['findings']:>9}", flush=True)
    print("ratio = median of the pairs' auditor / sslyze CLI wall times (goal of issue 16: <= 1.0); "
          "MiB = peak PSS of the process tree (sampled every 50 ms)")


if __name__ == "__main__":
    main()
