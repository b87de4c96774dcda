"""The annual report as a leader reads it, read back from the PDF (pdftotext) and the Word document (python-docx):
the official heading, the leader's page with the five most serious risks (who must act, by when), the grades,
the accepted risks with who accepted them and until when, and the appendix of open findings."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import docx
import pytest

from auditor import clock
from tests.conftest import Result
from tests.console_helpers import ConsoleWorkspace, make_console_workspace
from tests.dossier_helpers import PASSPHRASE, officer_p12, ok


@pytest.fixture
def cw(flow_ws: Path, cli: Callable[..., Result]) -> ConsoleWorkspace:
    return make_console_workspace(cli, flow_ws)


def pdf_text(path: Path) -> str:
    """The text in reading order, cell by cell (not laid out in columns, which interleaves a table's cells)."""
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_the_leader_reads_risks_owners_deadlines_and_the_heading(cw: ConsoleWorkspace,
                                                                  cli: Callable[..., Result]) -> None:
    ws = cw.ws
    listed = json.loads(cli("findings", "--json", "--workspace", ws).stdout)["findings"]
    high = next(f for f in listed if f["severity"] == "high")
    info = next(f for f in listed if f["severity"] == "info")
    until = (clock.today() + dt.timedelta(days=20)).isoformat()
    ok(cli("findings", "accept", str(info["id"]), "--justification", "Máy chủ đang được thay thế theo kế hoạch",
           "--until", until, "--p12", officer_p12(ws, "chu-quan"), "--workspace", ws,
           env={"AUDITOR_KEY_PASSPHRASE": PASSPHRASE}))
    out = ws / "out"
    ok(cli("report", "annual", "--year", "2026", "--out", out, "--workspace", ws))
    text = " ".join(pdf_text(out / "bao-cao-attt-2026.pdf").split())
    # the official heading (NĐ 30/2020): superior, issuing body, national heading, place and date
    for expected in ("ỦY BAN NHÂN DÂN TỈNH AN GIANG", "SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH AN GIANG",
                     "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     f"An Giang, ngày {clock.today().day:02d} tháng {clock.today().month}", "BÁO CÁO", "Nơi nhận:",
                     "Lưu: VT", "GIÁM ĐỐC SỞ", "Nghị định 331/2026/NĐ-CP"):
        assert expected in text, expected
    # page one: the most serious open risk in plain words, with the unit that must act and by when
    page_one = " ".join(pdf_text_pages(out / "bao-cao-attt-2026.pdf", 1, 1).split())
    assert "Năm rủi ro nghiêm trọng nhất" in page_one
    assert "Trung tâm Chuyển đổi số tỉnh An Giang phải khắc phục trước ngày" in page_one
    assert "dvc-web:443" in page_one and "Cổng dịch vụ công tỉnh An Giang" in page_one
    assert "Đánh giá từng hệ thống" in text and "không đạt" in text
    # the accepted risk: who, why, until when
    assert "Máy chủ đang được thay thế theo kế hoạch" in text and "Nguyễn Văn A" in text
    assert f"{until[8:10]}/{until[5:7]}/{until[:4]}" in text
    # the appendix, with the catalogue's remediation
    assert "Phụ lục: lỗ hổng, điểm yếu còn mở" in text
    assert high["check"] and "Kiểm tra dịch vụ, tường lửa" in text
    # no internal codes or English on the Vietnamese report's leader page
    for code in ("r331", "security_unit", "high 1", "to_improve", "building", "planned"):
        assert code not in page_one, code
    # the same content in the Word document the office edits before signing
    d = docx.Document(str(out / "bao-cao-attt-2026.docx"))
    body = "\n".join(p.text for p in d.paragraphs)
    cells = "\n".join(c.text for t in d.tables for row in t.rows for c in row.cells)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in cells and "SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH AN GIANG" in cells
    assert "Năm rủi ro nghiêm trọng nhất" in body
    assert "Trung tâm Chuyển đổi số tỉnh An Giang phải khắc phục trước ngày" in body
    assert "Máy chủ đang được thay thế theo kế hoạch" in cells
    assert "Phụ lục: lỗ hổng, điểm yếu còn mở" in body and "Kiểm tra dịch vụ, tường lửa" in cells
    assert d.styles["Normal"].font.name == "Times New Roman"
    # the Word file is recorded in the ledger like the others
    assert ok(cli("verify", out / "bao-cao-attt-2026.docx", "--workspace", ws)).exit_code == 0
    # and every open finding is in the CSV
    csv = (out / "bao-cao-attt-2026-phat-hien.csv").read_text(encoding="utf-8-sig")
    assert csv.count("\n") == len(listed) + 1


def pdf_text_pages(path: Path, first: int, last: int) -> str:
    return subprocess.run(["pdftotext", "-f", str(first), "-l", str(last), str(path), "-"],
                          capture_output=True, text=True, check=True).stdout


def test_the_english_report_has_the_same_leader_page(cw: ConsoleWorkspace, cli: Callable[..., Result]) -> None:
    out = cw.ws / "out"
    ok(cli("report", "annual", "--year", "2026", "--out", out, "--lang", "en", "--workspace", cw.ws))
    text = " ".join(pdf_text(out / "annual-report-2026-en.pdf").split())
    for expected in ("SOCIALIST REPUBLIC OF VIET NAM", "The five most serious risks",
                     "An Giang Digital Transformation Centre must fix it by", "Grade of each system",
                     "Appendix: open findings"):
        assert expected in text, expected
