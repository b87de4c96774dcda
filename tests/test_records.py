"""Inspections, drills and response plans (records.yaml, records.d/, `auditor records add`) and the obligations
they answer, each at its edge."""

from __future__ import annotations

import datetime as dt
import json
import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from auditor import clock
from auditor.labs.servers import Listener
from tests.conftest import Result, run_auditor
from tests.test_ports import ADDRESS
from tests.test_ports import workspace as ports_workspace

FACTS = ("{information: [%s], kinds: [internal], serves: [internal], administrative_procedures: false, "
         "conditional_business: false, infrastructure_scope: none, national_egovernment: false, always_on: false, "
         "national_data_centre: %s, defence_security_harm: none, industrial_control: none}")


def system(sid: str, info: str = "public", ndc: str = "false", go_live: str = "2020-01-01") -> str:
    return textwrap.indent(textwrap.dedent(f"""\
        - id: {sid}
          name: Hệ thống {sid}
          owner: o
          operator: o
          lifecycle: operating
          go_live: {go_live}
          facts: {FACTS % (info, ndc)}
        """), "  ")


def make_ws(tmp_path: Path, records: str = "") -> Path:
    """l5: national data centre (level 5); l3: state secrets (level 3 under NĐ 85); l1: public, internal (level 1)."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "inventory.yaml").write_text(textwrap.dedent("""\
        version: 1
        organisations:
          - {id: o, name: Sở A, roles: [owner, operator, security_unit]}
          - {id: p, name: Công an tỉnh, roles: [appraiser]}
        systems:
        """) + system("l5", ndc="true") + system("l3", info="state_secret") + system("l1"), encoding="utf-8")
    (ws / "records.yaml").write_text(textwrap.dedent(records), encoding="utf-8")
    return ws


def status(cli: Callable[..., Result], ws: Path, on: str) -> dict[tuple[str, str], dict[str, object]]:
    r = cli("status", "--on", on, "--json", "--lang", "en", "--workspace", ws)
    assert r.exit_code in (0, 1), r.stderr
    return {(o["rule"], o["subject"]): o for o in json.loads(r.stdout)["obligations"]}


def verdict(results: dict[tuple[str, str], dict[str, object]], rule: str, subject: str) -> object:
    return results[(rule, subject)]["verdict"]


INSPECTIONS = """\
    inspections:
      - {id: k5, system: l5, date: 2025-12-01, performed_by: Công ty X, independent: true, licensed_assessor: true}
      - {id: k3, system: l3, date: 2025-06-01, performed_by: Tự kiểm tra, independent: false, licensed_assessor: false}
      - {id: ko, organisation: o, date: 2024-03-15, performed_by: Đoàn kiểm tra, independent: true,
         licensed_assessor: false}
    """


def test_inspection_periods_at_their_edges(cli: Callable[..., Result], tmp_path: Path) -> None:
    ws = make_ws(tmp_path, INSPECTIONS)
    on_time = status(cli, ws, "2026-06-01")  # NĐ 85 in force
    assert verdict(on_time, "inspection.system_periodic", "l5") == "pass"  # exactly 6 months after 2025-12-01
    assert on_time[("inspection.system_periodic", "l5")]["detail"]["due"] == "2026-06-01"  # type: ignore[index]
    assert verdict(on_time, "inspection.system_periodic", "l3") == "pass"  # exactly 12 months
    assert verdict(on_time, "inspection.system_periodic", "l1") == "not_applicable"
    late = status(cli, ws, "2026-06-02")  # 6 months and 1 day; 12 months and 1 day
    assert verdict(late, "inspection.system_periodic", "l5") == "fail"
    assert verdict(late, "inspection.system_periodic", "l3") == "fail"
    # the organisation: every 24 months
    assert verdict(status(cli, ws, "2026-03-15"), "inspection.organisation_periodic", "o") == "pass"
    assert verdict(status(cli, ws, "2026-03-16"), "inspection.organisation_periodic", "o") == "fail"
    # licensed assessor: level 3 and above under NĐ 85
    assert verdict(on_time, "inspection.licensed_assessor", "l5") == "pass"
    assert verdict(on_time, "inspection.licensed_assessor", "l3") == "fail"
    assert verdict(on_time, "inspection.licensed_assessor", "l1") == "not_applicable"
    # an inspection dated after the day evaluated does not count
    early = status(cli, ws, "2025-11-30")
    assert early[("inspection.system_periodic", "l5")]["detail"]["last"] is None  # type: ignore[index]


def test_never_inspected_is_due_one_period_after_going_live(cli: Callable[..., Result], tmp_path: Path) -> None:
    ws = make_ws(tmp_path)
    results = status(cli, ws, "2020-06-30")
    # not due until 2020-07-01: nothing to judge yet (never counted as "inspected on time")
    assert verdict(results, "inspection.system_periodic", "l5") == "not_applicable"
    assert results[("inspection.system_periodic", "l5")]["detail"]["due"] == "2020-07-01"  # type: ignore[index]
    assert verdict(results, "inspection.licensed_assessor", "l5") == "not_applicable"
    late = status(cli, ws, "2020-07-02")
    assert verdict(late, "inspection.system_periodic", "l5") == "fail"
    assert verdict(late, "inspection.licensed_assessor", "l5") == "fail"  # due, and nothing recorded


DRILLS = """\
    drills:
      - {id: d1, date: %s, kind: %s, title: Diễn tập, scenario: Tấn công web, systems: [l5]}
    """


@pytest.mark.parametrize(("date", "kind", "year_2025", "year_2026"), [
    ("2025-12-31", "live_fire", "pass", "fail"),  # a drill on 31 December counts for its year
    ("2026-01-01", "live_fire", "fail", "pass"),
    ("2025-06-01", "tabletop", "fail", "fail"),  # a tabletop exercise is not a live-fire drill
])
def test_live_fire_drill_every_year(cli: Callable[..., Result], tmp_path: Path, date: str, kind: str,
                                    year_2025: str, year_2026: str) -> None:
    ws = make_ws(tmp_path, DRILLS % (date, kind))
    results = status(cli, ws, "2026-01-05")
    assert verdict(results, "drill.live_fire_yearly", "2025") == year_2025
    assert verdict(results, "drill.live_fire_yearly", "2026") == year_2026


def test_response_plan_for_level_3_and_above(cli: Callable[..., Result], tmp_path: Path) -> None:
    ws = make_ws(tmp_path, """\
        response_plans:
          - {system: l3, document: QĐ 12/QĐ-SA, approved_on: 2024-05-01, last_reviewed: 2025-06-01}
        """)
    results = status(cli, ws, "2026-06-01")
    assert verdict(results, "response_plan.current", "l3") == "pass"  # reviewed exactly 12 months ago
    assert verdict(results, "response_plan.current", "l5") == "fail"  # none
    assert verdict(results, "response_plan.current", "l1") == "not_applicable"
    assert verdict(status(cli, ws, "2026-06-02"), "response_plan.current", "l3") == "fail"
    # `records add response-plan` records a new review; run again it replaces its own file
    for reviewed in ("2026-01-10", "2026-05-20"):
        r = cli("records", "add", "response-plan", "--system", "l5", "--document", "QĐ 13/QĐ-SA", "--approved-on",
                "2026-01-10", "--reviewed", reviewed, "--workspace", ws)
        assert r.exit_code == 0, r.stderr
    results = status(cli, ws, "2026-06-02")
    assert verdict(results, "response_plan.current", "l5") == "pass"
    assert results[("response_plan.current", "l5")]["detail"]["reviewed"] == "2026-05-20"  # type: ignore[index]
    assert [p.name for p in (ws / "records.d").iterdir()] == ["response-plan-l5.yaml"]


def test_open_findings_by_severity_from_a_real_scan(cli: Callable[..., Result], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_findings_lifecycle import officer

    extra = Listener(address=ADDRESS).start()
    try:
        ws = ports_workspace(tmp_path, [extra.port], f"""\
            - {{id: h, address: {ADDRESS}, exposure: internal, approved_ports: []}}
            """)
        r = cli("scan", "--check", "ports", "--json", "--workspace", ws)
        assert r.exit_code == 1, r.stderr
        finding = json.loads(r.stdout)["findings"][0]
        assert (finding["check"], finding["severity"]) == ("ports.unexpected_open", "high")
        today = clock.today().isoformat()
        results = status(cli, ws, today)
        assert verdict(results, "findings.open_by_severity", "web") == "fail"
        assert results[("findings.open_by_severity", "web")]["detail"]["high"] == 1  # type: ignore[index]
        r = cli("findings", "accept", str(finding["id"]), "--justification", "Cổng thử nghiệm, đóng trong tuần",
                "--p12", officer(cli, ws, monkeypatch, organisation="Org"),
                "--until", (clock.today() + dt.timedelta(days=30)).isoformat(), "--workspace", ws)
        assert r.exit_code == 0, r.stderr
        assert verdict(status(cli, ws, today), "findings.open_by_severity", "web") == "pass"
    finally:
        extra.stop()


def test_records_add_inspection_checks_everything_first(cli: Callable[..., Result], tmp_path: Path) -> None:
    ws = make_ws(tmp_path, INSPECTIONS)
    args = ("records", "add", "inspection", "--date", "2026-05-02", "--performed-by", "Công ty Y", "--licensed",
            "--independent", "--workspace", ws)
    r = cli(*args, "--id", "k6", "--system", "l3")
    assert r.exit_code == 0, r.stderr
    assert (ws / "records.d" / "inspection-k6.yaml").exists()
    assert verdict(status(cli, ws, "2026-06-01"), "inspection.licensed_assessor", "l3") == "pass"
    for bad, message in ((("--id", "k3", "--system", "l3"), "duplicate inspection id 'k3'"),
                         (("--id", "k7", "--system", "nope"), "unknown system 'nope'"),
                         (("--id", "k8", "--system", "l3", "--organisation", "o"), "exactly one subject")):
        r = cli(*args, *bad, "--lang", "en")
        assert r.exit_code == 2 and message in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
    assert sorted(p.name for p in (ws / "records.d").iterdir()) == ["inspection-k6.yaml"]
    r = cli("records", "list", "--json", "--workspace", ws)
    assert [i["id"] for i in json.loads(r.stdout)["inspections"]] == ["k5", "k3", "ko", "k6"]


BAD = [
    ("inspections:\n  - {id: a, system: l1, date: 2026-02-30, performed_by: X, independent: true,"
     " licensed_assessor: true}\n", 2, "inspections[0].date", "not a valid date"),
    ("inspections:\n  - {id: a, system: l1, date: 2026-02-01, performed_by: X, independent: yes please,"
     " licensed_assessor: true}\n", 2, "inspections[0].independent", "true or false"),
    ("inspections:\n  - {id: a, sytem: l1, date: 2026-02-01, performed_by: X, independent: true,"
     " licensed_assessor: true}\n", 2, "inspections[0].sytem", "did you mean 'system'"),
    ("drills:\n  - id: d\n    date: 2026-03-01\n    kind: live_fire\n    title: T\n    scenario: S\n    timeline:\n"
     "      - {at: '2026-03-01T08:00', event: attack_started}\n      - {at: '2026-03-01T07:00', event: detected}\n",
     9, "drills[0].timeline[1].at", "earlier than 'attack_started'"),
    ("drills:\n  - id: d\n    date: 2026-03-01\n    kind: live_fire\n    title: T\n    scenario: S\n    timeline:\n"
     "      - {at: '2026-03-01T08:00', event: detected}\n", 8, "drills[0].timeline[0].event",
     "before any 'attack_started'"),
    ("drills:\n  - id: d\n    date: 2026-03-01\n    kind: live_fire\n    title: T\n    scenario: S\n    timeline:\n"
     "      - {at: '2026-03-01 25:00', event: attack_started}\n", 8, "drills[0].timeline[0].at",
     "not a valid date and time"),
    ("drills:\n  - id: d\n    date: 2026-03-01\n    kind: drill\n    title: T\n    scenario: S\n", 4, "drills[0].kind",
     "not one of"),
    ("drills:\n  - id: d\n    date: 2026-03-01\n    kind: live_fire\n    title: T\n    scenario: S\n    follow_up:\n"
     "      - {action: A, owner: o, deadline: 2026-02-01}\n", 8, "drills[0].follow_up[0].deadline",
     "before the drill"),
    ("response_plans:\n  - {system: l3, document: D, approved_on: 2026-03-01, last_reviewed: 2026-01-01}\n", 2,
     "response_plans[0].last_reviewed", "before its approval"),
    ("response_plans:\n  - {system: l3, document: D, approved_on: 2026-03-01}\n"
     "  - {system: l3, document: E, approved_on: 2026-04-01}\n", 3, "response_plans[1].system", "a second response plan"),
    ("drills: [1, 2\n", 2, "", "not valid YAML"),
    # dates at the ends of the calendar are typos, refused where written (0001-01-01T00:00+14:00 crashed the drill
    # report in UTC; 9999-12-31 overflows every due date computed from it)
    ("drills:\n  - id: d\n    date: 2026-03-01\n    kind: live_fire\n    title: T\n    scenario: S\n    timeline:\n"
     "      - {at: '0001-01-01T00:00+14:00', event: attack_started}\n", 8, "drills[0].timeline[0].at",
     "outside the years 1900 to 2199"),
    ("drills:\n  - id: d\n    date: 9999-12-31\n    kind: live_fire\n    title: T\n    scenario: S\n", 3,
     "drills[0].date", "outside the years 1900 to 2199"),
    ("inspections:\n  - {id: a, system: l1, date: 1899-12-31, performed_by: X, independent: true,"
     " licensed_assessor: true}\n", 2, "inspections[0].date", "outside the years 1900 to 2199"),
    ("response_plans:\n  - {system: l3, document: D, approved_on: 20260301}\n", 2, "response_plans[0].approved_on",
     "not a valid date"),
]


@pytest.mark.parametrize(("text", "line", "field", "message"), BAD)
def test_bad_records_are_located_and_change_nothing(cli: Callable[..., Result], tmp_path: Path, text: str, line: int,
                                                   field: str, message: str) -> None:
    ws = make_ws(tmp_path, INSPECTIONS)
    before = status(cli, ws, "2026-06-01")
    (ws / "records.yaml").write_text(text, encoding="utf-8")
    for command in (("records", "list"), ("status",)):
        r = cli(*command, "--lang", "en", "--workspace", ws)
        assert r.exit_code == 2, (command, r.stdout, r.stderr)
        assert f"records.yaml:{line}:" in r.stderr and field in r.stderr and message in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
    (ws / "records.yaml").write_text(textwrap.dedent(INSPECTIONS), encoding="utf-8")
    assert status(cli, ws, "2026-06-01") == before


@pytest.mark.parametrize("kind", ["folder", "fifo", "device link"])
def test_a_records_d_entry_that_is_not_a_regular_file_is_refused_unread(cli: Callable[..., Result], tmp_path: Path,
                                                                         kind: str) -> None:
    ws = make_ws(tmp_path, INSPECTIONS)
    before = status(cli, ws, "2026-06-01")
    (ws / "records.d").mkdir()
    entry = ws / "records.d" / "x.yaml"
    if kind == "folder":
        entry.mkdir()
    elif kind == "fifo":
        os.mkfifo(entry)  # opened for reading, it would wait for a writer for ever
    else:
        entry.symlink_to("/dev/zero")  # read whole, it would fill the memory
    for command in (("records", "list"), ("status",)):
        r = run_auditor(*command, "--lang", "en", "--workspace", ws, timeout=60)  # a hang fails, not blocks
        assert r.returncode == 2 and "Traceback" not in r.stderr, (command, r.stderr)
        assert "records.d/x.yaml:1:1:" in r.stderr, r.stderr
        assert ("outside" if kind == "device link" else "not a regular file") in r.stderr, r.stderr
    (entry.unlink if kind != "folder" else entry.rmdir)()
    assert status(cli, ws, "2026-06-01") == before


def test_dates_on_the_command_line_are_bounded_too(cli: Callable[..., Result], tmp_path: Path) -> None:
    ws = make_ws(tmp_path, INSPECTIONS)
    for args in (("status", "--on", "9999-12-31"), ("reminders", "--on", "0001-01-01"),
                 ("records", "add", "inspection", "--id", "k9", "--system", "l1", "--date", "1800-01-01",
                  "--performed-by", "X")):
        r = cli(*args, "--lang", "en", "--workspace", ws)
        assert r.exit_code == 2 and "outside the years 1900 to 2199" in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr


def test_duplicate_id_across_records_yaml_and_records_d(cli: Callable[..., Result], tmp_path: Path) -> None:
    ws = make_ws(tmp_path, INSPECTIONS)
    (ws / "records.d").mkdir()
    (ws / "records.d" / "more.yaml").write_text(
        "inspections:\n  - {id: k5, system: l5, date: 2026-01-01, performed_by: Y, independent: true,"
        " licensed_assessor: true}\n", encoding="utf-8")
    r = cli("records", "list", "--lang", "en", "--workspace", ws)
    assert r.exit_code == 2 and "more.yaml:2:" in r.stderr and "duplicate inspection id 'k5'" in r.stderr, r.stderr


def test_records_add_drill_from_its_own_file(cli: Callable[..., Result], tmp_path: Path) -> None:
    ws = make_ws(tmp_path)
    drill = tmp_path / "drill.yaml"
    drill.write_text(textwrap.dedent("""\
        id: dt-2026
        date: 2026-10-15
        kind: live_fire
        title: Diễn tập thực chiến
        scenario: Mã hoá dữ liệu
        systems: [l5]
        timeline:
          - {at: "2026-10-15T08:00", event: attack_started}
          - {at: "2026-10-15T07:59", event: detected}
        """), encoding="utf-8")
    r = cli("records", "add", "drill", drill, "--lang", "en", "--workspace", ws)
    assert r.exit_code == 2 and "drill.yaml:9:" in r.stderr and "earlier than 'attack_started'" in r.stderr, r.stderr
    assert not (ws / "records.d").exists()
    drill.write_text(drill.read_text(encoding="utf-8").replace("07:59", "09:47"), encoding="utf-8")
    r = cli("records", "add", "drill", drill, "--workspace", ws)
    assert r.exit_code == 0, r.stderr
    assert verdict(status(cli, ws, "2026-11-01"), "drill.live_fire_yearly", "2026") == "pass"
    r = ok_json(cli("report", "drill", "dt-2026", "--json", "--on", "2026-11-01", "--workspace", ws))
    assert r["times"]["to_detect"] == 107
    # the same id again is refused
    r = cli("records", "add", "drill", drill, "--lang", "en", "--workspace", ws)
    assert r.exit_code == 2 and "drill.yaml:1:" in r.stderr and "duplicate drill id 'dt-2026'" in r.stderr


def ok_json(r: Result) -> dict[str, object]:
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)  # type: ignore[no-any-return]


def test_a_recorded_file_swapped_for_a_pipe_is_reported_not_waited_on(cli: Callable[..., Result],
                                                                      tmp_path: Path) -> None:
    """`auditor verify` hashes the records files the ledger recorded; a pipe put in the place of one hung it."""
    ws = make_ws(tmp_path, INSPECTIONS)
    r = cli("records", "add", "inspection", "--id", "k6", "--system", "l3", "--date", "2026-05-02", "--performed-by",
            "Công ty Y", "--workspace", ws)
    assert r.exit_code == 0, r.stderr
    recorded = ws / "records.d" / "inspection-k6.yaml"
    recorded.unlink()
    os.mkfifo(recorded)
    r = run_auditor("verify", "--json", "--lang", "en", "--workspace", ws, timeout=60)
    assert r.returncode == 1 and "Traceback" not in r.stderr, (r.stdout, r.stderr)
    assert "not a regular file" in r.stdout and "inspection-k6.yaml" in r.stdout
