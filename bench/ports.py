"""Ports benchmark: `auditor scan --check ports` against the bare nmap command it drives, in one run.

Opens N listeners on a loopback address of its own, declares that host in a temporary workspace, then
times, in alternating pairs, (a) the auditor's whole port scan (start-up, inventory, plan, nmap, evaluation,
store) and (b) the same nmap command line on its own. Prints the medians and the median of the pairs' ratios
(goal of issue 16: at most 1.10).

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
from bench._measure import paired
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
    parser.add_argument("--runs", type=int, default=5, help="alternating pairs (the median is printed)")
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
            pairs = paired(auditor_cmd, nmap_cmd, args.runs, ok_a=(0, 1))
            found = len(json.loads(pairs.a[-1].stdout)["findings"])
            open_ports = pairs.b[-1].stdout.count('state="open"')
    finally:
        for listener in listeners:
            listener.stop()
    low, high = pairs.ratio_range
    print(f"host {ADDRESS} with {args.listeners} open listeners; level-{args.level} policy; nmap: {' '.join(nmap_cmd)}")
    print(f"median of {args.runs} alternating pairs (after one unmeasured pair)")
    print(f"{'':>10} {'wall s':>8} {'peak MiB':>9}")
    print(f"{'auditor':>10} {pairs.a_seconds:>8.2f} {pairs.a_peak_mib:>9.0f}   ({found} findings)")
    print(f"{'nmap':>10} {pairs.b_seconds:>8.2f} {pairs.b_peak_mib:>9.0f}   ({open_ports} open ports)")
    print(f"ratio auditor / nmap: {pairs.ratio:.2f} (pairs {low:.2f}-{high:.2f}); goal <= 1.10")

if __name__ == "__main__":
    main()
