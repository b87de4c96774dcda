"""The web console through its HTTP interface (in-process ASGI client, real SQLite store, real scans and
certificates): who may do what, and the attacks a console must withstand. The real browser runs in
test_console_browser.py."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from auditor.context import workspace_context
from auditor.store.tables import LedgerRow
from auditor.web.app import MAX_BODY, create_app
from auditor.web.permissions import ALLOWED, Action
from tests.conftest import FrozenClock, Result
from tests.console_helpers import ACCOUNTS, PASSWORD, ConsoleWorkspace, csrf_of, make_console_workspace
from tests.dossier_helpers import PASSPHRASE, officer_p12


@pytest.fixture
def console(flow_ws: Path, cli: Callable[..., Result]) -> ConsoleWorkspace:
    return make_console_workspace(cli, flow_ws)


@pytest.fixture
def client(console: ConsoleWorkspace) -> Iterator[TestClient]:
    with TestClient(create_app(console.ws), base_url="https://testserver", follow_redirects=False) as c:
        yield c


def login(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Sign in; the CSRF token of the session."""
    client.cookies.clear()
    form = client.get("/login")
    r = client.post("/login", data={"name": name, "password": password, "csrf": csrf_of(form.text)})
    assert r.status_code == 303
    assert r.headers["location"] != "/login?failed=1", f"{name} could not sign in"
    return csrf_of(client.get(r.headers["location"]).text)


def ledger_head(ws: Path) -> int:
    with workspace_context(ws) as ctx, ctx.store.session() as s:
        row = s.exec(select(LedgerRow).order_by(col(LedgerRow.seq).desc())).first()
        return row.seq if row else 0


def requests(cw: ConsoleWorkspace) -> list[tuple[Action, str, str, dict[str, str], dict[str, tuple[str, bytes]]]]:
    """Every route of the console with the action it needs; forms complete, so that only the role decides, and
    harmless for a role that is allowed (each fails validation, changing nothing)."""
    d, f = cw.dossier, cw.finding
    bogus = {"p12": ("x.p12", b"not a certificate")}
    return [
        (Action.DASHBOARD, "GET", "/", {}, {}),
        (Action.SYSTEMS, "GET", "/systems", {}, {}),
        (Action.SYSTEMS, "GET", "/systems/cong-dvc", {}, {}),
        (Action.FINDINGS, "GET", "/findings", {}, {}),
        (Action.START_SCAN, "POST", "/systems/cong-dvc/scan", {"families": "no-such-family"}, {}),
        (Action.FINDINGS, "GET", f"/findings/{f}", {}, {}),
        (Action.ACCEPT_RISK, "POST", f"/findings/{f}/accept",
         {"justification": "x", "until": "2026-12-01", "passphrase": "x"}, bogus),
        (Action.ASSIGN_FINDING, "POST", f"/findings/{f}/assign", {"organisation": "no-such-org"}, {}),
        (Action.DOSSIERS, "GET", "/dossiers", {}, {}),
        (Action.DOSSIERS, "GET", f"/dossiers/{d}", {}, {}),
        (Action.DOSSIERS, "GET", f"/dossiers/{d}/document", {}, {}),
        (Action.CREATE_DOSSIER, "POST", "/dossiers", {"system": "no-such-system"}, {}),
        (Action.SUBMIT_DOSSIER, "POST", f"/dossiers/{d}/submit", {"signer": "x"}, {}),
        (Action.APPRAISE_DOSSIER, "POST", f"/dossiers/{d}/appraise", {"opinion": "agree", "passphrase": "x"}, bogus),
        (Action.APPROVE_DOSSIER, "POST", f"/dossiers/{d}/approve", {"decision": "1/QĐ", "passphrase": "x"}, bogus),
        (Action.RETURN_DOSSIER, "POST", f"/dossiers/{d}/return", {"reason": " ", "signer": "x"}, {}),
        (Action.RECORDS, "GET", "/records", {}, {}),
        (Action.RECORDS, "GET", "/records/evidence/999", {}, {}),
        (Action.ADD_RECORD, "POST", "/records/evidence", {"record": "inspection/no-such"},
         {"file": ("a.pdf", b"%PDF-1.4 x")}),
        (Action.ADD_RECORD, "POST", "/records/inspection", {"record_id": "kt-x", "date": "2026-13-01",
                                                            "performed_by": "x", "system": "cong-dvc"}, {}),
        (Action.VERIFY_FILE, "GET", "/reports", {}, {}),
        (Action.REPORTS, "GET", "/reports/1/files/0", {}, {}),
        (Action.PUBLISH_REPORT, "POST", "/reports/annual", {"year": "1999"}, {}),
        (Action.VERIFY_FILE, "POST", "/verify", {}, {"file": ("a.txt", b"hello")}),
        (Action.ACCOUNTS, "GET", "/accounts", {}, {}),
        (Action.ACCOUNTS, "POST", "/accounts", {"name": "x1", "role": "leader", "organisation": "so-khcn",
                                                "password": "short"}, {}),
    ]


