"""The dossier workflow through the real commands: each transition allowed and refused, and the time limits."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from auditor.dossier.workflow import deadlines
from auditor.levels.regimes import load_calendar
from auditor.store.tables import DossierRow
from tests.conftest import REPO, Result
from tests.dossier_helpers import approve_l3, create, dossiers, officer_p12, ok, step


@pytest.fixture
def ws(flow_ws: Path) -> Path:
    return flow_ws


@pytest.fixture
def both(tmp_path: Path, cli: Callable[..., Result], database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The flow workspace with its store on SQLite, then on PostgreSQL."""
    from tests.dossier_helpers import PASSPHRASE, make_flow_workspace, make_keys

    monkeypatch.setenv("AUDITOR_DATABASE_URL", database_url)
    monkeypatch.setenv("AUDITOR_KEY_PASSPHRASE", PASSPHRASE)
    ws = make_flow_workspace(tmp_path)
    make_keys(cli, ws)
    return ws


def test_level3_flow_and_verify(cli: Callable[..., Result], both: Path) -> None:
    ws = both
    d = approve_l3(cli, ws)
    row = dossiers(cli, ws)[d]
    assert (row["state"], row["proposed_level"], row["approved_level"], row["decision_number"]) == \
        ("approved", 3, 3, "1234/QĐ-UBND")
    assert [x["status"] for x in row["deadlines"]] == ["on_time", "on_time"]  # type: ignore[union-attr]
    r = ok(cli("verify", "--json", "--workspace", ws))
    doc = json.loads(r.stdout)
    assert doc["ok"] is True and doc["signatures"] == 2 and doc["dossiers"] == 1
    shown = json.loads(ok(cli("dossier", "show", str(d), "--workspace", ws)).stdout)
    assert shown["parties"]["appraisal"]["decision"]["organisation"] == "so-khcn"
    assert shown["parties"]["approval"]["decision"]["organisation"] == "ubnd-tinh"
    assert shown["snapshot"]["justification"]["level"] == 3
    plan = {p["requirement"]: p for p in shown["snapshot"]["protection_plan"]}
    assert plan["tech.app.comms_confidentiality"]["checks"] and plan["mgmt.policy"]["status"] == "evidence_required"
    assert "tech.app.source_code" in plan  # a level-3 requirement


def test_refused_transitions(cli: Callable[..., Result], both: Path) -> None:
    ws = both
    d = str(create(cli, ws, "cong-dvc", "2026-10-30"))

    def refused(*args: str, words: str) -> None:
        r = step(cli, ws, *args, "--lang", "en")
        assert r.exit_code == 2, (r.stdout, r.stderr)
        assert words in r.stderr, r.stderr

    refused("appraise", d, "--opinion", "agree", "--key", "attt-so", "--signer", "x", words="it cannot be appraised")
    refused("submit", d, "--by", "so-khcn", "--signer", "x", words="the operator (ttcds) submits")
    refused("submit", d, "--by", "ttcds", "--signer", "x", "--on", "2026-10-29", words="before the previous step")
    refused("submit", d, "--by", "ttcds", "--signer", "x", "--on", "2099-01-01", words="in the future")
    ok(step(cli, ws, "submit", d, "--by", "ttcds", "--signer", "x", "--on", "2026-11-02"))
    refused("approve", d, "--decision", "1/QĐ", "--key", "chu-quan", "--signer", "x", words="it cannot be approved")
    refused("appraise", d, "--opinion", "agree", "--key", "chu-quan", "--signer", "x", words="at level 3, appraisal is for")
    refused("appraise", d, "--opinion", "agree_with_conditions", "--key", "attt-so", "--signer", "x",
            words="needs the conditions")
    refused("appraise", d, "--opinion", "maybe", "--key", "attt-so", "--signer", "x", words="the opinion is one of")
    r = cli("dossier", "appraise", d, "--opinion", "agree", "--p12", officer_p12(ws, "attt-so"), "--workspace", ws,
            "--lang", "en", env={"AUDITOR_KEY_PASSPHRASE": "wrong-passphrase"})
    assert r.exit_code == 2 and "wrong passphrase" in r.stderr
    ok(step(cli, ws, "appraise", d, "--opinion", "agree_with_conditions", "--conditions", "Bổ sung WAF trước 31/12",
            "--key", "attt-so", "--signer", "x", "--on", "2026-11-10"))
    refused("approve", d, "--decision", "1/QĐ", "--key", "attt-so", "--signer", "x", words="at level 3, approval is for")
    refused("approve", d, "--decision", " ", "--key", "chu-quan", "--signer", "x", words="number of the decision")
    r = cli("dossier", "create", "cong-dvc", "--workspace", ws, "--lang", "en")
    assert r.exit_code == 2 and "already has dossier" in r.stderr
    assert dossiers(cli, ws)[int(d)]["state"] == "appraised"


