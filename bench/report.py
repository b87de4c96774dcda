"""Annual-report benchmark: `auditor report annual` on a province of N systems and M findings, in one run.

Writes a workspace with N systems (20 organisations, most systems operating, some inspected, a drill and the
shipped budget), loads it, puts M findings spread over the reporting year straight into the store (as that
many scans would have left them), then times:

  (a) the auditor's whole `report annual` (start-up, inventory, obligations, snapshot, charts, HTML, PDF, JSON, CSV,
      ledger), after `inventory load` (which keeps the inventory's parsed form under .auditor/), and again as the
      first command after the inventory changed (parsed anew), and
  (b) WeasyPrint's own command line turning the very HTML the auditor wrote into a PDF, the part the auditor
      cannot make faster than the library it uses;

and prints both with their peak memory (PSS of the process tree) and the ratio.

    python -m bench.report                              # 5,000 systems, 200,000 findings
    python -m bench.report --systems 500 --findings 20000
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench._measure import measure
from tests.conftest import REPO

YEAR = 2026
ON = "2026-12-14"
FACTS = ("{information: [%s], kinds: [internal], serves: [%s], administrative_procedures: %s, conditional_business: "
         "false, infrastructure_scope: none, national_egovernment: false, always_on: false, national_data_centre: false, "
         "defence_security_harm: none, industrial_control: none}")
SEVERITIES = ("critical", "high", "medium", "medium", "low", "low", "low", "info")


def write_workspace(ws: Path, systems: int) -> None:
    rnd = random.Random(7)
    lines = ["version: 1", "meta: {province: Tỉnh thử nghiệm, title: Đo hiệu năng báo cáo năm}", "organisations:"]
    for o in range(20):
        lines.append(f"  - {{id: org-{o:02d}, name: Sở số {o}, roles: [owner, operator, security_unit]}}")
    lines.append("systems:")
    for i in range(systems):
        info = rnd.choice(("public", "private", "private", "state_secret"))
        serves = rnd.choice(("internal", "citizens", "agencies"))
        tthc = "true" if rnd.random() < 0.2 else "false"
        life = rnd.choice(("operating",) * 8 + ("building", "planned"))
        live = f"20{rnd.randint(12, 25)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}" if life == "operating" else None
        org = f"org-{i % 20:02d}"
        lines.append(f"  - {{id: sys-{i:05d}, name: Hệ thống số {i}, owner: {org}, operator: {org}, lifecycle: {life}"
                     + (f", go_live: {live}" if live else "") + f", facts: {FACTS % (info, serves, tthc)}}}")
    (ws / "inventory.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = ["version: 1", "inspections:"]
    for i in range(0, systems, 3):
        day = dt.date(2025, 1, 1) + dt.timedelta(days=rnd.randint(0, 700))
        records.append(f"  - {{id: kt-{i:05d}, system: sys-{i:05d}, date: {day}, performed_by: Đơn vị {i % 7}, "
                       f"independent: true, licensed_assessor: {'true' if i % 2 else 'false'}}}")
    records += ["drills:", "  - id: dt-bench", "    date: 2026-10-15", "    kind: live_fire", "    title: Diễn tập",
                "    scenario: Tấn công web", "    timeline:",
                "      - {at: '2026-10-15T08:00', event: attack_started}",
                "      - {at: '2026-10-15T09:30', event: detected}",
                "      - {at: '2026-10-15T11:00', event: contained}", "      - {at: '2026-10-15T15:00', event: recovered}"]
    (ws / "records.yaml").write_text("\n".join(records) + "\n", encoding="utf-8")
    budget = (REPO / "budget.yaml").read_text(encoding="utf-8").replace("owner: ubnd-tinh", "owner: org-00")
    (ws / "budget.yaml").write_text(budget.replace("owner: so-khcn", "owner: org-01"), encoding="utf-8")


def add_findings(ws: Path, systems: int, findings: int) -> None:
    """M findings over the reporting year, as scans would have left them; a third of them resolved since."""
    from sqlalchemy import insert

    from auditor.store.db import open_store
    from auditor.store.tables import FindingRow, ScanRunRow

    rnd = random.Random(11)
    start = dt.datetime(YEAR - 1, 12, 15, tzinfo=dt.UTC)
    store = open_store(ws)
    try:
        with store.session() as s:
            run = ScanRunRow(family="ports", status="completed", targets=systems, finished_at=start,
                             systems=[f"sys-{i:05d}" for i in range(systems)])  # every system scanned
            s.add(run)
            s.flush()
            rows = []
            for n in range(findings):
                first = start + dt.timedelta(minutes=rnd.randint(0, 360 * 24 * 60))
                resolved = first + dt.timedelta(days=rnd.randint(1, 60)) if n % 3 == 0 else None
                rows.append({"check_id": f"bench.check{n % 40}", "system_id": f"sys-{n % systems:05d}",
                             "target": f"h{n}:{n % 65535}", "severity": SEVERITIES[n % len(SEVERITIES)],
                             "status": "resolved" if resolved else "open", "first_seen": first, "last_seen": first,
                             "resolved_at": resolved, "times_seen": 1, "last_run_id": run.id, "detail": {"n": n}})
                if len(rows) == 20_000:
                    s.execute(insert(FindingRow), rows)
                    rows = []
            if rows:
                s.execute(insert(FindingRow), rows)
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", type=int, default=5000)
    parser.add_argument("--findings", type=int, default=200_000)
    args = parser.parse_args()
    auditor = str(Path(sys.executable).parent / "auditor")
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        ws.mkdir()
        write_workspace(ws, args.systems)
        load = measure([auditor, "inventory", "load", "--workspace", str(ws)])
        if load.returncode != 0:
            raise SystemExit(load.stderr[-3000:])
        add_findings(ws, args.systems, args.findings)
        out = Path(tmp) / "out"
        report = measure([auditor, "report", "annual", "--year", str(YEAR), "--on", ON, "--out", str(out),
                          "--workspace", str(ws)])
        if report.returncode != 0:
            raise SystemExit(report.stderr[-3000:])
        # the same report once more, the inventory's parsed form removed: as the first command after an edit
        (ws / ".auditor" / "inventory-parsed.json").unlink()
        cold = measure([auditor, "report", "annual", "--year", str(YEAR), "--on", ON, "--out", str(Path(tmp) / "cold"),
                        "--workspace", str(ws)])
        if cold.returncode != 0:
            raise SystemExit(cold.stderr[-3000:])
        html = out / f"bao-cao-attt-{YEAR}.html"
        shutil.copy(REPO / "reports" / "base.css", out / "base.css")
        peer = measure([str(Path(sys.executable).parent / "weasyprint"), str(html), str(Path(tmp) / "peer.pdf")])
        if peer.returncode != 0:
            raise SystemExit(peer.stderr[-3000:])
        pdf = out / f"bao-cao-attt-{YEAR}.pdf"
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        pages = next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:"))
        megabytes = pdf.stat().st_size / 1e6
    print(f"{args.systems} systems, {args.findings} findings; report annual --year {YEAR} (data as of {ON})")
    print(f"{'':>26} {'wall s':>8} {'peak MiB':>9}")
    print(f"{'inventory load':>26} {load.seconds:>8.2f} {load.peak_mib:>9.0f}")
    print(f"{'auditor report annual':>26} {report.seconds:>8.2f} {report.peak_mib:>9.0f}   "
          f"(PDF {megabytes:.1f} MB, {pages} pages; HTML, JSON, DOCX, 4 CSV)")
    print(f"{'... inventory just edited':>26} {cold.seconds:>8.2f} {cold.peak_mib:>9.0f}   "
          "(its YAML parsed again, not taken from .auditor/)")
    print(f"{'weasyprint HTML -> PDF':>26} {peer.seconds:>8.2f} {peer.peak_mib:>9.0f}   (the same HTML, bare)")
    print(f"ratio auditor / bare WeasyPrint: {report.seconds / peer.seconds:.2f} (time), "
          f"{report.peak_mib / peer.peak_mib:.2f} (memory)")


if __name__ == "__main__":
    main()