def test_every_role_against_every_route(console: ConsoleWorkspace, client: TestClient,
                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="auditor.web")
    routes = requests(console)
    assert {a for a, *_rest in routes} == set(Action), "a console action has no route in the matrix"
    for name, (role, _org, _full) in ACCOUNTS.items():
        csrf = login(client, name)
        for action, method, path, data, files in routes:
            may = role in {r.value for r in ALLOWED[action]}
            before = ledger_head(console.ws)
            caplog.clear()
            r = (client.get(path) if method == "GET"
                 else client.post(path, data={**data, "csrf": csrf}, files=files or None))
            where = f"{name} ({role}) {method} {path}"
            if may:
                assert r.status_code not in (401, 403), where
                assert r.status_code in (200, 303, 400, 404), (where, r.status_code, r.text[:300])
            else:
                assert r.status_code == 403, (where, r.status_code)
                assert ledger_head(console.ws) == before, f"{where}: a refusal changed the ledger"
                assert any("refused" in m and name in m for m in caplog.messages), f"{where}: refusal not logged"
    assert ledger_head(console.ws) > 0


def api_requests(cw: ConsoleWorkspace) -> list[tuple[Action, str, str, dict[str, object] | None,
                                                    dict[str, tuple[str, bytes]] | None]]:
    """Every API route with the action it needs; harmless for a role that is allowed."""
    d, f = cw.dossier, cw.finding
    return [
        (Action.VERIFY_FILE, "GET", "/api/v1/me", None, None),
        (Action.DASHBOARD, "GET", "/api/v1/dashboard", None, None),
        (Action.SYSTEMS, "GET", "/api/v1/systems", None, None),
        (Action.FINDINGS, "GET", "/api/v1/findings", None, None),
        (Action.FINDINGS, "GET", f"/api/v1/findings/{f}", None, None),
        (Action.DOSSIERS, "GET", "/api/v1/dossiers", None, None),
        (Action.DOSSIERS, "GET", f"/api/v1/dossiers/{d}", None, None),
        (Action.CREATE_DOSSIER, "POST", "/api/v1/dossiers", {"system": "no-such-system"}, None),
        (Action.SUBMIT_DOSSIER, "POST", f"/api/v1/dossiers/{d}/submit", {"signer": "x"}, None),
        (Action.RETURN_DOSSIER, "POST", f"/api/v1/dossiers/{d}/return", {"signer": "x", "reason": " "}, None),
        (Action.RECORDS, "GET", "/api/v1/records", None, None),
        (Action.REPORTS, "GET", "/api/v1/reports", None, None),
        (Action.VERIFY_FILE, "POST", "/api/v1/verify", None, {"file": ("a.txt", b"hello")}),
        (Action.START_SCAN, "POST", "/api/v1/scans", {"system": "cong-dvc", "families": ["no-such"]}, None),
        (Action.SYSTEMS, "GET", "/api/v1/scans/99", None, None),
    ]


