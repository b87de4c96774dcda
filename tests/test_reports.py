"""The annual compliance report and the drill report: rendered to PDF for real, read back with pdftotext, their
numbers checked against the data; every file's hash in the ledger and checked by `auditor verify FILE`."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from auditor import clock
from auditor.labs.servers import Listener
from auditor.ledger.chain import canonical
from auditor.yamlsafe import load_yaml
from tests.conftest import REPO, Result, at_every_clock_date
from tests.dossier_helpers import approve_l3, create, ok, step
from tests.test_ports import ADDRESS
from tests.test_ports import workspace as ports_workspace

# verdicts for a given day do not change with the day the command runs
pytestmark = at_every_clock_date

ON = "2026-11-26"


def pdf_text(path: Path) -> str:
    run = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True)
    return " ".join(run.stdout.split())  # one line: table cells wrap across lines


def report(cli: Callable[..., Result], ws: Path, *args: str) -> dict[str, object]:
    r = ok(cli("report", *args, "--on", ON, "--json", "--workspace", ws))
    return json.loads(r.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def report_ws(flow_ws: Path, cli: Callable[..., Result]) -> Path:
    """The demo inventory, budget and records, with cong-dvc approved at level 3 on 16/11/2026."""
    shutil.copy(REPO / "budget.yaml", flow_ws / "budget.yaml")
    shutil.copy(REPO / "records.yaml", flow_ws / "records.yaml")
    approve_l3(cli, flow_ws)
    return flow_ws


def in_service(ws: Path) -> int:
    systems = load_yaml(ws / "inventory.yaml").data["systems"]
    return sum(1 for s in systems if s["lifecycle"] in ("operating", "upgrading"))


def test_annual_report_numbers_in_the_pdf(cli: Callable[..., Result], report_ws: Path) -> None:
    doc = report(cli, report_ws, "annual", "--year", "2026", "--lang", "en")
    files = {Path(str(f)).name: Path(str(f)) for f in doc["files"]}  # type: ignore[union-attr]
    assert set(files) == {"annual-report-2026-en.html", "annual-report-2026-en.pdf", "annual-report-2026-en.json",
                          "annual-report-2026-en-systems.csv", "annual-report-2026-en-gaps.csv",
                          "annual-report-2026-en-findings.csv", "annual-report-2026-en-inspections.csv",
                          "annual-report-2026-en.docx"}
    assert doc["period"] == {"start": "2025-12-15", "end": "2026-12-14", "as_of": ON, "complete": False}
    kpis = {k["id"]: k for k in doc["kpis"]}  # type: ignore[union-attr]
    operating = in_service(report_ws)
    assert (kpis["approved_share"]["part"], kpis["approved_share"]["whole"]) == (1, operating)  # only cong-dvc
    share = f"{100 / operating:.1f}%"
    assert kpis["approved_share"]["value"] + "%" == share and kpis["approved_share"]["met"] is False
    # the drill obligation of each calendar year the period touches: 2025 (none held) and 2026 (15/10/2026)
    drills = kpis["live_fire_drill_years"]
    assert (drills["part"], drills["whole"], drills["value"], drills["met"]) == (1, 2, "50.0", False)
    assert kpis["open_critical_high"]["value"] is None and kpis["open_critical_high"]["met"] is None  # never scanned
    # budget.yaml: kh-cds-2026 (10.00%, passes CT 14) and da-lgsp (13.33% < 15%, Luật 116) approved in the period
    assert (kpis["budget_plans_meeting_share"]["part"], kpis["budget_plans_meeting_share"]["whole"]) == (1, 2)
    text = pdf_text(files["annual-report-2026-en.pdf"])
    assert "REPORT On the security of information systems by level, year 2026" in text
    assert "Reporting period: 15/12/2025 – 14/12/2026" in text
    assert f"Operating systems with an approved level {share} ≥ 100% not met" in text and f" 1/{operating} " in text
    assert "Plans and projects meeting the security budget share 50.0% ≥ 100% not met" in text
    assert "Years with at least one live-fire drill (the years of the period) 50.0% ≥ 100% not met" in text
    assert "open at the end of the period no data ≤0 no data" in text  # never scanned
    assert "3 approved 1234/QĐ-UBND 512/QĐ-UBND" in text and "16/11/2026 · level 3" in text  # cong-dvc's form 08 row
    assert "15/10/2026 live-fire Diễn tập thực 107 185 510" in text  # minutes to detect, contain, recover
    # the gaps are what `auditor status` finds failing or not judgeable on the same day, but for the period: a
    # system that went live before 15/12/2025 is not a go-live gap of this period
    r = cli("status", "--on", ON, "--json", "--workspace", report_ws)
    live = {s["id"]: str(s.get("go_live")) for s in load_yaml(report_ws / "inventory.yaml").data["systems"]}
    expected = {(o["rule"], o["subject"]) for o in json.loads(r.stdout)["obligations"]
                if o["verdict"] in ("fail", "indeterminate")
                and not (o["rule"] == "level.golive_after_approval" and live[o["subject"]] < "2025-12-15")}
    snapshot = json.loads(files["annual-report-2026-en.json"].read_text(encoding="utf-8"))
    assert {(g["rule"], g["subject"]) for g in snapshot["gaps"]} == expected
    assert ("drill.live_fire_yearly", "2025") in expected and ("findings.open_by_severity", "cong-dvc") in expected
    # every KPI below its 100% target has gaps of its obligation, and every KPI met has none
    gap_rules = {g["rule"] for g in snapshot["gaps"]}
    for k in snapshot["kpis"]:
        if k["met"] is not None and k["target"] == "100":
            assert (k["rule"] in gap_rules) == (not k["met"]), k
    assert hashlib.sha256(canonical(snapshot)).hexdigest() == doc["snapshot_sha256"]
    with files["annual-report-2026-en-systems.csv"].open(encoding="utf-8-sig") as fh:
        rows = {row["System id"]: row for row in csv.DictReader(fh)}
    assert rows["cong-dvc"]["Approval decision"] == "1234/QĐ-UBND" and rows["cong-dvc"]["Approved level"] == "3"
    assert len(rows) == len(snapshot["systems"])
    with files["annual-report-2026-en-inspections.csv"].open(encoding="utf-8-sig") as fh:
        inspections = list(csv.DictReader(fh))
    assert [i["Inspection"] for i in inspections] == [i["id"] for i in snapshot["inspections"]] != []
    # a few inspections: listed in the PDF as well (its table, not the sentence sending the reader to the CSV)
    assert "Inspection Subject Date Kind Performed by Licensed Findings" in text
    assert "each is in the inspections CSV" not in text


def test_vietnamese_report_and_previous_year(cli: Callable[..., Result], report_ws: Path) -> None:
    (report_ws / "records.d").mkdir()
    (report_ws / "records.d" / "2025.yaml").write_text(
        "drills:\n  - {id: dt-2025, date: 2025-12-14, kind: live_fire, title: Diễn tập 2025, scenario: Mã độc}\n",
        encoding="utf-8")
    before = report(cli, report_ws, "annual", "--year", "2025")  # period 15/12/2024 – 14/12/2025: years 2024, 2025
    drills = {k["id"]: k for k in before["kpis"]}["live_fire_drill_years"]  # type: ignore[union-attr,index]
    assert (drills["part"], drills["whole"]) == (1, 2)  # 2025 (14/12/2025) held, 2024 not
    doc = report(cli, report_ws, "annual", "--year", "2026")
    kpis = {k["id"]: k for k in doc["kpis"]}  # type: ignore[union-attr]
    # 15/12/2025 – 14/12/2026: the year 2025 (14/12/2025 counts for it) and 2026 (15/10/2026)
    assert (kpis["live_fire_drill_years"]["part"], kpis["live_fire_drill_years"]["whole"]) == (2, 2)
    assert kpis["live_fire_drill_years"]["met"] is True
    assert kpis["live_fire_drill_years"]["previous"] == "50.0" and kpis["approved_share"]["previous"] == "0.0"
    pdf = next(Path(str(f)) for f in doc["files"] if str(f).endswith(".pdf"))  # type: ignore[union-attr]
    assert pdf.name == "bao-cao-attt-2026.pdf"
    text = pdf_text(pdf)
    assert "BÁO CÁO Tình hình bảo đảm an toàn hệ thống thông tin theo cấp độ năm 2026" in text
    assert "Kỳ báo cáo: 15/12/2025 – 14/12/2026" in text
    share = f"{100 / in_service(report_ws):.1f}%".replace(".", ",")
    assert f"Hệ thống đang vận hành có cấp độ {share} ≥ 100% chưa đạt 0,0%" in text  # 2025: 0,0%
    assert "Ủy ban nhân dân tỉnh An" in text  # the owner in the gaps table (the cell wraps before "Giang")
    systems_csv = next(Path(str(f)) for f in doc["files"] if str(f).endswith("-he-thong.csv"))  # type: ignore[union-attr]
    with systems_csv.open(encoding="utf-8-sig") as fh:
        owner = {row["Mã hệ thống"]: row["Chủ quản"] for row in csv.DictReader(fh)}
    assert owner["cong-dvc"] == "Ủy ban nhân dân tỉnh An Giang"
    assert owner["ke-toan"] == "Sở Khoa học và Công nghệ tỉnh An Giang"


def test_open_findings_from_a_real_scan_in_the_report(cli: Callable[..., Result], tmp_path: Path) -> None:
    extra = Listener(address=ADDRESS).start()
    try:
        ws = ports_workspace(tmp_path, [extra.port], f"- {{id: h, address: {ADDRESS}, exposure: internal, "
                                                     "approved_ports: []}\n")
        assert cli("scan", "--check", "ports", "--workspace", ws).exit_code == 1
    finally:
        extra.stop()
    today = clock.today()
    year = today.year + 1 if today >= dt.date(today.year, 12, 15) else today.year
    r = ok(cli("report", "annual", "--year", str(year), "--json", "--lang", "en", "--workspace", ws))
    doc = json.loads(r.stdout)
    kpis = {k["id"]: k for k in doc["kpis"]}
    assert kpis["open_critical_high"]["value"] == "1" and kpis["open_critical_high"]["met"] is False
    snapshot = json.loads(next(Path(f) for f in doc["files"] if f.endswith(".json")).read_text(encoding="utf-8"))
    assert snapshot["findings"]["opened_by_month"][today.strftime("%Y-%m")]["high"] == 1
    assert snapshot["systems"][0]["open_high"] == 1


def test_drill_report_times_and_verify(cli: Callable[..., Result], report_ws: Path, tmp_path: Path) -> None:
    doc = report(cli, report_ws, "drill", "dt-2026-thuc-chien")
    # records.yaml: attack 08:00, detected 09:47, contained 11:05, recovered 16:30
    assert doc["times"] == {"to_detect": 107, "to_contain": 185, "to_recover": 510, "detect_to_contain": 78,
                            "contain_to_recover": 325}
    pdf = next(Path(str(f)) for f in doc["files"] if str(f).endswith(".pdf"))  # type: ignore[union-attr]
    text = pdf_text(pdf)
    assert "BÁO CÁO KẾT QUẢ DIỄN TẬP" in text
    assert "1 giờ 47 phút" in text and "3 giờ 5 phút" in text and "8 giờ 30 phút" in text
    assert "Bổ sung luật WAF chặn tải tệp thực thi" in text and "30/11/2026" in text
    # the file is recognised, wherever it was copied; a changed copy is not
    copy = tmp_path / "forwarded.pdf"
    shutil.copy(pdf, copy)
    r = cli("verify", copy, "--json", "--workspace", report_ws)
    assert r.exit_code == 0, r.stdout
    match = json.loads(r.stdout)["file"]["matches"][0]
    assert (match["kind"], match["key"], match["name"]) == ("drill", "dt-2026-thuc-chien", pdf.name)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 1
    copy.write_bytes(bytes(data))
    r = cli("verify", copy, "--lang", "en", "--workspace", report_ws)
    assert r.exit_code == 1 and "matches no report" in r.stdout
    # a snapshot changed in the store after the fact is reported too
    db = report_ws / ".auditor" / "auditor.sqlite"
    import sqlite3

    with sqlite3.connect(db) as con:
        con.execute("UPDATE report SET snapshot = json_set(snapshot, '$.times.to_detect', 5)")
    r = cli("verify", pdf, "--lang", "en", "--workspace", report_ws)
    assert r.exit_code == 1 and "no longer matches" in r.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("annual", "--year", "1999"), "--year: 1999"),
    (("annual", "--year", "2027"), "the reporting period of 2027 starts on 2026-12-15"),
    (("drill", "nope"), "no drill 'nope'"),
])
def test_bad_report_requests_write_nothing(cli: Callable[..., Result], report_ws: Path, args: tuple[str, ...],
                                           message: str) -> None:
    r = cli("report", *args, "--on", ON, "--lang", "en", "--workspace", report_ws)
    assert r.exit_code == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not (report_ws / "reports-out").exists()
    r = ok(cli("verify", "--json", "--workspace", report_ws))
    assert not [e for e in json.loads(r.stdout)["breaks"]]


def test_reports_and_verify_on_both_stores(cli: Callable[..., Result], tmp_path: Path, database_url: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.dossier_helpers import PASSPHRASE, make_flow_workspace, make_keys

    monkeypatch.setenv("AUDITOR_DATABASE_URL", database_url)
    monkeypatch.setenv("AUDITOR_KEY_PASSPHRASE", PASSPHRASE)
    ws = make_flow_workspace(tmp_path)
    shutil.copy(REPO / "records.yaml", ws / "records.yaml")
    make_keys(cli, ws)
    approve_l3(cli, ws)
    first = report(cli, ws, "annual", "--year", "2025")
    doc = report(cli, ws, "annual", "--year", "2026")
    kpis = {k["id"]: k for k in doc["kpis"]}  # type: ignore[union-attr]
    assert kpis["approved_share"]["part"] == 1 and kpis["approved_share"]["previous"] == "0.0"
    drill = report(cli, ws, "drill", "dt-2026-thuc-chien")
    for published in (first, doc, drill):
        pdf = next(Path(str(f)) for f in published["files"] if str(f).endswith(".pdf"))  # type: ignore[union-attr]
        r = cli("verify", pdf, "--json", "--workspace", ws)
        assert r.exit_code == 0, r.stdout
        assert json.loads(r.stdout)["file"]["matches"][0]["snapshot_sha256"] == published["snapshot_sha256"]


def test_out_that_is_not_a_folder_is_a_usage_error(cli: Callable[..., Result], report_ws: Path) -> None:
    (report_ws / "taken").write_text("a file", encoding="utf-8")
    before = json.loads(ok(cli("verify", "--json", "--workspace", report_ws)).stdout)["entries"]
    r = cli("report", "drill", "dt-2026-thuc-chien", "--out", report_ws / "taken", "--lang", "en", "--workspace",
            report_ws)
    assert r.exit_code == 2 and "cannot write reports here" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert json.loads(ok(cli("verify", "--json", "--workspace", report_ws)).stdout)["entries"] == before  # no entry


def _form08(doc: dict[str, object]) -> dict[str, dict[str, object]]:
    files = [Path(str(f)) for f in doc["files"]]  # type: ignore[attr-defined]
    snapshot = json.loads(next(f for f in files if f.suffix == ".json").read_text(encoding="utf-8"))
    return {row["id"]: row for row in snapshot["systems"]}


def test_every_dossier_state_in_the_annual_report(cli: Callable[..., Result], flow_ws: Path) -> None:
    """One system per dossier state, and the report of an earlier day shows each dossier as it stood then."""
    ws = flow_ws
    approve_l3(cli, ws, "cong-dvc")  # created 30/10, submitted 2/11, appraised 10/11, approved 16/11
    d = create(cli, ws, "he-thong-tthc", "2026-11-03")
    ok(step(cli, ws, "submit", str(d), "--by", "van-phong-ubnd", "--signer", "x", "--on", "2026-11-05"))
    d = create(cli, ws, "trung-tam-du-lieu", "2026-11-01")
    ok(step(cli, ws, "submit", str(d), "--by", "ttcds", "--signer", "x", "--on", "2026-11-02"))
    ok(step(cli, ws, "appraise", str(d), "--opinion", "agree", "--key", "attt-so", "--signer", "x", "--on",
            "2026-11-12"))
    create(cli, ws, "mang-wan", "2026-11-20")
    d = create(cli, ws, "lgsp", "2026-11-02")
    ok(step(cli, ws, "submit", str(d), "--by", "ttcds", "--signer", "x", "--on", "2026-11-03"))
    ok(step(cli, ws, "return", str(d), "--by", "so-khcn", "--signer", "x", "--reason", "thiếu sơ đồ", "--on",
            "2026-11-09"))
    d = create(cli, ws, "cong-ttdt", "2026-11-02")
    ok(step(cli, ws, "submit", str(d), "--by", "ttcds", "--signer", "x", "--on", "2026-11-03"))
    ok(step(cli, ws, "appraise", str(d), "--opinion", "disagree", "--key", "attt-so", "--signer", "x", "--on",
            "2026-11-06"))

    def row(rows: dict[str, dict[str, object]], system: str) -> tuple[object, ...]:
        r = rows[system]
        return r["dossier_state"], r["expected_approval"], r["approved_level"]

    rows = _form08(report(cli, ws, "annual", "--year", "2026"))  # on 26/11/2026
    assert row(rows, "cong-dvc") == ("approved", None, 3)
    # NĐ 331 Đ23: 15 working days from 5/11 for the appraisal of a level-3 dossier
    assert row(rows, "he-thong-tthc") == ("submitted", "2026-11-26", None)
    assert row(rows, "trung-tam-du-lieu") == ("appraised", "2026-11-23", None)  # Đ24: 7 working days from 12/11
    assert row(rows, "mang-wan") == ("draft", None, None)  # no time limit runs before submission
    assert row(rows, "lgsp") == ("returned", None, None)
    assert row(rows, "cong-ttdt") == ("returned", None, None)  # appraised 'disagree'
    assert rows["cong-ttdt"]["appraised"] is True and rows["lgsp"]["appraised"] is False

    r = ok(cli("report", "annual", "--year", "2026", "--on", "2026-11-12", "--json", "--workspace", ws))
    earlier = _form08(json.loads(r.stdout))
    assert row(earlier, "cong-dvc") == ("appraised", "2026-11-19", None)  # approved only on 16/11
    assert row(earlier, "trung-tam-du-lieu") == ("appraised", "2026-11-23", None)
    assert row(earlier, "mang-wan") == (None, None, None)  # built on 20/11
    r = ok(cli("report", "annual", "--year", "2026", "--on", "2026-11-04", "--json", "--workspace", ws))
    earliest = _form08(json.loads(r.stdout))
    assert row(earliest, "he-thong-tthc") == ("draft", None, None)
    assert row(earliest, "trung-tam-du-lieu") == ("submitted", "2026-11-23", None)  # 15 working days from 2/11
    assert row(earliest, "lgsp") == ("submitted", "2026-11-24", None)
    assert earliest["cong-ttdt"]["appraised"] is False


FRESH = """\
version: 1
organisations:
  - {id: o, name: Sở Thử nghiệm, roles: [owner, operator, security_unit]}
