"""Start-up benchmark: the fixed cost every command pays, against a bare Python interpreter, in one run.

Runs, in alternating pairs, `auditor --help` and `auditor findings --json` (on a workspace holding the findings of
a port scan of N loopback listeners) against `python -c pass`, and prints the medians. The goal of issue 16 is
at most 0.30 s for each auditor command.

    python -m bench.startup              # 15 pairs each, 50 findings
    python -m bench.startup --runs 31 --listeners 200

Bytecode: the measured runs may write it (bench/_measure.py), as an installed package has it; one unmeasured
round comes first.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from auditor.labs.servers import Listener
from bench._measure import paired
from bench.ports import ADDRESS, FIRST_PORT, inventory

GOAL = 0.30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="pairs per command (the median is printed)")
    parser.add_argument("--listeners", type=int, default=50, help="open ports scanned, so findings has rows")
    args = parser.parse_args()
    auditor = str(Path(sys.executable).parent / "auditor")
    bare = [sys.executable, "-c", "pass"]
    listeners = [Listener(port=FIRST_PORT + i, address=ADDRESS).start() for i in range(args.listeners)]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            ws = Path(tmp) / "ws"
            ws.mkdir()
            (ws / "inventory.yaml").write_text(inventory(1), encoding="utf-8")
            scan = paired([auditor, "scan", "--check", "ports", "--json", "-w", str(ws)], bare, 1, ok_a=(0, 1),
                          memory=False)
            found = len(json.loads(scan.a[0].stdout)["findings"])
            rows = [
                ("auditor --help", paired([auditor, "--help"], bare, args.runs, memory=False)),
                ("auditor findings --json", paired([auditor, "findings", "--json", "-w", str(ws)], bare, args.runs,
                                                   ok_a=(0, 1), memory=False)),
            ]
    finally:
        for listener in listeners:
            listener.stop()
    print(f"median of {args.runs} alternating pairs; findings --json lists {found} findings; goal <= {GOAL:.2f} s")
    print(f"{'command':>26} {'auditor s':>10} {'python -c pass s':>17} {'goal':>6}")
    for name, p in rows:
        verdict = "met" if p.a_seconds <= GOAL else "missed"
        print(f"{name:>26} {p.a_seconds:>10.3f} {p.b_seconds:>17.3f} {verdict:>6}")


if __name__ == "__main__":
    main()