def test_every_role_against_every_api_route(console: ConsoleWorkspace, client: TestClient,
                                            cli: Callable[..., Result]) -> None:
    for name, (role, _org, _full) in ACCOUNTS.items():
        r = cli("users", "token", name, "--workspace", console.ws)
        token = r.stdout.strip()
        for action, method, path, body, files in api_requests(console):
            before = ledger_head(console.ws)
            headers = {"authorization": f"Bearer {token}"}
            r = (client.get(path, headers=headers) if method == "GET"
                 else client.post(path, json=body, files=files, headers=headers))
            where = f"{name} ({role}) {method} {path}"
            if role in {x.value for x in ALLOWED[action]}:
                assert r.status_code in (200, 400, 404), (where, r.status_code, r.text[:300])
            else:
                assert r.status_code == 403, (where, r.status_code, r.text[:200])
                assert ledger_head(console.ws) == before, where


def test_the_api_by_token_follows_the_same_roles(console: ConsoleWorkspace, client: TestClient,
                                                 cli: Callable[..., Result]) -> None:
    tokens = {}
    for name in ("vanhanh", "lanhdao", "quantri"):
        r = cli("users", "token", name, "--workspace", console.ws)
        assert r.exit_code == 0, r.stderr
        tokens[name] = r.stdout.strip()
    assert client.get("/api/v1/findings").status_code == 401
    assert client.get("/api/v1/findings", headers={"authorization": "Bearer aud_wrong"}).status_code == 401
    got = client.get("/api/v1/findings", headers={"authorization": f"Bearer {tokens['vanhanh']}"})
    assert got.status_code == 200
    assert any(f["id"] == console.finding for f in got.json()["findings"])
    assert client.get("/api/v1/findings", headers={"authorization": f"Bearer {tokens['quantri']}"}).status_code == 403
    dossiers = client.get("/api/v1/dossiers", headers={"authorization": f"Bearer {tokens['lanhdao']}"}).json()
    assert [d["state"] for d in dossiers["dossiers"]] == ["submitted"]
    # an operator builds a dossier of a system its organisation runs; the leader may not
    body = {"system": "wiki-l1"}
    assert client.post("/api/v1/dossiers", json=body,
                       headers={"authorization": f"Bearer {tokens['lanhdao']}"}).status_code == 403
    made = client.post("/api/v1/dossiers", json=body, headers={"authorization": f"Bearer {tokens['vanhanh']}"})
    assert made.status_code == 200 and made.json()["state"] == "draft"
    assert client.get("/api/docs").status_code == 404  # the Swagger page would load its script from a CDN
    schema = client.get("/api/openapi.json").json()
    assert "/api/v1/dossiers" in schema["paths"] and "/api/v1/findings/{finding_id}" in schema["paths"]
    # no token is ever stored: only its hash
    db = sqlite3.connect(console.ws / ".auditor" / "auditor.sqlite")
    dump = "\n".join(db.iterdump())
    assert all(t not in dump for t in tokens.values())
    assert PASSWORD not in dump


def test_forms_need_their_csrf_token(console: ConsoleWorkspace, client: TestClient) -> None:
    csrf = login(client, "vanhanh")
    form = {"signer": "Lê Văn C"}
    before = ledger_head(console.ws)
    draft = client.post("/api/v1/dossiers")  # (the API is not the cookie session's: no token, no entry)
    assert draft.status_code == 401
    for token in (None, "", "wrong-token", csrf[:-1] + ("A" if csrf[-1] != "A" else "B")):
        data = dict(form) if token is None else {**form, "csrf": token}
        r = client.post("/dossiers", data={"system": "wiki-l1", **data})
        assert r.status_code == 403, token
    assert ledger_head(console.ws) == before
    r = client.post("/dossiers", data={"system": "wiki-l1", "csrf": csrf})
    assert r.status_code == 303 and r.headers["location"].startswith("/dossiers/")
    assert ledger_head(console.ws) > before
    # another session's token is no good either
    other = login(client, "canbo")
    assert other != csrf


