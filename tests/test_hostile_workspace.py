"""A workspace that tries to turn the auditor against its user: planted links, templates that try to run code or
read files, formulas in names, markup and escape sequences in data, address ranges, key names that climb out."""

from __future__ import annotations

import csv
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, Result
from tests.dossier_helpers import approve_l3, ok


@pytest.fixture
def report_ws(flow_ws: Path) -> Path:
    shutil.copy(REPO / "records.yaml", flow_ws / "records.yaml")
    return flow_ws


def test_a_link_planted_in_the_output_folder_is_not_written_through(cli: Callable[..., Result], report_ws: Path,
                                                                    tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    out = report_ws / "reports-out"
    out.mkdir()
    (out / "drill-report-dt-2026-thuc-chien-en.pdf").symlink_to(victim)
    r = cli("report", "drill", "dt-2026-thuc-chien", "--on", "2026-11-26", "--workspace", report_ws, "--lang", "en")
    assert r.exit_code == 2 and "symbolic link" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert victim.read_text(encoding="utf-8") == "precious"
    d = approve_l3(cli, report_ws)
    (out / "ho-so-cap-do-cong-dvc-v1-en.html").symlink_to(victim)
    r = cli("dossier", "render", str(d), "--out", out, "--workspace", report_ws, "--lang", "en")
    assert r.exit_code == 2 and "symbolic link" in r.stderr, r.stderr
    assert victim.read_text(encoding="utf-8") == "precious"


def test_a_template_cannot_run_code(cli: Callable[..., Result], report_ws: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    shutil.copytree(REPO / "reports", report_ws / "reports")
    (report_ws / "reports" / "drill.html.j2").write_text(
        '{{ cycler.__init__.__globals__.os.popen("touch ' + str(marker) + '").read() }}', encoding="utf-8")
    r = cli("report", "drill", "dt-2026-thuc-chien", "--on", "2026-11-26", "--workspace", report_ws, "--lang", "en")
    assert r.exit_code == 2 and "Traceback" not in r.stderr, (r.stdout, r.stderr)
    assert "may not do" in r.stderr
    assert not marker.exists()


def test_a_template_cannot_read_files_into_the_pdf(cli: Callable[..., Result], report_ws: Path,
                                                   tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("MAT-KHAU-BI-MAT", encoding="utf-8")
    inside = report_ws / "inventory.yaml"
    shutil.copytree(REPO / "reports", report_ws / "reports")
    template = report_ws / "reports" / "drill.html.j2"
    template.write_text(template.read_text(encoding="utf-8").replace(
        "</body>", f'<a rel="attachment" href="file://{secret}">a</a><a rel="attachment" href="file://{inside}">b</a>'
                   f'<img src="file://{secret}"><link rel="stylesheet" href="http://127.0.0.1:9/x.css"></body>'),
        encoding="utf-8")
    r = ok(cli("report", "drill", "dt-2026-thuc-chien", "--on", "2026-11-26", "--json", "--workspace", report_ws))
    pdf = next(Path(f) for f in json.loads(r.stdout)["files"] if f.endswith(".pdf"))
    listed = subprocess.run(["pdfdetach", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert listed.startswith("0 embedded files"), listed
    assert b"MAT-KHAU-BI-MAT" not in pdf.read_bytes()


def test_csv_cells_are_inert(cli: Callable[..., Result], report_ws: Path) -> None:
    inv = report_ws / "inventory.yaml"
    inv.write_text(inv.read_text(encoding="utf-8").replace(
        "name: Ủy ban nhân dân tỉnh An Giang", 'name: "=HYPERLINK(\\"http://evil.invalid\\",\\"UBND\\")"').replace(
        "name: Cổng dịch vụ công tỉnh An Giang", 'name: "@SUM(1+1)*cmd|\' /C calc\'!A0"'), encoding="utf-8")
    r = ok(cli("report", "annual", "--year", "2026", "--on", "2026-11-26", "--json", "--workspace", report_ws))
    systems = next(Path(f) for f in json.loads(r.stdout)["files"] if f.endswith("-he-thong.csv"))
    with systems.open(encoding="utf-8-sig") as fh:
        rows = {row["Mã hệ thống"]: row for row in csv.DictReader(fh)}
    assert rows["cong-dvc"]["Hệ thống"].startswith("'@SUM")
    assert rows["cong-dvc"]["Chủ quản"] == "'=HYPERLINK(\"http://evil.invalid\",\"UBND\")"
    for row in rows.values():
        assert not any(str(v).startswith(("=", "+", "@")) for v in row.values()), row


def test_an_nmap_range_is_not_an_address(cli: Callable[..., Result], tmp_path: Path) -> None:
    from tests.test_ports import workspace

    for address in ("127.0.0.0-31", "127.0.0.*", "127.0.0.1,2"):
        ws = workspace(tmp_path / address.replace("*", "x").replace(",", "_"), [80], f"""\
            - {{id: h, address: "{address}", exposure: internal}}
            """)
        r = cli("inventory", "check", "--workspace", ws, "--lang", "en")
        assert r.exit_code == 2 and "systems[0].hosts[0].address" in r.stderr and "Traceback" not in r.stderr
        assert "inventory.yaml:" in r.stderr
        assert cli("scan", "--check", "ports", "--workspace", ws).exit_code == 2
        assert not (ws / ".auditor" / "evidence").exists(), "no scan ran"


@pytest.mark.parametrize("which", ["inventory", "records"])
def test_a_link_to_a_file_outside_the_workspace_is_not_read(cli: Callable[..., Result], report_ws: Path,
                                                            tmp_path: Path, which: str) -> None:
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("root:x:0:0:root:/root:/bin/bash\nsecret-line-number-two: true\n", encoding="utf-8")
    if which == "inventory":
        inv = report_ws / "inventory.yaml"
        inv.rename(tmp_path / "real-inventory.yaml")
        inv.symlink_to(outside)
        r = cli("inventory", "check", "--workspace", report_ws, "--lang", "en")
    else:
        (report_ws / "records.d").mkdir()
        (report_ws / "records.d" / "x.yaml").symlink_to(outside)
        r = cli("records", "list", "--workspace", report_ws, "--lang", "en")
        assert cli("status", "--workspace", report_ws).exit_code == 2
    assert r.exit_code == 2 and "link to a file outside" in r.stderr, r.stderr
    assert "root" not in r.stderr.replace(str(tmp_path), "") and "secret-line" not in r.stderr


def test_messages_quote_only_a_short_excerpt(cli: Callable[..., Result], tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "inventory.yaml").write_text("version: 1\norganisations:\n  - id: o\n    name: O\n    roles: [owner]\n"
                                       "    " + "k" * 500 + ": 1\n    x: \"" + "v" * 500 + "\\x1b[31m\"\n",
                                       encoding="utf-8")
    r = cli("inventory", "check", "--workspace", ws, "--lang", "en")
    assert r.exit_code == 2
    assert "k" * 100 not in r.stderr and "\x1b" not in r.stderr and "…" in r.stderr


def test_data_is_not_terminal_markup(cli: Callable[..., Result], report_ws: Path) -> None:
    inv = report_ws / "inventory.yaml"
    inv.write_text(inv.read_text(encoding="utf-8").replace(
        "name: Cổng dịch vụ công tỉnh An Giang", 'name: "Cổng [/x] [link=http://evil.invalid]bấm[/link] \\e[31mđỏ"'),
        encoding="utf-8")
    records = report_ws / "records.yaml"
    records.write_text(records.read_text(encoding="utf-8").replace(
        "title: Diễn tập thực chiến bảo vệ Cổng dịch vụ công tỉnh năm 2026", 'title: "[bold]Diễn tập[/] [/x]"'),
        encoding="utf-8")
    env = {"COLUMNS": "250"}
    for args in (("inventory", "list"), ("records", "list"), ("status",)):
        r = cli(*args, "--workspace", report_ws, env=env)
        assert r.exit_code in (0, 1), (args, r.stderr)
        assert "\x1b" not in r.stdout and "Traceback" not in r.stderr
    listed = cli("inventory", "list", "--workspace", report_ws, env=env).stdout
    assert "[/x]" in listed and "[link=http://evil.invalid]bấm[/link]" in listed and "\\x1b[31mđỏ" in listed
    assert "[/x]" in cli("records", "list", "--workspace", report_ws, env=env).stdout


def test_the_store_is_private(cli: Callable[..., Result], flow_ws: Path) -> None:
    state = flow_ws / ".auditor"
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(state / "auditor.sqlite").st_mode) == 0o600
    # no key is made by name any more (officers sign with certificates), so no name can climb out of a folder
    assert cli("keys", "new", "../../../escaped", "--org", "so-khcn", "--workspace", flow_ws).exit_code == 2