def test_level4_is_appraised_by_the_authority(cli: Callable[..., Result], ws: Path) -> None:
    d = str(create(cli, ws, "portal-l4", "2026-10-01"))
    assert dossiers(cli, ws)[int(d)]["proposed_level"] == 4
    ok(step(cli, ws, "submit", d, "--by", "ttcds", "--signer", "x", "--on", "2026-10-02"))
    r = step(cli, ws, "appraise", d, "--opinion", "agree", "--key", "attt-so", "--signer", "x", "--lang", "en")
    assert r.exit_code == 2 and "appraisal is for the appraiser: bca-a05" in r.stderr
    ok(step(cli, ws, "appraise", d, "--opinion", "agree", "--key", "a05", "--signer", "Cục A05", "--on", "2026-10-20"))
    ok(step(cli, ws, "approve", d, "--decision", "99/QĐ-UBND", "--key", "chu-quan", "--signer", "x", "--on",
            "2026-10-26"))
    assert dossiers(cli, ws)[int(d)]["state"] == "approved"


def test_level1_security_unit_appraises_and_approves(cli: Callable[..., Result], ws: Path) -> None:
    d = str(create(cli, ws, "wiki-l1", "2026-11-02"))
    ok(step(cli, ws, "submit", d, "--by", "ttcds", "--signer", "x", "--on", "2026-11-03"))
    ok(step(cli, ws, "appraise", d, "--opinion", "agree", "--key", "attt-so", "--signer", "x", "--on", "2026-11-04"))
    r = step(cli, ws, "approve", d, "--decision", "5/QĐ-SKHCN", "--key", "chu-quan", "--signer", "x", "--lang", "en")
    assert r.exit_code == 2 and "approval is for the security_unit: so-khcn" in r.stderr
    # the security unit appraises and approves at level 1, but not the same person (separation of duties)
    r = step(cli, ws, "approve", d, "--decision", "5/QĐ-SKHCN", "--key", "attt-so", "--on", "2026-11-05", "--lang", "en")
    assert r.exit_code == 2 and "Trần Thị B appraised this dossier and cannot approve it too" in r.stderr
    ok(step(cli, ws, "approve", d, "--decision", "5/QĐ-SKHCN", "--key", "attt-so-2", "--on", "2026-11-05"))
    assert dossiers(cli, ws)[int(d)]["approved_level"] == 1


def test_disagree_returns_and_a_new_version_follows(cli: Callable[..., Result], ws: Path) -> None:
    d = str(create(cli, ws, "cong-dvc", "2026-11-01"))
    ok(step(cli, ws, "submit", d, "--by", "ttcds", "--signer", "x", "--on", "2026-11-02"))
    ok(step(cli, ws, "appraise", d, "--opinion", "disagree", "--key", "attt-so", "--signer", "x", "--on", "2026-11-05"))
    assert dossiers(cli, ws)[int(d)]["state"] == "returned"
    d2 = create(cli, ws, "cong-dvc", "2026-11-06")
    assert dossiers(cli, ws)[d2]["version"] == 2
    ok(step(cli, ws, "submit", str(d2), "--by", "ttcds", "--signer", "x", "--on", "2026-11-06"))
    ok(step(cli, ws, "return", str(d2), "--reason", "Thiếu sơ đồ mạng", "--by", "so-khcn", "--signer", "x", "--on",
            "2026-11-07"))
    assert dossiers(cli, ws)[d2]["state"] == "returned"
    assert ok(cli("verify", "--workspace", ws)).exit_code == 0


