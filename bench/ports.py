"""Ports benchmark: `auditor scan --check ports` against the bare nmap command it drives, in one run.

Opens N listeners on a loopback address of its own, declares that host in a temporary workspace, then
times (a) the auditor's whole port scan (start-up, inventory, plan, nmap, evaluation, store) and (b) the
same nmap command line on its own. Prints both, and the auditor's overhead in percent (target < 10%).

    python -m bench.ports                 # 300 listeners, the level-3 policy (version detection)
    python -m bench.ports --listeners 2000 --level 1
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import textwrap
from pathlib import Path

from auditor.catalogue.ports_policy import load_port_policies
from auditor.labs.servers import Listener
from auditor.probes.nmap_ports import nmap_arguments
from bench._measure import measure
from tests.conftest import REPO

ADDRESS = "127.99.0.1"
FIRST_PORT = 20000


def inventory(level: int) -> str:
    admin = "true" if level >= 3 else "false"  # an administrative-procedure system is level 3 (NĐ 331)
    return textwrap.dedent(f"""\
        version: 1
        organisations:
          - {{id: o, name: Bench, roles: [owner, operator, security_unit]}}
        systems:
          - id: bench
            name: Bench
            owner: o
            operator: o
            lifecycle: operating
            go_live: 2020-01-01
            facts: {{information: [public], kinds: [internal], serves: [internal], conditional_business: false,
                    administrative_procedures: {admin}, online_public_service_level: 0, infrastructure_scope: none,
                    national_egovernment: false, always_on: false, national_data_centre: false,
                    defence_security_harm: none, industrial_control: none}}
            hosts:
              - {{id: many, address: {ADDRESS}, exposure: internal}}
        """)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listeners", type=int, default=300)
    parser.add_argument("--level", type=int, default=3, choices=(1, 3))
    parser.add_argument("--runs", type=int, default=1, help="alternating runs of each; the best of each is kept")
    args = parser.parse_args()
    listeners = [Listener(port=FIRST_PORT + i, address=ADDRESS).start() for i in range(args.listeners)]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            ws = Path(tmp) / "ws"
            ws.mkdir()
            (ws / "inventory.yaml").write_text(inventory(args.level), encoding="utf-8")
            policy = load_port_policies(REPO / "profiles").for_level(args.level)
            nmap_cmd = ["nmap", *shlex.split(nmap_arguments(policy)), "-p", policy.ports, "-oX", "-", ADDRESS]
            auditor_cmd = [str(Path(sys.executable).parent / "auditor"), "scan", "--check", "ports", "--json",
                           "--workspace", str(ws)]
            best_a = best_n = None
            for _ in range(args.runs):
                a = measure(auditor_cmd)
                if a.returncode not in (0, 1):
                    raise SystemExit(a.stderr[-2000:])
                n = measure(nmap_cmd)
                if n.returncode != 0:
                    raise SystemExit(n.stderr[-2000:])
                best_a = a if best_a is None or a.seconds < best_a.seconds else best_a
                best_n = n if best_n is None or n.seconds < best_n.seconds else best_n
            assert best_a is not None and best_n is not None
            found = len(json.loads(best_a.stdout)["findings"])
            open_ports = best_n.stdout.count('state="open"')
    finally:
        for listener in listeners:
            listener.stop()
    overhead = (best_a.seconds - best_n.seconds) / best_n.seconds * 100
    print(f"host {ADDRESS} with {args.listeners} open listeners; level-{args.level} policy; nmap: {' '.join(nmap_cmd)}")
    print(f"{'':>10} {'wall s':>8} {'peak MiB':>9}")
    print(f"{'auditor':>10} {best_a.seconds:>8.2f} {best_a.peak_mib:>9.0f}   ({found} findings)")
    print(f"{'nmap':>10} {best_n.seconds:>8.2f} {best_n.peak_mib:>9.0f}   ({open_ports} open ports)")
    print(f"overhead of the auditor over the bare nmap run: {overhead:+.1f}% (target < 10%); best of {args.runs}")


if __name__ == "__main__":
    main()
