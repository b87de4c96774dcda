"""Inventory benchmark: a province or a ministry of N systems, split over inventory.d/, in one run per size.

Writes a workspace whose inventory.yaml holds the meta and 50 organisations and whose inventory.d/ holds one file
per agency with its systems (each with one host and one endpoint, written out in block style as people write
them), then measures, for each size, the wall time and peak memory (PSS) of

  - `auditor inventory check`, the first time (nothing parsed yet), side by side with a bare script that only
    parses the same files with PyYAML's C loader (alternating pairs, median, ratio): what any YAML-reading tool pays;
  - `auditor inventory check` again (the parsed form kept under .auditor/ is used; the checks still run);
  - `auditor inventory load` (into a new SQLite store), `auditor status` and `auditor inventory list --json`.

    python -m bench.inventory                        # 1,000, 5,000 and 10,000 systems
    python -m bench.inventory --sizes 10000 --runs 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench._measure import Measured, measure, paired

AGENCIES = 50
FACTS = """\
    facts:
      information: [{info}]
      kinds: [internal]
      serves: [{serves}]
      administrative_procedures: {tthc}
      conditional_business: false
      infrastructure_scope: none
      national_egovernment: false
      always_on: false
      national_data_centre: false
      defence_security_harm: none
      industrial_control: none
"""
BARE = ("import sys, yaml\n"
        "for name in sys.argv[1:]:\n"
        "    with open(name, 'rb') as fh:\n"
        "        yaml.load(fh, Loader=yaml.CSafeLoader)\n")


def write_workspace(ws: Path, systems: int) -> list[Path]:
    """The workspace's inventory files, inventory.yaml first."""
    lines = ["version: 1", "meta: {province: Tỉnh thử nghiệm, title: Đo hiệu năng danh mục}", "organisations:"]
    for o in range(AGENCIES):
        lines += [f"  - id: org-{o:02d}", f"    name: Sở số {o}", "    roles: [owner, operator, security_unit]"]
    main = ws / "inventory.yaml"
    main.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parts = ws / "inventory.d"
    parts.mkdir()
    by_agency: dict[int, list[str]] = {o: ["systems:"] for o in range(AGENCIES)}
    for i in range(systems):
        o = i % AGENCIES
        info = ("public", "private", "private", "state_secret")[i % 4]
        by_agency[o] += [
            f"  - id: sys-{i:05d}",
            f"    name: Hệ thống thông tin số {i} của Sở số {o}",
            f"    owner: org-{o:02d}",
            f"    operator: org-{o:02d}",
            "    lifecycle: operating",
            f"    go_live: 20{12 + i % 13}-{1 + i % 12:02d}-{1 + i % 28:02d}",
            FACTS.format(info=info, serves=("internal", "citizens")[i % 2], tthc=str(i % 5 == 0).lower()).rstrip(),
            "    hosts:",
            f"      - {{id: web, address: 198.18.{i // 250 % 256}.{i % 250 + 1}, approved_ports: [443]}}",
            "    endpoints:",
            "      - {host: web, port: 443}",
        ]
    files = [main]
    for o, text in by_agency.items():
        f = parts / f"so-{o:02d}.yaml"
        f.write_text("\n".join(text) + "\n", encoding="utf-8")
        files.append(f)
    return files


def row(name: str, m: Measured) -> str:
    return f"  {name:<44} {m.seconds:8.2f} {m.peak_mib:9.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,5000,10000", help="numbers of systems, comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="alternating pairs for the first check")
    args = parser.parse_args()
    auditor = str(Path(sys.executable).parent / "auditor")
    env = {"AUDITOR_NOW": "2026-11-26T10:00+07:00"}
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            ws = Path(tmp) / "ws"
            ws.mkdir()
            files = write_workspace(ws, size)
            megabytes = sum(f.stat().st_size for f in files) / 1e6
            kept = ws / ".auditor" / "inventory-parsed.json"
            check = [auditor, "inventory", "check", "--workspace", str(ws)]
            # the first check each time: nothing kept (the parsed form is only kept once a store folder exists)
            first = paired(check, [sys.executable, "-c", BARE, *map(str, files)], args.runs, env=env)
            load = measure([auditor, "inventory", "load", "--workspace", str(ws)], env=env)
            if load.returncode != 0 or not kept.exists():
                raise SystemExit(load.stderr[-3000:])
            again = measure(check, env=env)
            status = measure([auditor, "status", "--workspace", str(ws)], env=env)
            listed = measure([auditor, "inventory", "list", "--json", "--workspace", str(ws)], env=env)
            for m, ok in ((again, (0,)), (status, (0, 1)), (listed, (0,))):
                if m.returncode not in ok:
                    raise SystemExit(m.stderr[-3000:])
        print(f"{size:,} systems in {len(files)} files ({megabytes:.1f} MB of YAML)")
        print(f"  {'':<44} {'wall s':>8} {'peak MiB':>9}")
        print(f"  {'inventory check, first time (median)':<44} {first.a_seconds:8.2f} {first.a_peak_mib:9.0f}")
        print(f"  {'bare parse, PyYAML C loader (median)':<44} {first.b_seconds:8.2f} {first.b_peak_mib:9.0f}")
        lo, hi = first.ratio_range
        print(f"  {'ratio check / bare parse':<44} {first.ratio:8.2f}   ({lo:.2f}-{hi:.2f})")
        print(row("inventory check, parsed form kept", again))
        print(row("inventory load (new SQLite store)", load))
        print(row("status", status))
        print(row("inventory list --json", listed))
        print(flush=True)


if __name__ == "__main__":
    main()