systems:
  - id: moi
    name: Hệ thống mới
    owner: o
    operator: o
    lifecycle: operating
    go_live: 2026-06-01
    facts: {information: [public], kinds: [internal], serves: [internal], administrative_procedures: true,
            conditional_business: false, infrastructure_scope: none, national_egovernment: false, always_on: false,
            national_data_centre: false, defence_security_harm: none, industrial_control: none}
    hosts:
      - {id: app, address: 127.0.0.1}
"""


def test_figures_without_data_say_no_data(cli: Callable[..., Result], tmp_path: Path) -> None:
    """Nothing inspected, nothing scanned, no budget: no figure may claim to be met."""
    ws = tmp_path / "fresh"
    ws.mkdir()
    (ws / "inventory.yaml").write_text(FRESH, encoding="utf-8")
    previous = report(cli, ws, "annual", "--year", "2025")
    doc = report(cli, ws, "annual", "--year", "2026", "--lang", "en")
    kpis = {k["id"]: k for k in doc["kpis"]}  # type: ignore[union-attr]
    # level 3 since 01/6/2026: its first inspection is due by 01/6/2027, so nothing is "inspected on time" yet
    for kpi in ("inspected_on_time_share", "open_critical_high", "budget_plans_meeting_share"):
        assert (kpis[kpi]["value"], kpis[kpi]["met"]) == (None, None), kpis[kpi]
    assert kpis["open_critical_high"]["previous"] is None  # no rising trend from a year without data
    assert {k["id"]: k["value"] for k in previous["kpis"]}["open_critical_high"] is None  # type: ignore[union-attr]
    pdf = next(Path(str(f)) for f in doc["files"] if str(f).endswith(".pdf"))  # type: ignore[union-attr]
    text = pdf_text(pdf)
    assert "Systems inspected on time no data ≥ 100% no data" in text  # a figure without data says so
    assert "open at the end of no data ≤0 no data — the period" in text  # the title wraps beside the figures
    snapshot = json.loads(next(Path(str(f)) for f in doc["files"] if str(f).endswith(".json")).read_text("utf-8"))
    gaps = {(g["rule"], g["subject"]): g for g in snapshot["gaps"]}
    assert gaps[("findings.open_by_severity", "moi")]["verdict"] == "indeterminate"  # not scanned: not clean
    assert gaps[("budget.share", "budget.yaml")]["verdict"] == "indeterminate"
