"""The level obligations of `auditor status`, each rule passing and failing, and the dossier as a PDF."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result, at_every_clock_date
from tests.dossier_helpers import approve_l3, create, ok, step

# verdicts for a given day do not change with the day the command runs
pytestmark = at_every_clock_date


@pytest.fixture
def ws(flow_ws: Path) -> Path:
    return flow_ws


def status(cli: Callable[..., Result], ws: Path) -> dict[tuple[str, str], dict[str, object]]:
    r = cli("status", "--json", "--workspace", ws)
    assert r.exit_code in (0, 1), r.stderr
    return {(o["rule"], o["subject"]): o for o in json.loads(r.stdout)["obligations"]}


def test_before_any_approval(cli: Callable[..., Result], ws: Path) -> None:
    s = status(cli, ws)
    assert s[("level.approved", "cong-dvc")]["verdict"] == "fail"
    assert s[("level.approved", "lgsp")]["verdict"] == "not_applicable"  # still being built
    assert s[("level.golive_after_approval", "cong-dvc")]["verdict"] == "fail"
    assert s[("level.golive_after_approval", "cong-ttdt")]["verdict"] == "not_applicable"  # live since 2012
    assert s[("level.tthc_level3", "he-thong-tthc")]["verdict"] == "fail"
    assert s[("level.tthc_level3", "thu-cong-vu")]["verdict"] == "not_applicable"
    assert s[("level.approved", "cong-dvc")]["reference"].startswith("NĐ 85/2016 Điều 14")


def test_after_approval(cli: Callable[..., Result], ws: Path) -> None:
    approve_l3(cli, ws, "cong-dvc")
    s = status(cli, ws)
    assert s[("level.approved", "cong-dvc")]["verdict"] == "pass"
    assert s[("level.tthc_level3", "cong-dvc")]["verdict"] == "pass"
    assert s[("level.approval_current", "cong-dvc")]["verdict"] == "pass"
    # quy chế 512/QĐ-UBND of 2024-03-15, before the approval of 2026-11-16
    assert s[("level.regulation_before_approval", "cong-dvc")]["verdict"] == "pass"
    # live since 2021, approved in 2026: went live before its approval
    assert s[("level.golive_after_approval", "cong-dvc")]["verdict"] == "fail"


def test_approved_below_the_proposed_level(cli: Callable[..., Result], ws: Path) -> None:
    approve_l3(cli, ws, "he-thong-tthc", level="2")
    s = status(cli, ws)
    assert s[("level.approved", "he-thong-tthc")]["verdict"] == "fail"
    assert s[("level.tthc_level3", "he-thong-tthc")]["verdict"] == "fail"


def test_a_change_after_approval_needs_reapproval(cli: Callable[..., Result], ws: Path) -> None:
    approve_l3(cli, ws, "cong-dvc")
    inv = ws / "inventory.yaml"
    inv.write_text(inv.read_text(encoding="utf-8").replace("{basic: 412000, sensitive: 0}",
                                                           "{basic: 412000, sensitive: 25000}"), encoding="utf-8")
    assert status(cli, ws)[("level.approval_current", "cong-dvc")]["verdict"] == "fail"


def test_regulation_issued_after_the_approval(cli: Callable[..., Result], ws: Path) -> None:
    approve_l3(cli, ws, "cong-dvc")
    inv = ws / "inventory.yaml"
    inv.write_text(inv.read_text(encoding="utf-8").replace("issued_on: 2024-03-15", "issued_on: 2026-11-20"),
                   encoding="utf-8")
    s = status(cli, ws)
    assert s[("level.regulation_before_approval", "cong-dvc")]["verdict"] == "fail"
    assert "2026-11-20" in str(s[("level.regulation_before_approval", "cong-dvc")]["evidence"])


def test_system_that_went_live_after_its_approval(cli: Callable[..., Result], ws: Path) -> None:
    inv = ws / "inventory.yaml"
    inv.write_text(inv.read_text(encoding="utf-8").replace("go_live: 2025-01-10", "go_live: 2026-11-20"),
                   encoding="utf-8")
    dossier = str(create(cli, ws, "wiki-l1", "2026-11-02"))
    ok(step(cli, ws, "submit", dossier, "--by", "ttcds", "--signer", "x", "--on", "2026-11-03"))
    ok(step(cli, ws, "appraise", dossier, "--opinion", "agree", "--key", "attt-so", "--signer", "x", "--on", "2026-11-04"))
    ok(step(cli, ws, "approve", dossier, "--decision", "5/QĐ", "--key", "attt-so-2", "--signer", "x", "--on",
            "2026-11-05"))
    assert status(cli, ws)[("level.golive_after_approval", "wiki-l1")]["verdict"] == "pass"


def test_status_text_is_vietnamese_and_exit_code_1(cli: Callable[..., Result], ws: Path) -> None:
    r = cli("status", "--workspace", ws, env={"COLUMNS": "200"})
    assert r.exit_code == 1
    assert "Hệ thống đang vận hành có cấp độ được phê duyệt" in r.stdout and "không đạt" in r.stdout


def test_dossier_pdf_reads_back_in_vietnamese(cli: Callable[..., Result], ws: Path, tmp_path: Path) -> None:
    d = approve_l3(cli, ws, "cong-dvc")
    r = ok(cli("dossier", "render", str(d), "--out", tmp_path / "out", "--json", "--workspace", ws))
    files = [Path(f) for f in json.loads(r.stdout)["files"]]
    pdf = next(f for f in files if f.suffix == ".pdf")
    raw = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    text = " ".join(raw.split())
    for expected in ("HỒ SƠ ĐỀ XUẤT CẤP ĐỘ AN TOÀN HỆ THỐNG THÔNG TIN", "Cổng dịch vụ công tỉnh An Giang",
                     "Thuyết minh đề xuất cấp độ", "NĐ 331/2026 Điều 13 khoản 2 điểm b", "1234/QĐ-UBND",
                     "Phương án bảo đảm an toàn thông tin", "Đã phê duyệt", "Trần Thị B — Giám đốc Sở",
                     "Nguyễn Văn A — Phó Chủ tịch UBND tỉnh", "412.000"):
        assert expected in text, expected
    html = next(f for f in files if f.suffix == ".html").read_text(encoding="utf-8")
    assert "<script" not in html
    r = ok(cli("dossier", "render", str(d), "--out", tmp_path / "en", "--lang", "en", "--json", "--workspace", ws))
    pdf_en = next(Path(f) for f in json.loads(r.stdout)["files"] if f.endswith(".pdf"))
    text_en = subprocess.run(["pdftotext", str(pdf_en), "-"], capture_output=True, text=True, check=True).stdout
    assert "LEVEL DOSSIER OF AN INFORMATION SYSTEM" in text_en and "Level justification" in text_en


def edit(ws: Path, old: str, new: str) -> None:
    inv = ws / "inventory.yaml"
    text = inv.read_text(encoding="utf-8")
    assert old in text
    inv.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_component_that_handles_procedures_counts(cli: Callable[..., Result], ws: Path) -> None:
    """wiki-l1 handles no procedure itself; its one-stop component does (as `level propose` reads it)."""
    edit(ws, "            national_data_centre: false, defence_security_harm: none, industrial_control: none}\n"
             "  - id: portal-l4",
         "            national_data_centre: false, defence_security_harm: none, industrial_control: none}\n"
         "    components:\n"
         "      - {id: mot-cua, name: Một cửa điện tử, facts: {administrative_procedures: true}}\n"
         "  - id: portal-l4")
    r = cli("level", "propose", "wiki-l1", "--json", "--workspace", ws)  # exit 1: other facts of it are missing
    assert any(m["component"] == "mot-cua" and m["level"] == 3 for m in json.loads(r.stdout)["matched"])
    found = status(cli, ws)[("level.tthc_level3", "wiki-l1")]
    assert found["verdict"] == "fail" and found["detail"]["component"] == "mot-cua"  # type: ignore[index]
    assert "mot-cua" in str(found["evidence"])


def test_only_the_changes_the_law_names_make_an_approval_stale(cli: Callable[..., Result], ws: Path) -> None:
    approve_l3(cli, ws, "cong-dvc")
    # a contact's e-mail and the description are not what NĐ 331 Điều 10.2 names: still current
    edit(ws, "email: dvc-admin@angiang.gov.vn.invalid", "email: quantri-dvc@angiang.gov.vn.invalid")
    assert status(cli, ws)[("level.approval_current", "cong-dvc")]["verdict"] == "pass"
    # the users and data subjects are: stale, and it says what changed, from what to what
    edit(ws, "{basic: 412000, sensitive: 0}", "{basic: 412000, sensitive: 25000}")
    found = status(cli, ws)[("level.approval_current", "cong-dvc")]
    assert found["verdict"] == "fail"
    assert found["detail"]["changes"] == [  # type: ignore[index]
        {"field": "facts.personal_data_subjects.sensitive", "approved": 0, "now": 25000}]
    assert "facts.personal_data_subjects.sensitive: 0 → 25000" in str(found["evidence"])


def test_a_new_host_makes_an_approval_stale(cli: Callable[..., Result], ws: Path) -> None:
    approve_l3(cli, ws, "cong-dvc")
    edit(ws, "    hosts:\n      - id: dvc-web", "    hosts:\n      - {id: dvc-cache, address: 127.20.3.10, zone: dmz}\n"
                                              "      - id: dvc-web")
    found = status(cli, ws)[("level.approval_current", "cong-dvc")]
    changed = {c["field"]: (c["approved"], c["now"]) for c in found["detail"]["changes"]}  # type: ignore[index]
    assert found["verdict"] == "fail" and changed["hosts[dvc-cache]"] == (None, True)
    assert changed["hosts[dvc-cache].address"] == (None, "127.20.3.10")