def test_session_cookie_is_new_at_every_sign_in_and_protected(console: ConsoleWorkspace, client: TestClient) -> None:
    form = client.get("/login")
    r = client.post("/login", data={"name": "canbo", "password": PASSWORD, "csrf": csrf_of(form.text)})
    cookie = r.headers["set-cookie"]
    assert "auditor_session=" in cookie
    for flag in ("HttpOnly", "Secure", "SameSite=strict"):
        assert flag.lower() in cookie.lower(), cookie
    first = client.cookies.get("auditor_session")
    assert client.get("/dossiers").status_code == 200

    def sign_in_with(cookie: str) -> str:
        client.cookies.clear()
        client.cookies.set("auditor_session", cookie)
        form = client.get("/login")
        r = client.post("/login", data={"name": "canbo", "password": PASSWORD, "csrf": csrf_of(form.text)})
        return r.headers["set-cookie"].split("auditor_session=", 1)[1].split(";", 1)[0]

    def works(cookie: str) -> bool:
        client.cookies.clear()
        client.cookies.set("auditor_session", cookie)
        return client.get("/dossiers").status_code == 200

    # signing in again from a browser that holds a session: a new id, and the old one is over
    second = sign_in_with(first)
    assert second != first and works(second) and not works(first)
    # an attacker plants a session id before the victim signs in: it is never adopted
    planted = "attacker-chosen-session-id"
    third = sign_in_with(planted)
    assert third != planted and not works(planted) and works(third)
    csrf = csrf_of(client.get("/dossiers").text)
    assert client.post("/logout", data={"csrf": csrf}).status_code == 303
    assert client.get("/dossiers").status_code == 303  # signed out: back to the sign-in page
    # the sign-in form itself carries a token
    r = client.post("/login", data={"name": "canbo", "password": PASSWORD, "csrf": "forged"})
    assert r.headers["location"] == "/login?failed=1"


def test_lockout_after_repeated_failures(console: ConsoleWorkspace, client: TestClient, frozen: FrozenClock) -> None:
    for _attempt in range(5):
        form = client.get("/login")
        r = client.post("/login", data={"name": "lanhdao", "password": "wrong password!", "csrf": csrf_of(form.text)})
        assert r.headers["location"] == "/login?failed=1"
    form = client.get("/login")
    r = client.post("/login", data={"name": "lanhdao", "password": PASSWORD, "csrf": csrf_of(form.text)})
    assert r.headers["location"] == "/login?failed=1", "the right password opened a locked account"
    frozen.advance(dt.timedelta(minutes=16))
    assert login(client, "lanhdao")
    # an unknown account is refused the same way (the answer does not tell names apart)
    form = client.get("/login")
    r = client.post("/login", data={"name": "khong-ton-tai", "password": PASSWORD, "csrf": csrf_of(form.text)})
    assert r.headers["location"] == "/login?failed=1"


def test_an_account_edited_in_the_database_cannot_sign_in(console: ConsoleWorkspace, client: TestClient,
                                                          cli: Callable[..., Result]) -> None:
    csrf = login(client, "vanhanh")
    assert client.get("/accounts").status_code == 403
    db = sqlite3.connect(console.ws / ".auditor" / "auditor.sqlite")
    db.execute("UPDATE account SET role = 'admin' WHERE name = 'vanhanh'")
    db.commit()
    db.close()
    assert client.get("/accounts").status_code == 303  # the live session ends too
    assert csrf
    form = client.get("/login")
    r = client.post("/login", data={"name": "vanhanh", "password": PASSWORD, "csrf": csrf_of(form.text)})
    assert r.headers["location"] == "/login?failed=1"
    listed = cli("users", "list", "--json", "--workspace", console.ws)
    state = {a["name"]: a["matches_ledger"] for a in json.loads(listed.stdout)["accounts"]}
    assert state == {"canbo": True, "lanhdao": True, "quantri": True, "vanhanh": False}
    r = cli("verify", "--json", "--workspace", console.ws)
    assert r.exit_code == 1
    assert [(b["where"], b["kind"]) for b in json.loads(r.stdout)["breaks"]] == [("account/vanhanh", "row_altered")], \
        r.stdout


