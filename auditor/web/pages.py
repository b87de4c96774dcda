"""The console's pages. Each route parses the request, checks who may do it, calls one service, and renders."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from auditor import clock
from auditor.context import Context
from auditor.i18n import LANGUAGES, _, get_language
from auditor.identity.signer import CertSigner, open_signer
from auditor.problems import UserError
from auditor.scan import FAMILIES
from auditor.services import accounts, dossiers, findings, overview, records, reports, verification
from auditor.services.overview import NotFound
from auditor.web.guard import (
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    context,
    log,
    need,
    signed_in,
)
from auditor.web.permissions import Action, allowed, home
from auditor.web.render import page

router = APIRouter(include_in_schema=False)
Ctx = Annotated[Context, Depends(context)]
Csrf = Annotated[str, Form()]
MAX_P12 = 64 << 10
MAX_VERIFY = 8 << 20
DOCUMENT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"


def _cookie(response: Response, name: str, value: str, *, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="strict")


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _day(value: str | None) -> dt.date:
    if not value:
        return clock.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError(_("not a valid date (YYYY-MM-DD): {value!r}").format(value=value[:40])) from None


def _read(upload: UploadFile | None, limit: int, what: str) -> bytes:
    if upload is None:
        raise UserError(_("{what}: no file was sent").format(what=what))
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise UserError(_("{what}: the file is larger than {n} bytes").format(what=what, n=limit))
    if not data:
        raise UserError(_("{what}: the file is empty").format(what=what))
    return data


@contextmanager
def _uploaded_signer(p12: UploadFile | None, passphrase: str) -> Iterator[CertSigner]:
    """The officer's PKCS#12 file and passphrase, as sent with the form: used for this one signature, in memory,
    never stored or logged."""
    data = _read(p12, MAX_P12, _("certificate (PKCS#12)"))
    if data[:1] != b"\x30":
        raise UserError(_("certificate (PKCS#12): not a PKCS#12 file"))
    with open_signer(p12_data=data, passphrase=passphrase) as signer:
        yield signer


# sign-in, sign-out, language

@router.get("/login")
def login_form(request: Request, ctx: Ctx, failed: int = 0) -> Response:
    token = secrets.token_urlsafe(32)
    response = page(request, "login.j2", None, login_csrf=token, failed=bool(failed))
    _cookie(response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.post("/login")
def login(request: Request, ctx: Ctx, name: Annotated[str, Form()], password: Annotated[str, Form()],
          csrf: Csrf = "") -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(csrf.encode(), expected.encode()):
        log.warning("refused: sign-in form without its CSRF token")
        return _see("/login?failed=1")
    with ctx.store.session() as s:
        accounts.close_session(s, request.cookies.get(SESSION_COOKIE))  # a new session id at every sign-in
        account = accounts.authenticate(s, name, password)
        if account is None:
            log.warning("sign-in failed for %r", name[:64])
            failed = True
        else:
            failed = False
            token, _csrf = accounts.open_session(s, account)
    if failed or account is None:
        return _see("/login?failed=1")
    log.info("signed in: %s (%s)", account.name, account.role.value)
    response = _see(home(account.role))
    _cookie(response, SESSION_COOKIE, token)
    _cookie(response, LANG_COOKIE, account.lang)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, ctx: Ctx, csrf: Csrf = "") -> Response:
    user = signed_in(request, ctx)
    check_csrf(request, user, csrf)
    with ctx.store.session() as s:
        accounts.close_session(s, request.cookies.get(SESSION_COOKIE))
    response = _see("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/lang")
def set_lang(request: Request, ctx: Ctx, lang: Annotated[str, Form()], next_page: Annotated[str, Form(alias="next")] = "/",
             csrf: Csrf = "") -> Response:
    user = signed_in(request, ctx)
    check_csrf(request, user, csrf)
    if lang not in LANGUAGES:
        raise UserError(_("the language is vi or en"))
    with ctx.store.session() as s:
        accounts.set_language(s, user.account.name, lang)
    # back to the page it was asked from: a path of this site only (never //host or a scheme)
    local = next_page.startswith("/") and not next_page.startswith("//") and "\\" not in next_page
    response = _see(next_page if local else "/")
    _cookie(response, LANG_COOKIE, lang)
    return response


# the dashboard, systems, findings

@router.get("/")
def dashboard(request: Request, ctx: Ctx) -> Response:
    user = need(request, ctx, Action.DASHBOARD)
    board = overview.dashboard(ctx, clock.today())
    return page(request, "dashboard.j2", user, board=board, r=board.snapshot)


@router.get("/systems")
def systems(request: Request, ctx: Ctx) -> Response:
    user = need(request, ctx, Action.SYSTEMS)
    return page(request, "systems.j2", user, systems=overview.systems_overview(ctx, clock.today()))


@router.get("/systems/{system_id}")
def system(request: Request, ctx: Ctx, system_id: str) -> Response:
    user = need(request, ctx, Action.SYSTEMS)
    sysdef = ctx.loaded.inventory.system(system_id)
    if sysdef is None:
        raise NotFound(_("unknown system {ref!r}").format(ref=system_id[:80]))
    today = clock.today()
    summary = next(s for s in overview.systems_overview(ctx, today) if s.system.id == system_id)
    with ctx.store.session() as s:
        found = findings.list_for(s, today, system_id)
    return page(request, "system.j2", user, s=summary, inv=ctx.loaded.inventory, findings=found,
                dossiers=dossiers.list_dossiers(ctx, today, system=system_id),
                history=overview.history(ctx, [f"system/{system_id}"]), families=FAMILIES,
                jobs=request.app.state.jobs.of_system(system_id))


@router.post("/systems/{system_id}/scan")
def system_scan(request: Request, ctx: Ctx, system_id: str, families: Annotated[list[str], Form()],
                csrf: Csrf = "") -> Response:
    user = need(request, ctx, Action.START_SCAN)
    check_csrf(request, user, csrf)
    ctx.check_systems([system_id])
    request.app.state.jobs.start(user.account.name, families, [system_id], get_language())
    return _see(f"/systems/{system_id}")


@router.get("/findings")
def findings_list(request: Request, ctx: Ctx, system: str | None = None) -> Response:
    user = need(request, ctx, Action.FINDINGS)
    with ctx.store.session() as s:
        found = findings.list_for(s, clock.today(), system)
    return page(request, "findings.j2", user, findings=found, system=system)


@router.get("/findings/{finding_id}")
def finding(request: Request, ctx: Ctx, finding_id: int) -> Response:
    user = need(request, ctx, Action.FINDINGS)
    detail = overview.finding_detail(ctx, finding_id, clock.today())
    return page(request, "finding.j2", user, f=detail, history=detail.history, today=clock.today().isoformat(),
                organisations=ctx.loaded.inventory.organisations)


@router.post("/findings/{finding_id}/accept")
def accept(request: Request, ctx: Ctx, finding_id: int, justification: Annotated[str, Form()],
           until: Annotated[str, Form()], passphrase: Annotated[str, Form()] = "", p12: UploadFile | None = None,
           csrf: Csrf = "") -> Response:
    user = need(request, ctx, Action.ACCEPT_RISK)
    check_csrf(request, user, csrf)
    with _uploaded_signer(p12, passphrase) as signer:
        findings.accept_finding(ctx, finding_id, signer, justification=justification, until=_day(until),
                                account=user.account)
    return _see(f"/findings/{finding_id}")


@router.post("/findings/{finding_id}/assign")
def assign(request: Request, ctx: Ctx, finding_id: int, organisation: Annotated[str, Form()],
           state: Annotated[str, Form()] = "open", due: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
           csrf: Csrf = "") -> Response:
    user = need(request, ctx, Action.ASSIGN_FINDING)
    check_csrf(request, user, csrf)
    findings.assign_finding(ctx, finding_id, organisation=organisation, due_on=_day(due) if due else None,
                            state=state, note=note, by=user.account.name)
    return _see(f"/findings/{finding_id}")


# dossiers

@router.get("/dossiers")
def dossier_list(request: Request, ctx: Ctx) -> Response:
    user = need(request, ctx, Action.DOSSIERS)
    return page(request, "dossiers.j2", user, dossiers=dossiers.list_dossiers(ctx, clock.today()),
                systems=ctx.loaded.inventory.systems)


@router.post("/dossiers")
def dossier_create(request: Request, ctx: Ctx, system: Annotated[str, Form()], csrf: Csrf = "") -> Response:
    user = need(request, ctx, Action.CREATE_DOSSIER)
    check_csrf(request, user, csrf)
    row = dossiers.create_dossier(ctx, system, on=clock.today(), account=user.account)
    return _see(f"/dossiers/{row.id}")


@router.get("/dossiers/{dossier_id}")
def dossier(request: Request, ctx: Ctx, dossier_id: int) -> Response:
    user = need(request, ctx, Action.DOSSIERS)
    view = _dossier(ctx, dossier_id)
    signed = dossiers.signed_pdf(ctx, dossier_id)
    return page(request, "dossier.j2", user, d=view.row, view=view, signed=signed is not None,
                inv=ctx.loaded.inventory, history=overview.history(ctx, [f"dossier/{dossier_id}"]),
                today=clock.today().isoformat())


def _dossier(ctx: Context, dossier_id: int) -> dossiers.DossierView:
    try:
        return dossiers.get_dossier(ctx, dossier_id, clock.today())
    except dossiers.WorkflowError:
        raise NotFound(_("no dossier has the id {id}").format(id=dossier_id)) from None


@router.get("/dossiers/{dossier_id}/document")
def dossier_document(request: Request, ctx: Ctx, dossier_id: int) -> Response:
    need(request, ctx, Action.DOSSIERS)
    _dossier(ctx, dossier_id)
    # the document's own stylesheet is inline (it is also the PDF's); nothing else in it may load or run
    return HTMLResponse(dossiers.document_html(ctx, dossier_id), headers={"content-security-policy": DOCUMENT_CSP})


@router.get("/dossiers/{dossier_id}/pdf")
def dossier_pdf(request: Request, ctx: Ctx, dossier_id: int) -> Response:
    need(request, ctx, Action.DOSSIERS)
    _dossier(ctx, dossier_id)
    signed = dossiers.signed_pdf(ctx, dossier_id)
    if signed is None:
        raise NotFound(_("the dossier has not been signed yet"))
    return _download(*signed)


def _download(name: str, data: bytes) -> Response:
    kinds = {"pdf": "application/pdf", "html": "text/html; charset=utf-8", "json": "application/json",
             "csv": "text/csv; charset=utf-8"} | {k: v[1] for k, v in records.KINDS.items()}
    kind = kinds.get(name.rsplit(".", 1)[-1], "application/octet-stream")
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in name)
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
    return Response(data, media_type=kind, headers={"content-disposition": disposition})


@router.post("/dossiers/{dossier_id}/submit")
def dossier_submit(request: Request, ctx: Ctx, dossier_id: int, signer: Annotated[str, Form()],
                   on: Annotated[str, Form()] = "", csrf: Csrf = "") -> Response:
    user = need(request, ctx, Action.SUBMIT_DOSSIER)
    check_csrf(request, user, csrf)
    dossiers.submit_dossier(ctx, dossier_id, org=user.account.organisation, signer=signer, on=_day(on),
                            account=user.account)
    return _see(f"/dossiers/{dossier_id}")


@router.post("/dossiers/{dossier_id}/appraise")
def dossier_appraise(request: Request, ctx: Ctx, dossier_id: int, opinion: Annotated[str, Form()],
                     conditions: Annotated[str, Form()] = "", on: Annotated[str, Form()] = "",
                     passphrase: Annotated[str, Form()] = "", p12: UploadFile | None = None,
                     csrf: Csrf = "") -> Response:
    user = need(request, ctx, Action.APPRAISE_DOSSIER)
    check_csrf(request, user, csrf)
    with _uploaded_signer(p12, passphrase) as signer:
        dossiers.appraise_dossier(ctx, dossier_id, signer, opinion=opinion, conditions=conditions.strip() or None,
                                  on=_day(on), account=user.account)
    return _see(f"/dossiers/{dossier_id}")


@router.post("/dossiers/{dossier_id}/approve")
def dossier_approve(request: Request, ctx: Ctx, dossier_id: int, decision: Annotated[str, Form()],
                    level: Annotated[str, Form()] = "", on: Annotated[str, Form()] = "",
                    passphrase: Annotated[str, Form()] = "", p12: UploadFile | None = None,
                    csrf: Csrf = "") -> Response:
    user = need(request, ctx, Action.APPROVE_DOSSIER)
    check_csrf(request, user, csrf)
    if level and not level.isdigit():
        raise UserError(_("a level is between 1 and 5"))
    with _uploaded_signer(p12, passphrase) as signer:
        dossiers.approve_dossier(ctx, dossier_id, signer, decision_number=decision,
                                 level=int(level) if level else None, on=_day(on), account=user.account)
    return _see(f"/dossiers/{dossier_id}")


@router.post("/dossiers/{dossier_id}/return")
def dossier_return(request: Request, ctx: Ctx, dossier_id: int, reason: Annotated[str, Form()],
                   signer: Annotated[str, Form()], on: Annotated[str, Form()] = "", csrf: Csrf = "") -> Response:
    user = need(request, ctx, Action.RETURN_DOSSIER)
    check_csrf(request, user, csrf)
    dossiers.return_dossier(ctx, dossier_id, org=user.account.organisation, signer=signer, reason=reason,
                            on=_day(on), account=user.account)
    return _see(f"/dossiers/{dossier_id}")


# records and their evidence

@router.get("/records")
def record_list(request: Request, ctx: Ctx) -> Response:
    user = need(request, ctx, Action.RECORDS)
    found = records.list_records(ctx)
    evidence: dict[str, list[records.Evidence]] = {}
    for e in records.list_evidence(ctx):
        evidence.setdefault(e.record, []).append(e)
    return page(request, "records.j2", user, r=found, evidence=evidence, systems=ctx.loaded.inventory.systems,
                kinds=sorted(records.KINDS), today=clock.today().isoformat())


@router.post("/records/inspection")
def record_inspection(request: Request, ctx: Ctx, record_id: Annotated[str, Form()], date: Annotated[str, Form()],
                      performed_by: Annotated[str, Form()], system: Annotated[str, Form()],
                      kind: Annotated[str, Form()] = "periodic", independent: Annotated[str, Form()] = "",
                      licensed: Annotated[str, Form()] = "", findings_count: Annotated[int, Form()] = 0,
                      summary: Annotated[str, Form()] = "", csrf: Csrf = "") -> Response:
    user = need(request, ctx, Action.ADD_RECORD)
    check_csrf(request, user, csrf)
    day = _day(date)
    record = {"id": record_id, "system": system, "date": day.isoformat(), "kind": kind,
              "performed_by": performed_by, "independent": bool(independent), "licensed_assessor": bool(licensed),
              "findings": findings_count, **({"summary": summary} if summary.strip() else {})}
    records.add_record(ctx, f"inspection-{record_id}", "inspections", record, account=user.account.name)
    return _see("/records")


@router.post("/records/evidence")
def record_evidence(request: Request, ctx: Ctx, record: Annotated[str, Form()], file: UploadFile | None = None,
                    csrf: Csrf = "") -> Response:
    user = need(request, ctx, Action.ADD_RECORD)
    check_csrf(request, user, csrf)
    data = _read(file, records.MAX_EVIDENCE, _("evidence file"))
    assert file is not None
    records.attach_evidence(ctx, record, file.filename or "evidence", data, account=user.account.name)
    return _see("/records")


@router.get("/records/evidence/{seq}")
def record_evidence_file(request: Request, ctx: Ctx, seq: int) -> Response:
    need(request, ctx, Action.RECORDS)
    try:
        found, data = records.evidence_file(ctx, seq)
    except records.EvidenceError as exc:
        raise NotFound(str(exc)) from None
    return _download(found.file.rsplit("/", 1)[-1], data)


# reports and verification

@router.get("/reports")
def report_list(request: Request, ctx: Ctx) -> Response:
    user = need(request, ctx, Action.VERIFY_FILE)  # the list itself only for who may read reports
    shown = reports.list_reports(ctx) if allowed(user.account.role, Action.REPORTS) else []
    return page(request, "reports.j2", user, reports=shown,
                year=overview.report_year(ctx, clock.today()), check=None)


@router.post("/reports/annual")
def report_annual(request: Request, ctx: Ctx, year: Annotated[int, Form()], passphrase: Annotated[str, Form()] = "",
                  p12: UploadFile | None = None, csrf: Csrf = "") -> Response:
    user = need(request, ctx, Action.PUBLISH_REPORT)
    check_csrf(request, user, csrf)
    if p12 is not None and p12.filename:
        with _uploaded_signer(p12, passphrase) as signer:
            reports.publish_annual_report(ctx, year, clock.today(), signer, account=user.account)
    else:
        reports.publish_annual_report(ctx, year, clock.today(), account=user.account)
    return _see("/reports")


@router.get("/reports/{report_id}/files/{index}")
def report_file(request: Request, ctx: Ctx, report_id: int, index: int) -> Response:
    need(request, ctx, Action.REPORTS)
    try:
        return _download(*reports.report_file(ctx, report_id, index))
    except reports.FileUnavailable as exc:
        raise NotFound(str(exc)) from None


@router.post("/verify")
def verify_upload(request: Request, ctx: Ctx, file: UploadFile | None = None, csrf: Csrf = "") -> Response:
    user = need(request, ctx, Action.VERIFY_FILE)
    check_csrf(request, user, csrf)
    data = _read(file, MAX_VERIFY, _("file to verify"))
    check = verification.check_file(ctx, data)
    shown = reports.list_reports(ctx) if allowed(user.account.role, Action.REPORTS) else []
    return page(request, "reports.j2", user, reports=shown, year=overview.report_year(ctx, clock.today()),
                check=check, checked_name=(file.filename or "")[:120] if file else "")


# accounts

@router.get("/accounts")
def account_list(request: Request, ctx: Ctx) -> Response:
    user = need(request, ctx, Action.ACCOUNTS)
    with ctx.store.session() as s:
        rows = accounts.list_accounts(s)
    return page(request, "accounts.j2", user, accounts=rows, organisations=ctx.loaded.inventory.organisations)


@router.post("/accounts")
def account_add(request: Request, ctx: Ctx, name: Annotated[str, Form()], role: Annotated[str, Form()],
                organisation: Annotated[str, Form()], password: Annotated[str, Form()],
                full_name: Annotated[str, Form()] = "", csrf: Csrf = "") -> Response:
    user = need(request, ctx, Action.ACCOUNTS)
    check_csrf(request, user, csrf)
    with ctx.store.session() as s:
        accounts.add_account(s, ctx.loaded.inventory, name=name, role=role, organisation=organisation,
                             password=password, full_name=full_name, by=user.account.name)
    return _see("/accounts")
