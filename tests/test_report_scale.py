"""The annual report of a province: beyond 300 systems the form 08 table, and beyond 300 inspections their list,
are CSV files beside a short PDF; the leader's page lists the 30 systems graded worst and counts them all, the
appendix the 100 most serious open findings, and every open finding is in the findings CSV. The workspace is the
one bench/report.py measures, at a tenth of its size."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from auditor import clock
from bench.report import add_findings, write_workspace
from tests.conftest import Result

SYSTEMS = 320
FINDINGS = 3000


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def test_province_report_sends_long_tables_to_csv(tmp_path: Path, cli: Callable[..., Result]) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    write_workspace(ws, SYSTEMS)  # an inspection of every third system
    today = clock.today()
    (ws / "records.d").mkdir()
    more = ["inspections:"] + [
        f"  - {{id: kt-them-{i:03d}, system: sys-{i:05d}, date: {today - dt.timedelta(days=i % 200)}, "
        f"performed_by: Đoàn kiểm tra, independent: true, licensed_assessor: true}}" for i in range(300)]
    (ws / "records.d" / "them.yaml").write_text("\n".join(more) + "\n", encoding="utf-8")
    assert cli("inventory", "load", "--workspace", ws).exit_code == 0
    add_findings(ws, SYSTEMS, FINDINGS)
    out = tmp_path / "out"
    r = cli("report", "annual", "--year", str(today.year + (today.month == 12 and today.day >= 15)), "--lang", "en",
            "--out", out, "--json", "--workspace", ws)
    assert r.exit_code == 0, r.stderr
    printed = json.loads(r.stdout)
    files = {Path(f).name.removeprefix(f"annual-report-{printed['year']}-en"): Path(f) for f in printed["files"]}
    doc = json.loads(files[".json"].read_text(encoding="utf-8"))  # the report's snapshot
    in_period = len(doc["inspections"])
    assert in_period > 300 and doc["form08_in_pdf"] is False and doc["inspections_in_pdf"] is False
    text = " ".join(subprocess.run(["pdftotext", str(files[".pdf"]), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    assert f"{SYSTEMS} systems: the form 08 table, one row per system, is the systems CSV" in text
    assert f"{in_period} inspections in the period: each is in the inspections CSV" in text
    assert "kt-them-007" not in text and "Hệ thống số 299 Sở số 19" not in text  # no row of either table
    systems = rows(files["-systems.csv"])
    assert sorted(s["System id"] for s in systems) == [f"sys-{i:05d}" for i in range(SYSTEMS)]
    assert {s["Grade"] for s in systems} <= {"fail", "to improve", "pass"} and all(s["Grade"] for s in systems)
    inspections = rows(files["-inspections.csv"])
    assert [i["Inspection"] for i in inspections] == [i["id"] for i in doc["inspections"]]
    assert "kt-them-007" in {i["Inspection"] for i in inspections}
    # the leader's page: the worst 30 and the counts of all; the appendix: the 100 most serious of all open
    leader = doc["leader"]
    assert len(leader["grades"]) == 30 and sum(leader["grade_counts"].values()) == SYSTEMS
    assert "the 30 graded worst below; every system's grade is in the systems CSV" in text
    findings = rows(files["-findings.csv"])
    assert len(findings) == doc["appendix"]["total"] > 100 and len(doc["appendix"]["findings"]) == 100
    assert f"The 100 most serious of {len(findings)} open findings; all of them are in the findings CSV" in text
    ranks = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}
    shown = [ranks[f["Severity"]] for f in findings]
    assert shown == sorted(shown, reverse=True)  # most serious first, as the appendix shows them
    pages = subprocess.run(["pdfinfo", str(files[".pdf"])], capture_output=True, text=True, check=True).stdout
    assert int(next(x.split()[-1] for x in pages.splitlines() if x.startswith("Pages:"))) < 30


def test_pdf_laid_out_beside_or_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The PDF is laid out in a forked process; if that process fails, the PDF is made in place, and an error
    then is raised where it would have been."""
    from auditor.reporting import render
    from auditor.workspace import Workspace

    ws = Workspace(tmp_path)
    html = "<html><body><p>Báo cáo thử nghiệm</p></body></html>"
    real = render.pdf_bytes
    parent = os.getpid()
    laid_out_by: list[int] = []

    def recorded(w: Workspace, h: str) -> bytes:
        laid_out_by.append(os.getpid())  # in the child, into the child's copy of the list
        return real(w, h)

    def only_in_place(w: Workspace, h: str) -> bytes:
        if os.getpid() != parent:
            raise RuntimeError("the forked process fails")
        return recorded(w, h)

    assert threading.active_count() == 1  # a command line's process, as pytest's is
    monkeypatch.setattr(render, "pdf_bytes", recorded)
    with render.PdfLater(ws) as pdf:
        pdf.start(html)
        made = pdf.result()
    assert made.startswith(b"%PDF") and laid_out_by == []  # by the child: nothing ran here
    monkeypatch.setattr(render, "pdf_bytes", only_in_place)
    with render.PdfLater(ws) as pdf:
        pdf.start(html)
        made = pdf.result()
    assert made.startswith(b"%PDF") and laid_out_by == [parent]
    (tmp_path / "out.pdf").write_bytes(made)
    assert "Báo cáo thử nghiệm" in subprocess.run(["pdftotext", str(tmp_path / "out.pdf"), "-"], capture_output=True,
                                                   text=True, check=True).stdout

    def broken(w: Workspace, h: str) -> bytes:
        raise RuntimeError("layout failed")

    monkeypatch.setattr(render, "pdf_bytes", broken)
    with pytest.raises(RuntimeError, match="layout failed"), render.PdfLater(ws) as pdf:
        pdf.start(html)
        pdf.result()