def test_hostile_text_is_shown_as_text(flow_ws: Path, cli: Callable[..., Result]) -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    inv = flow_ws / "inventory.yaml"
    text = inv.read_text(encoding="utf-8")
    inv.write_text(text.replace("name: Trang tin nội bộ", f"name: '{hostile}'"), encoding="utf-8")
    cw = make_console_workspace(cli, flow_ws)
    with TestClient(create_app(cw.ws), base_url="https://testserver", follow_redirects=False) as client:
        login(client, "lanhdao")
        for path in ("/systems", "/systems/wiki-l1"):
            page = client.get(path)
            assert page.status_code == 200
            assert "<script>alert" not in page.text and "<img src=x" not in page.text
            assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
            assert "script-src 'self'" in page.headers["content-security-policy"]
        # an account's name and a record's fields, typed by people, are text too
        r = cli("users", "add", "hostile", "--role", "officer", "--org", "so-khcn", "--name", hostile,
                "--workspace", cw.ws, env={"AUDITOR_ACCOUNT_PASSWORD": PASSWORD})
        assert r.exit_code == 0, r.stderr
        csrf = login(client, "hostile")
        r = client.post("/records/inspection", data={"record_id": "kt-xss", "date": "2026-11-20", "system": "wiki-l1",
                                                     "performed_by": hostile, "summary": hostile, "csrf": csrf})
        assert r.status_code == 303, r.text[:300]
        for path in ("/records", "/dossiers", f"/findings/{cw.finding}"):
            page = client.get(path)
            assert page.status_code == 200, path
            assert "<script>alert" not in page.text and "<img src=x" not in page.text, path
        # SQL metacharacters in a filter are a value like any other
        r = client.get("/findings", params={"system": "' OR 1=1 --"})
        assert r.status_code == 200 and "/findings/" not in r.text
        r = client.get("/findings", params={"system": "cong-dvc"})
        assert f"/findings/{cw.finding}" in r.text


def test_downloads_stay_in_the_reports_folder(console: ConsoleWorkspace, client: TestClient,
                                             tmp_path: Path) -> None:
    csrf = login(client, "lanhdao")
    r = client.post("/reports/annual", data={"year": "2026", "csrf": csrf})
    assert r.status_code == 303, r.text[:300]
    listing = client.get("/reports").text
    assert "/reports/1/files/0" in listing
    got = client.get("/reports/1/files/0")
    assert got.status_code == 200 and "attachment" in got.headers["content-disposition"]
    for path in ("/reports/1/files/..%2f..%2f..%2fetc%2fpasswd", "/reports/1/files/99", "/reports/1/files/-1",
                 "/reports/../../etc/passwd", "/static/..%2f..%2f..%2f..%2fetc%2fpasswd"):
        r = client.get(path)
        assert r.status_code in (404, 422), (path, r.status_code)
        assert "root:" not in r.text
    # a file swapped for a link to a secret is not served
    out = console.ws / "reports-out"
    name = sorted(p.name for p in out.iterdir())[0]
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0\n")
    (out / name).unlink()
    (out / name).symlink_to(secret)
    r = client.get("/reports/1/files/0")
    assert r.status_code == 404 and "root:" not in r.text


