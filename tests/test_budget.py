"""The budget share: exact thresholds by date, and every bad-input kind located with exit code 2."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, Result


def budget_ws(tmp_path: Path, plans: str) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    shutil.copy(REPO / "inventory.yaml", ws / "inventory.yaml")
    shutil.copytree(REPO / "certs", ws / "certs", dirs_exist_ok=True)
    (ws / "budget.yaml").write_text("version: 1\nplans:\n" + textwrap.indent(textwrap.dedent(plans), "  "),
                                    encoding="utf-8")
    return ws


def plan(pid: str, kind: str, on: str, total: object, security: object, other: object | None = None) -> str:
    lines = f"      - {{title: Bảo mật, amount: {security}, security: true}}\n"
    if other is not None:
        lines += f"      - {{title: Khác, amount: {other}, security: false}}\n"
    return (f"- id: {pid}\n  kind: {kind}\n  title: Kế hoạch {pid}\n  owner: ubnd-tinh\n  approved_on: {on}\n"
            f"  total: {total}\n  lines:\n" + textwrap.indent(lines, "  ").replace("        -", "    -"))


def verdicts(cli: Callable[..., Result], ws: Path) -> tuple[int, dict[str, dict[str, object]]]:
    r = cli("budget", "check", "--json", "--workspace", ws)
    assert r.exit_code in (0, 1), r.stderr
    return r.exit_code, {p["id"]: p for p in json.loads(r.stdout)["plans"]}


def test_exactly_at_the_threshold_passes_one_dong_below_fails(cli: Callable[..., Result], tmp_path: Path) -> None:
    ws = budget_ws(tmp_path, plan("at", "project", "2025-03-01", 1_000_000_000, 100_000_000, 900_000_000)
                   + plan("below", "project", "2025-03-01", 1_000_000_000, 99_999_999, 900_000_001))
    code, v = verdicts(cli, ws)
    assert code == 1
    assert v["at"]["verdict"] == "pass" and v["at"]["share_percent"] == "10.00"
    assert v["below"]["verdict"] == "fail" and v["below"]["share_percent"] == "9.99"  # never shown as 10.00
    assert v["at"]["reference"] == "Chỉ thị 14/CT-TTg ngày 07/6/2019"


def test_multi_line_plan_sums_security_lines(cli: Callable[..., Result], tmp_path: Path) -> None:
    text = textwrap.dedent("""\
        - id: multi
          kind: annual_plan
          title: Kế hoạch năm
          owner: ubnd-tinh
          approved_on: 2026-02-01
          total: "10.000.000.000"
          lines:
            - {title: A, amount: "600.000.000", security: true}
            - {title: B, amount: "400.000.000", security: true}
            - {title: C, amount: "9.000.000.000", security: false}
        """)
    _code, v = verdicts(cli, budget_ws(tmp_path, text))
    assert v["multi"]["security"] == "1000000000" and v["multi"]["verdict"] == "pass"


def test_threshold_in_force_on_the_approval_date(cli: Callable[..., Result], tmp_path: Path) -> None:
    ws = budget_ws(tmp_path, plan("june", "project", "2026-06-30", 100, 12, 88)
                   + plan("july", "project", "2026-07-01", 100, 12, 88)
                   + plan("july15", "programme", "2026-07-01", 100, 15, 85)
                   + plan("annual-line", "annual_plan", "2026-08-01", 100, 1, 99)
                   + plan("annual-none", "annual_plan", "2026-08-01", 100, 0, 100))
    _code, v = verdicts(cli, ws)
    assert (v["june"]["verdict"], v["june"]["threshold_percent"]) == ("pass", "10")
    assert (v["july"]["verdict"], v["july"]["threshold_percent"]) == ("fail", "15")
    assert v["july"]["reference"] == "Luật An ninh mạng 116/2025/QH15 Điều 38.1"
    assert v["july15"]["verdict"] == "pass"
    assert v["annual-line"]["verdict"] == "pass" and v["annual-line"]["threshold_percent"] is None
    assert v["annual-none"]["verdict"] == "fail"


BAD = [
    ("zero total", plan("p", "project", "2025-01-01", 0, 0), "plans[0].total", "more than zero"),
    ("negative amount", plan("p", "project", "2025-01-01", 100, -5, 50), "plans[0].lines[0].amount", "negative"),
    ("lines above the total", plan("p", "project", "2025-01-01", 100, 60, 50), "plans[0].lines", "more than the total"),
    ("unknown currency", plan("p", "project", "2025-01-01", 100, 10, 90).replace("  total:", "  currency: USD\n  total:"),
     "plans[0].currency", "USD"),
    ("non-numeric amount", plan("p", "project", "2025-01-01", '"mười tỷ"', 10, 90), "plans[0].total", "mười tỷ"),
    ("float amount", plan("p", "project", "2025-01-01", 1.5e9, 10, 90), "plans[0].total", "whole number"),
    ("unknown owner", plan("p", "project", "2025-01-01", 100, 10, 90).replace("ubnd-tinh", "nobody"),
     "plans[0].owner", "nobody"),
    ("impossible date", plan("p", "project", "2025-02-29", 100, 10, 90), "plans[0].approved_on", "2025-02-29"),
    ("unknown kind", plan("p", "budget", "2025-01-01", 100, 10, 90), "plans[0].kind", "budget"),
]


@pytest.mark.parametrize(("name", "text", "field", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_input(cli: Callable[..., Result], tmp_path: Path, name: str, text: str, field: str, words: str) -> None:
    ws = budget_ws(tmp_path, text)
    r = cli("budget", "check", "--workspace", ws, "--lang", "en")
    assert r.exit_code == 2, (r.stdout, r.stderr)
    line = next(x for x in r.stderr.splitlines() if f": {field}:" in x)
    assert re.match(r"^.*budget\.yaml:\d+:\d+: ", line)
    assert words in line


def test_duplicate_plan_id(cli: Callable[..., Result], tmp_path: Path) -> None:
    ws = budget_ws(tmp_path, plan("p", "project", "2025-01-01", 100, 10, 90) * 2)
    r = cli("budget", "check", "--workspace", ws, "--lang", "en")
    assert r.exit_code == 2 and "duplicate plan id 'p'" in r.stderr


def test_repository_budget(cli: Callable[..., Result], tmp_path: Path) -> None:
    ws = budget_ws(tmp_path, "")
    shutil.copy(REPO / "budget.yaml", ws / "budget.yaml")
    code, v = verdicts(cli, ws)
    assert code == 1
    assert v["da-qlvb-2025"]["verdict"] == "pass" and v["da-lgsp"]["verdict"] == "fail"
    r = cli("budget", "check", "--year", "2025", "--json", "--workspace", ws)
    assert r.exit_code == 0 and [p["id"] for p in json.loads(r.stdout)["plans"]] == ["da-qlvb-2025"]


def test_budget_share_is_an_obligation_in_status(cli: Callable[..., Result], tmp_path: Path) -> None:
    ws = budget_ws(tmp_path, "")
    shutil.copy(REPO / "budget.yaml", ws / "budget.yaml")
    r = cli("status", "--json", "--workspace", ws)
    found = {o["subject"]: o for o in json.loads(r.stdout)["obligations"] if o["rule"] == "budget.share"}
    assert found["da-lgsp"]["verdict"] == "fail" and "13.33%" in found["da-lgsp"]["evidence"]
    assert found["da-qlvb-2025"]["verdict"] == "pass"
    assert found["da-lgsp"]["reference"].startswith("Chỉ thị 14/CT-TTg")


@pytest.mark.parametrize(("text", "amount"), [
    ("10000000", 10_000_000), ('"10.000.000"', 10_000_000), ('"10 000 000"', 10_000_000), ('"1.000"', 1000),
    ('"10\u00a0000\u00a0000"', 10_000_000),  # the no-break spaces a word processor puts between the groups
])
def test_amounts_read_exactly(cli: Callable[..., Result], tmp_path: Path, text: str, amount: int) -> None:
    ws = budget_ws(tmp_path, plan("p", "project", "2025-01-01", text, 1, None))
    _code, v = verdicts(cli, ws)
    assert v["p"]["total"] == str(amount)


@pytest.mark.parametrize("text", [
    '"1.5"',          # was read as 15 đồng: a decimal point is not a thousands separator
    '"1.5e8"',        # was read as 1,500,000,000
    '"1.00.000"',     # groups of two digits: was read as 100,000
    '"１０００"',      # full-width digits
    '"sNaN"', '"1E+5000"', '"NaN"', '"Infinity"',  # ended in a traceback
    '"10,000"',       # a comma: ambiguous between a decimal and a thousands separator
    '"10.000 000"',   # mixed separators
    "0x10", "190:20:30", "1_000",  # YAML's hexadecimal, base 60 and underscores: not amounts
    '"9' + '9' * 25 + '"',  # far beyond any budget
])
def test_misread_amounts_are_input_errors(cli: Callable[..., Result], tmp_path: Path, text: str) -> None:
    ws = budget_ws(tmp_path, plan("p", "project", "2025-01-01", text, 1, None))
    r = cli("budget", "check", "--workspace", ws, "--lang", "en")
    assert r.exit_code == 2 and "Traceback" not in r.stderr, (r.stdout, r.stderr)
    assert re.search(r"budget\.yaml:8:\d+: plans\[0\]\.total: not an amount of đồng", r.stderr), r.stderr
    assert cli("status", "--workspace", ws).exit_code == 2  # status reads the same file the same way


def test_a_failing_share_is_never_shown_as_the_threshold(cli: Callable[..., Result], tmp_path: Path) -> None:
    ws = budget_ws(tmp_path, plan("p", "project", "2025-01-01", 100_000_000_000, 9_999_999_999, 90_000_000_001))
    code, v = verdicts(cli, ws)  # 9.999999999%
    assert code == 1 and v["p"]["verdict"] == "fail" and v["p"]["share_percent"] == "9.99"
    r = cli("budget", "check", "--workspace", ws, env={"COLUMNS": "200"})
    assert "9.99%" in r.stdout and "10.00%" not in r.stdout


@pytest.mark.parametrize("budget", [None, "version: 1\nplans: []\n"])
def test_no_budget_declared_cannot_be_judged(cli: Callable[..., Result], tmp_path: Path, budget: str | None) -> None:
    ws = budget_ws(tmp_path, "")
    if budget is None:
        (ws / "budget.yaml").unlink()
    else:
        (ws / "budget.yaml").write_text(budget, encoding="utf-8")
    r = cli("budget", "check", "--json", "--workspace", ws, "--lang", "en")
    doc = json.loads(r.stdout)
    assert r.exit_code == 1 and doc["plans"] == [] and doc["verdict"] == "indeterminate"
    assert "declares no plan or project" in doc["reason"]
    r = cli("status", "--json", "--workspace", ws, "--lang", "en")
    (share,) = [o for o in json.loads(r.stdout)["obligations"] if o["rule"] == "budget.share"]
    assert share["verdict"] == "indeterminate" and "cannot be judged" in share["evidence"]
    assert r.exit_code == 1


def test_plans_approved_after_the_day_are_not_judged_on_it(cli: Callable[..., Result], tmp_path: Path) -> None:
    ws = budget_ws(tmp_path, plan("old", "project", "2025-03-01", 100, 10, 90)
                   + plan("new", "project", "2026-09-01", 100, 1, 99))
    r = cli("status", "--on", "2026-01-31", "--json", "--workspace", ws)
    shares = {o["subject"]: o["verdict"] for o in json.loads(r.stdout)["obligations"] if o["rule"] == "budget.share"}
    assert shares == {"old": "pass"}
