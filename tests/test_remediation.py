"""Remediation tracking through the real commands: who must fix a finding and by when (the policy, or an
assignment), `findings show`, reminders unit by unit, and reminder e-mails received by a local SMTP server."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import sqlite3
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from auditor import clock
from auditor.findings.remediation import load_remediation_policy
from auditor.vocabulary import Severity
from auditor.yamlsafe import load_yaml
from tests.conftest import REPO, Result, run_auditor
from tests.console_helpers import ConsoleWorkspace, make_console_workspace
from tests.dossier_helpers import ok


@pytest.fixture
def cw(flow_ws: Path, cli: Callable[..., Result]) -> ConsoleWorkspace:
    return make_console_workspace(cli, flow_ws)


def show(cli: Callable[..., Result], ws: Path, finding: int) -> dict[str, object]:
    return dict(json.loads(ok(cli("findings", "show", str(finding), "--json", "--workspace", ws)).stdout))


def test_a_finding_has_a_unit_a_due_date_and_a_history(cw: ConsoleWorkspace, cli: Callable[..., Result]) -> None:
    listed = cli("findings", "--json", "--workspace", cw.ws)
    assert listed.exit_code == 1  # an open high finding fails the audit
    high = next(f for f in json.loads(listed.stdout)["findings"] if f["severity"] == "high")
    doc = show(cli, cw.ws, high["id"])
    status = doc["remediation_status"]
    assert isinstance(status, dict)
    # the operator of cong-dvc (a level-3 system) must fix a high finding within the policy's days
    days = load_remediation_policy(REPO / "profiles").days(Severity.HIGH, 3)
    assert days is not None
    first = clock.in_vietnam(dt.datetime.fromisoformat(str(high["first_seen"]))).date()
    assert (status["responsible"], status["due_on"], status["state"], status["assigned"]) == (
        "ttcds", (first + dt.timedelta(days=days)).isoformat(), "open", False)
    assert doc["remediation"] and doc["detail"]
    # given to the security unit, in progress, with its own date; both assignments stay in the history
    due = (clock.today() + dt.timedelta(days=5)).isoformat()
    ok(cli("findings", "assign", str(high["id"]), "--to", "so-khcn", "--due", due, "--state", "in_progress",
           "--by", "Trần Thị B", "--note", "Chờ nhà cung cấp", "--workspace", cw.ws))
    ok(cli("findings", "assign", str(high["id"]), "--to", "ttcds", "--state", "fixed", "--by", "Lê Văn C",
           "--workspace", cw.ws))
    doc = show(cli, cw.ws, high["id"])
    status = doc["remediation_status"]
    assert isinstance(status, dict) and isinstance(doc["assignments"], list)
    assert (status["responsible"], status["state"], status["assigned"]) == ("ttcds", "fixed", True)
    assert [a["state"] for a in doc["assignments"]] == ["in_progress", "fixed"]
    assert sum(1 for h in doc["history"] if h["kind"] == "finding.assigned") == 2  # type: ignore[union-attr]
    text = ok(cli("findings", "show", str(high["id"]), "--workspace", cw.ws, "--lang", "en")).stdout
    assert "Responsible unit" in text and "ttcds" in text and "What the check saw" in text
    # what cannot be assigned
    for args, why in ((("--to", "no-such-org"), "unknown organisation"), (("--to", "ttcds", "--state", "done"), "state"),
                      (("--to", "ttcds", "--due", "2001-01-01"), "before the finding was first seen")):
        r = cli("findings", "assign", str(high["id"]), *args, "--by", "x", "--workspace", cw.ws, "--lang", "en")
        assert r.exit_code == 2 and why in r.stderr, (args, r.stderr)
    assert ok(cli("verify", "--workspace", cw.ws)).exit_code == 0
    # an assignment edited in the database is named by verify
    db = sqlite3.connect(cw.ws / ".auditor" / "auditor.sqlite")
    db.execute("UPDATE finding_assignment SET organisation_id = 'ubnd-tinh' WHERE id = 2")
    db.commit()
    db.close()
    r = cli("verify", "--json", "--workspace", cw.ws)
    assert r.exit_code == 1
    assert [(b["where"], b["field"]) for b in json.loads(r.stdout)["breaks"]] == [
        ("finding_assignment/2", "organisation_id")]


def test_reminders_unit_by_unit(cw: ConsoleWorkspace, cli: Callable[..., Result]) -> None:
    doc = json.loads(ok(cli("reminders", "--days", "60", "--json", "--workspace", cw.ws)).stdout)
    items = doc["reminders"]
    kinds = {r["kind"] for r in items}
    assert {"remediation", "dossier", "obligation"} <= kinds, kinds
    # the submitted dossier's appraisal is due from the appraising organisation
    appraisal = [r for r in items if r["kind"] == "dossier"]
    assert appraisal and all(r["responsible"] == "so-khcn" for r in appraisal), appraisal
    # the findings of cong-dvc are for its operator
    assert all(r["responsible"] == "ttcds" for r in items if r["kind"] == "remediation")
    assert items == sorted(items, key=lambda r: r["due"])
    text = ok(cli("reminders", "--workspace", cw.ws, "--lang", "en")).stdout
    assert "Trung tâm Chuyển đổi số" in text


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def test_reminder_mails_reach_each_unit(cw: ConsoleWorkspace, cli: Callable[..., Result],
                                        smtp: tuple[int, Inbox]) -> None:
    port, inbox = smtp
    r = cli("reminders", "--send", "--workspace", cw.ws, "--lang", "en")
    assert r.exit_code == 2 and "notifications.yaml" in r.stderr
    (cw.ws / "notifications.yaml").write_text(
        f"version: 1\nsmtp: {{host: 127.0.0.1, port: {port}, sender: attt-auditor@angiang.gov.vn.invalid}}\n"
        "days: 60\n", encoding="utf-8")
    sent = json.loads(ok(cli("reminders", "--send", "--json", "--workspace", cw.ws)).stdout)
    assert set(sent["sent"]) >= {"ttcds", "so-khcn"}
    to = {m["To"]: m for m in inbox.messages}
    assert set(to) >= {"ttcds@angiang.gov.vn.invalid", "skhcn@angiang.gov.vn.invalid"}
    body = to["ttcds@angiang.gov.vn.invalid"].get_payload(decode=True)
    assert isinstance(body, bytes)
    text = body.decode("utf-8")
    assert "cong-dvc" in text and str(sent["sent"]["ttcds"]) in to["ttcds@angiang.gov.vn.invalid"]["Subject"]
    assert len(inbox.messages) == len(sent["sent"])  # one message per unit
    # the scheduler sends them once a day
    inbox.messages.clear()
    r = cli("schedule", "run", "--once", "--workspace", cw.ws)
    assert r.exit_code == 0, r.stderr
    first = len(inbox.messages)
    assert first == len(sent["sent"])
    r = cli("schedule", "run", "--once", "--workspace", cw.ws)
    assert len(inbox.messages) == first  # not again the same day
    # an SMTP server that is not there: a clear message, exit 2
    (cw.ws / "notifications.yaml").write_text(
        f"version: 1\nsmtp: {{host: 127.0.0.1, port: {port + 1 if port < 65535 else port - 1}, "
        "sender: a@b.invalid}\n", encoding="utf-8")
    r = cli("reminders", "--send", "--workspace", cw.ws, "--lang", "en")
    assert r.exit_code == 2 and "did not take the messages" in r.stderr


def test_terminal_output_at_80_columns_and_status_by_system(cw: ConsoleWorkspace) -> None:
    r = run_auditor("findings", "--workspace", cw.ws, env={"COLUMNS": "80"})
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "dvc-web:443" in r.stdout and "…" not in r.stdout  # a target is never cut
    r = run_auditor("status", "--system", "cong-dvc", "--by", "system", "--json", "--workspace", cw.ws)
    subjects = {o["subject"].split(" ")[0] for o in json.loads(r.stdout)["obligations"]}
    assert subjects == {"cong-dvc"}
    r = run_auditor("status", "--system", "cong-dvc", "--by", "system", "--workspace", cw.ws,
                    env={"COLUMNS": "80", "AUDITOR_LANG": "en"})
    assert r.stdout.startswith("cong-dvc") and "Obligation" in r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) <= 80
    r = run_auditor("status", "--system", "no-such", "--workspace", cw.ws)
    assert r.returncode == 2 and "no-such" in r.stderr
    # inventory list: ids and dates never cut, roles and states by their names, at 80 columns
    r = run_auditor("inventory", "list", "--workspace", cw.ws, env={"COLUMNS": "80"})
    assert r.returncode == 0, r.stderr
    assert max(len(line) for line in r.stdout.splitlines()) <= 80 and "…" not in r.stdout
    ids = [s["id"] for s in load_yaml(cw.ws / "inventory.yaml").data["systems"]]
    assert all(re.search(rf"│ {re.escape(i)} +│", r.stdout) for i in ids), r.stdout
    assert not re.search(r"security_unit|appraiser|\boperator\b|\bowner\b", r.stdout)  # roles by their names
    assert re.search(r"\d\d/\d\d/20\d\d", r.stdout) and not re.search(r"20\d\d-\d\d-\d\d", r.stdout)
    # status in Vietnamese: no internal code of a state, dates as dd/mm/yyyy, counts by severity in words
    r = run_auditor("status", "--workspace", cw.ws, env={"COLUMNS": "200"})
    text = " ".join(r.stdout.replace("│", " ").split())
    assert "hệ thống đang xây dựng" in text and "building" not in text and "planned" not in text
    assert not re.search(r"20\d\d-\d\d-\d\d", text), text
    assert re.search(r"phát hiện đang mở: \d+ (nghiêm trọng|cao|trung bình|thấp)", text), text
    assert not re.search(r"\b(critical|high|medium) \d", text)