def test_uploads_are_bounded_and_checked(console: ConsoleWorkspace, client: TestClient) -> None:
    csrf = login(client, "canbo")
    before = ledger_head(console.ws)
    big = b"0" * (MAX_BODY + 1)
    r = client.post(f"/findings/{console.finding}/accept", data={"justification": "x", "until": "2026-12-31",
                                                                  "csrf": csrf}, files={"p12": ("a.p12", big)})
    assert r.status_code == 413
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    r = client.post(f"/findings/{console.finding}/accept", data={"justification": "x", "until": "2026-12-31",
                                                                  "csrf": csrf, "passphrase": PASSPHRASE},
                    files={"p12": ("chung-thu.p12", png)})
    assert r.status_code == 400 and "PKCS#12" in r.text
    assert ledger_head(console.ws) == before
    # the real certificate, the wrong passphrase
    r = client.post(f"/findings/{console.finding}/accept", data={"justification": "x", "until": "2026-12-31",
                                                                  "csrf": csrf, "passphrase": "sai"},
                    files={"p12": ("attt-so.p12", officer_p12(console.ws, "attt-so").read_bytes())})
    assert r.status_code == 400
    assert ledger_head(console.ws) == before
    # and the right one: the risk is accepted, signed, with the account in the ledger's history
    r = client.post(f"/findings/{console.finding}/accept",
                    data={"justification": "Máy chủ thử nghiệm, chờ thay thế", "until": "2026-12-31", "csrf": csrf,
                          "passphrase": PASSPHRASE},
                    files={"p12": ("attt-so.p12", officer_p12(console.ws, "attt-so").read_bytes())})
    assert r.status_code == 303, r.text[:400]
    page = client.get(f"/findings/{console.finding}").text
    assert "Máy chủ thử nghiệm, chờ thay thế" in page and "finding.accepted" in page


def test_a_certificate_of_another_organisation_is_refused(console: ConsoleWorkspace, client: TestClient) -> None:
    """Through the console an account signs only with a certificate of its own organisation."""
    csrf = login(client, "canbo")  # so-khcn
    before = ledger_head(console.ws)
    r = client.post(f"/dossiers/{console.dossier}/appraise",
                    data={"opinion": "agree", "csrf": csrf, "passphrase": PASSPHRASE},
                    files={"p12": ("chu-quan.p12", officer_p12(console.ws, "chu-quan").read_bytes())})
    assert r.status_code == 400 and "canbo" in r.text
    assert ledger_head(console.ws) == before