@pytest.mark.parametrize(("regime", "submitted", "appraised", "status"), [
    ("r85", "2026-03-02", "2026-03-17", "on_time"),   # 15 calendar days (NĐ 85 Điều 16)
    ("r85", "2026-03-02", "2026-03-18", "late"),
    ("r331", "2026-11-02", "2026-11-23", "on_time"),  # 15 working days (NĐ 331 Điều 23)
    ("r331", "2026-11-02", "2026-11-24", "late"),
])
def test_appraisal_time_limits(cli: Callable[..., Result], ws: Path, regime: str, submitted: str, appraised: str,
                               status: str) -> None:
    created = "2026-03-01" if regime == "r85" else "2026-10-30"  # a dossier is made under a regime in force
    d = create(cli, ws, "cong-dvc", created, "--regime", regime)
    ok(step(cli, ws, "submit", str(d), "--by", "ttcds", "--signer", "x", "--on", submitted))
    ok(step(cli, ws, "appraise", str(d), "--opinion", "agree", "--key", "attt-so", "--signer", "x", "--on", appraised))
    limit = next(x for x in dossiers(cli, ws)[d]["deadlines"] if x["step"] == "appraisal")  # type: ignore[union-attr]
    assert limit["status"] == status


def test_approval_time_limit_and_overdue(cli: Callable[..., Result], both: Path) -> None:
    ws = both
    d = approve_l3(cli, ws, appraised="2026-11-10", approved="2026-11-20")  # due 2026-11-19: 7 working days
    limits = {x["step"]: x for x in dossiers(cli, ws)[d]["deadlines"]}  # type: ignore[union-attr]
    assert limits["approval"]["due"] == "2026-11-19" and limits["approval"]["status"] == "late"
    d2 = create(cli, ws, "he-thong-tthc", "2026-01-05", "--regime", "r85")
    ok(step(cli, ws, "submit", str(d2), "--by", "van-phong-ubnd", "--signer", "x", "--on", "2026-01-05"))
    (limit,) = dossiers(cli, ws)[d2]["deadlines"]  # type: ignore[misc]
    assert limit["due"] == "2026-01-20" and limit["status"] == "overdue"
    status = json.loads(cli("status", "--json", "--workspace", ws).stdout)
    verdicts = {(o["subject"], o["detail"].get("step")): o["verdict"] for o in status["obligations"]
                if o["rule"] == "dossier.time_limits"}
    assert verdicts[(f"he-thong-tthc (dossier {d2})", "appraisal")] == "fail"
    assert verdicts[(f"cong-dvc (dossier {d})", "approval")] == "fail"


def test_working_days_skip_tet_and_weekends() -> None:
    from auditor.levels.propose import LevelRules

    regime = LevelRules(REPO / "profiles").regimes.get("r331")
    calendar = load_calendar(REPO / "profiles")
    row = DossierRow(system_id="s", version=1, state="appraised", regime="r331", proposed_level=4, snapshot={},
                     snapshot_sha256="", submitted_on=dt.date(2026, 2, 11), appraised_on=dt.date(2026, 2, 11))
    due = {d.step: d.due for d in deadlines(row, regime, calendar)}
    # 25 working days for level 4, 7 for the approval; Tết runs 14–22 February 2026
    assert due["approval"] == dt.date(2026, 2, 27)
    assert due["appraisal"] == dt.date(2026, 3, 25)  # 12, 13 Feb; 23 Feb onwards: the 25th is 25 March
