"""The transitional provisions of Luật 116/2025 Điều 45.1 and NĐ 331/2026 Điều 39.1, read from the regime data,
through the real commands (dossiers signed with the officers' keys, `auditor status`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result, at_every_clock_date
from tests.dossier_helpers import create, ok, step


def status(cli: Callable[..., Result], ws: Path, on: str) -> dict[tuple[str, str], dict[str, object]]:
    r = cli("status", "--on", on, "--json", "--workspace", ws, "--lang", "en")
    assert r.exit_code in (0, 1), r.stderr
    return {(o["rule"], o["subject"]): o for o in json.loads(r.stdout)["obligations"]}


def edit(ws: Path, old: str, new: str) -> None:
    inv = ws / "inventory.yaml"
    text = inv.read_text(encoding="utf-8")
    assert old in text
    inv.write_text(text.replace(old, new, 1), encoding="utf-8")


@at_every_clock_date
def test_a_level_approved_under_decree_85_is_kept(cli: Callable[..., Result], flow_ws: Path) -> None:
    """wiki-l1 handles administrative procedures: level 1 under NĐ 85, level 3 under NĐ 331 (Điều 13.2.b)."""
    ws = flow_ws
    edit(ws, "serves: [internal], administrative_procedures: false", "serves: [internal], administrative_procedures: true")
    d = str(create(cli, ws, "wiki-l1", "2026-03-02"))  # NĐ 85 in force
    ok(step(cli, ws, "submit", d, "--by", "ttcds", "--signer", "x", "--on", "2026-03-03"))
    ok(step(cli, ws, "appraise", d, "--opinion", "agree", "--key", "attt-so", "--signer", "x", "--on", "2026-03-05"))
    ok(step(cli, ws, "approve", d, "--decision", "15/QĐ-SKHCN", "--key", "attt-so-2", "--signer", "x", "--on",
            "2026-03-10"))
    before = status(cli, ws, "2026-03-15")[("level.approved", "wiki-l1")]
    assert before["verdict"] == "pass" and "transition" not in before["detail"]  # type: ignore[operator]
    after = status(cli, ws, "2026-09-01")[("level.approved", "wiki-l1")]  # NĐ 331 in force; it would say level 3
    assert after["verdict"] == "pass", after
    detail = after["detail"]
    assert detail["transition"] == "luat116-d45-1" and detail["due"] == "2027-07-01"  # type: ignore[index]
    assert detail["proposed_now"] == 3  # type: ignore[index]
    assert "Luật An ninh mạng 116/2025/QH15 Điều 45.1" in str(after["evidence"])
    assert "due by 01/07/2027" in str(after["evidence"])
    assert "approved by decision 15/QĐ-SKHCN of 10/03/2026 under Decree 85/2016" in str(after["evidence"])
    # the provincial target for TTHC systems (level 3) is a separate obligation, and it is not met
    assert status(cli, ws, "2026-09-01")[("level.tthc_level3", "wiki-l1")]["verdict"] == "fail"


@at_every_clock_date
def test_a_system_under_investment_may_finish_under_decree_85(cli: Callable[..., Result], flow_ws: Path) -> None:
    ws = flow_ws
    # lgsp is being built; its investment was decided before 01/7/2026
    edit(ws, "    lifecycle: building\n", "    lifecycle: building\n    investment_decided_on: 2026-02-01\n")
    pending = status(cli, ws, "2026-11-20")[("level.approved", "lgsp")]
    assert pending["verdict"] == "not_applicable"
    assert pending["detail"] == {"due": "2026-12-31", "transition": "nd331-d39-1"}
    assert "NĐ 331/2026/NĐ-CP Điều 39.1" in str(pending["evidence"])
    d = str(create(cli, ws, "lgsp", "2026-11-20", "--regime", "r85"))
    ok(step(cli, ws, "submit", d, "--by", "ttcds", "--signer", "x", "--on", "2026-11-21"))
    # a system whose investment was decided after 01/7/2026 may not use NĐ 85 any more
    r = cli("dossier", "create", "mang-wan", "--on", "2026-11-20", "--regime", "r85", "--workspace", ws,
            "--lang", "en")
    assert r.exit_code == 2 and "r85 is not in force on 2026-11-20" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("clock_date", ["2027-02-01"], indirect=True)
def test_decree_85_dossiers_cannot_be_decided_after_the_transition(cli: Callable[..., Result], flow_ws: Path) -> None:
    ws = flow_ws
    edit(ws, "    lifecycle: building\n", "    lifecycle: building\n    investment_decided_on: 2026-02-01\n")
    d = str(create(cli, ws, "lgsp", "2026-12-01", "--regime", "r85"))
    ok(step(cli, ws, "submit", d, "--by", "ttcds", "--signer", "x", "--on", "2026-12-02"))
    ok(step(cli, ws, "appraise", d, "--opinion", "agree", "--key", "attt-so", "--signer", "x", "--on", "2026-12-30"))
    r = step(cli, ws, "approve", d, "--decision", "1/QĐ", "--key", "chu-quan", "--signer", "x", "--on", "2027-01-04",
             "--lang", "en")
    assert r.exit_code == 2 and "r85 is not in force on 2027-01-04" in r.stderr, r.stderr
    ok(step(cli, ws, "approve", d, "--decision", "1/QĐ", "--key", "chu-quan", "--signer", "x", "--on", "2026-12-31"))