def test_records_with_evidence_files(console: ConsoleWorkspace, client: TestClient, cli: Callable[..., Result]) -> None:
    csrf = login(client, "canbo")
    assert client.post("/lang", data={"lang": "en", "csrf": csrf}).status_code == 303  # messages in English
    r = client.post("/records/inspection", data={"record_id": "kt-2026-cong-dvc", "date": "2026-11-20",
                                                 "performed_by": "Trung tâm Giám sát an toàn không gian mạng",
                                                 "system": "cong-dvc", "independent": "1", "findings_count": "2",
                                                 "csrf": csrf})
    assert r.status_code == 303, r.text[:400]
    pdf = b"%PDF-1.4\n% bien ban kiem tra\n" + b"0" * 2000
    r = client.post("/records/evidence", data={"record": "inspection/kt-2026-cong-dvc", "csrf": csrf},
                    files={"file": ("Biên bản kiểm tra.pdf", pdf)})
    assert r.status_code == 303, r.text[:400]
    page = client.get("/records").text
    link = re.search(r'href="(/records/evidence/(\d+))"', page)
    assert link, page[:2000]
    got = client.get(link.group(1))
    assert got.status_code == 200 and got.content == pdf
    before = ledger_head(console.ws)
    for name, data, why in (("anh.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "not a PDF"),
                            ("chay.exe", b"MZ" + b"0" * 100, "evidence is one of"),
                            ("rong.pdf", b"", "empty")):
        r = client.post("/records/evidence", data={"record": "inspection/kt-2026-cong-dvc", "csrf": csrf},
                        files={"file": (name, data)})
        assert r.status_code == 400 and why in r.text, (name, r.status_code, r.text[:300])
    r = client.post("/records/evidence", data={"record": "inspection/kt-2026-cong-dvc", "csrf": csrf},
                    files={"file": ("lon.pdf", b"%PDF-" + b"0" * MAX_BODY)})
    assert r.status_code == 413
    assert ledger_head(console.ws) == before
    assert cli("verify", "--workspace", console.ws).exit_code == 0
    # evidence changed on disk: verify names it, and the console no longer hands it out
    stored = next((console.ws / "evidence").rglob("*.pdf"))
    stored.write_bytes(pdf.replace(b"bien ban", b"BIEN BAN"))
    r = cli("verify", "--json", "--workspace", console.ws)
    assert r.exit_code == 1
    assert any(stored.name in b["where"] + b["message"] for b in json.loads(r.stdout)["breaks"]), r.stdout
    assert client.get(link.group(1)).status_code == 404


def test_an_operator_starts_a_scan_from_the_console(console: ConsoleWorkspace, client: TestClient) -> None:
    csrf = login(client, "vanhanh")
    page = client.get("/systems/cong-dvc").text
    assert 'id="form-scan"' in page
    r = client.post("/systems/cong-dvc/scan", data={"families": ["tls"], "csrf": csrf})
    assert r.status_code == 303
    jobs = client.app.state.jobs  # type: ignore[attr-defined]
    jobs.wait(120)
    job = jobs.of_system("cong-dvc")[0]
    assert job.state == "done", job.message
    with workspace_context(console.ws) as ctx, ctx.store.session() as s:
        last = s.exec(select(LedgerRow).where(LedgerRow.kind == "scan.completed")
                      .order_by(col(LedgerRow.seq).desc())).first()
    assert last is not None and last.payload["by"] == "vanhanh" and last.payload["run"] == job.runs[0]
    assert "job-done" in client.get("/systems/cong-dvc").text
    # the officer sees the system but not the scan form, and may not start one
    csrf = login(client, "canbo")
    assert 'id="form-scan"' not in client.get("/systems/cong-dvc").text
    assert client.post("/systems/cong-dvc/scan", data={"families": ["tls"], "csrf": csrf}).status_code == 403


def test_the_language_switch_returns_only_to_this_site(console: ConsoleWorkspace, client: TestClient) -> None:
    csrf = login(client, "lanhdao")
    for target, expected in (("/systems", "/systems"), ("//evil.example/x", "/"), ("https://evil.example/", "/"),
                             ("/\\evil.example", "/")):
        r = client.post("/lang", data={"lang": "en", "next": target, "csrf": csrf})
        assert r.status_code == 303 and r.headers["location"] == expected, target
    assert 'id="nav-systems">Systems<' in client.get("/systems").text
    r = client.post("/lang", data={"lang": "vi", "next": "/systems", "csrf": csrf})
    assert 'id="nav-systems">Hệ thống<' in client.get("/systems").text


def test_a_store_that_fails_mid_request_is_said_plainly(console: ConsoleWorkspace, client: TestClient) -> None:
    """Another writer holds the SQLite store beyond the busy timeout: the page says the store is busy and that
    nothing was changed (503), as the command line does, instead of an internal server error."""
    csrf = login(client, "canbo")
    assert client.post("/lang", data={"lang": "en", "csrf": csrf}).status_code == 303
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(console.ws / ".auditor" / "auditor.sqlite", isolation_level=None, timeout=30)
        conn.execute("BEGIN IMMEDIATE")
        held.set()
        release.wait(60)
        conn.execute("ROLLBACK")
        conn.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(30)
        before = ledger_head(console.ws)
        r = client.post(f"/findings/{console.finding}/assign", data={"organisation": "ttcds", "csrf": csrf})
        assert r.status_code == 503, r.text[:2000]
        assert "The store failed" in r.text and "busy" in r.text and "nothing was changed" in r.text
    finally:
        release.set()
        holder.join(30)
    assert ledger_head(console.ws) == before
    r = client.post(f"/findings/{console.finding}/assign", data={"organisation": "ttcds", "csrf": csrf})
    assert r.status_code == 303 and ledger_head(console.ws) == before + 1  # once free, the same request works
