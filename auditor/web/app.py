"""The console application: middleware (language, security headers, request size), error pages, the page routes
and the JSON API."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auditor.faults import store_fault
from auditor.i18n import LANGUAGES, _, _language
from auditor.problems import InputError, StoreError, UserError
from auditor.services import accounts
from auditor.services.overview import NotFound
from auditor.web import api, pages
from auditor.web.guard import LANG_COOKIE, LoginNeeded, Refused
from auditor.web.jobs import ScanJobs
from auditor.web.render import page

MAX_BODY = 8 << 20  # an upload (an evidence file, a certificate, a report to verify) is at most this large
STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")

log = logging.getLogger("auditor.web")


class Guard:
    """Pure ASGI middleware: the reader's language for the whole request (from their cookie), a request body no
    larger than MAX_BODY, and the security headers on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lang = _cookie(scope, LANG_COOKIE)
        token = _language.set(lang if lang in LANGUAGES else "vi")
        try:
            length = _header(scope, b"content-length")
            if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
                await _too_large(send)
                return
            seen = 0

            async def bounded() -> Message:
                nonlocal seen
                message = await receive()
                seen += len(message.get("body", b""))
                if seen > MAX_BODY:
                    raise _TooLarge()
                return message

            async def headed(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = list(message.get("headers", []))
                    if not any(k.lower() == b"content-security-policy" for k, _v in headers):
                        headers.append((b"content-security-policy", CSP.encode()))
                    headers += [(b"x-content-type-options", b"nosniff"),
                                (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"),
                                (b"cache-control", b"no-store")]
                    message["headers"] = headers
                await send(message)

            try:
                await self.app(scope, bounded, headed)
            except _TooLarge:
                await _too_large(send)
        finally:
            _language.reset(token)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"413 request too large\n"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    raw = _header(scope, b"cookie") or ""
    for part in raw.split(";"):
        key, _sep, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(root: Path) -> FastAPI:
    app = FastAPI(title="auditor", description="Information-security compliance auditor: the console's JSON API",
                  # no Swagger UI: it loads its script from a CDN, and the console loads nothing from the internet
                  docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.root = root
    accounts.prepare_sign_in()
    app.state.jobs = ScanJobs(root)
    app.add_middleware(Guard)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(pages.router)
    app.include_router(api.router)

    @app.exception_handler(LoginNeeded)
    async def login_needed(request: Request, exc: LoginNeeded) -> Response:
        if _is_api(request):
            return JSONResponse({"ok": False, "error": "authentication required"}, status_code=401)
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        if _is_api(request):
            return JSONResponse({"ok": False, "error": "forbidden", "action": exc.why}, status_code=403)
        return page(request, "error.j2", None, status=403, title=_("Not allowed"),
                    message=_("Your account's role does not allow this, or the form had expired. Nothing was "
                              "changed."))

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return _error(request, 404, _("Not found"), str(exc))

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError) -> Response:
        return _error(request, 400, _("The request cannot be carried out"), "\n".join(p.render() for p in exc.problems))

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> Response:
        return _error(request, 400, _("The request cannot be carried out"), str(exc))

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> Response:
        return _error(request, 503, _("The store cannot be opened"), str(exc))

    @app.exception_handler(DBAPIError)
    async def store_fault_met(request: Request, exc: DBAPIError) -> Response:
        """A store that fails mid-request (locked, damaged, its server gone): said plainly, as the command line
        says it; a bug (an integrity error) stays a server error."""
        fault = store_fault(exc)
        if fault is None:
            raise exc
        return _error(request, 503, _("The store failed"), str(fault))

    return app


def _error(request: Request, status: int, title: str, message: str) -> Response:
    if _is_api(request):
        return JSONResponse({"ok": False, "error": message}, status_code=status)
    return page(request, "error.j2", None, status=status, title=title, message=message)
