"""Who is asking, and may they: the session cookie or API token, the role's permission for the route's action, and
the CSRF token of every form. A refusal is a 403 that changes nothing and is logged."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from pathlib import Path

from fastapi import Request

from auditor.context import Context, workspace_context
from auditor.services import accounts
from auditor.services.accounts import Account, SignedIn
from auditor.web.permissions import Action, allowed

SESSION_COOKIE = "auditor_session"
LANG_COOKIE = "auditor_lang"
LOGIN_CSRF_COOKIE = "auditor_login_csrf"

log = logging.getLogger("auditor.web")


class LoginNeeded(Exception):
    """No live session: the browser is sent to the sign-in page, an API client gets 401."""


class Refused(Exception):
    """The account's role may not take this action, or the form's CSRF token is wrong: 403."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def context(request: Request) -> Iterator[Context]:
    """The workspace, its inventory and its store, for one request."""
    root: Path = request.app.state.root
    with workspace_context(root) as ctx:
        yield ctx


def signed_in(request: Request, ctx: Context) -> SignedIn:
    with ctx.store.session() as s:
        user = accounts.current(s, request.cookies.get(SESSION_COOKIE))
    if user is None:
        raise LoginNeeded()
    return user


def need(request: Request, ctx: Context, action: Action) -> SignedIn:
    """The signed-in account, if its role allows ``action``; else a logged 403."""
    user = signed_in(request, ctx)
    check(request, user.account, action)
    return user


def check(request: Request, account: Account, action: Action) -> None:
    if not allowed(account.role, action):
        log.warning("refused: %s (%s) %s %s: role may not %s", account.name, account.role.value, request.method,
                    request.url.path, action.value)
        raise Refused(action.value)


def check_csrf(request: Request, user: SignedIn, token: str | None) -> None:
    if not token or not secrets.compare_digest(token.encode(), user.csrf.encode()):
        log.warning("refused: %s %s %s: missing or wrong CSRF token", user.account.name, request.method,
                    request.url.path)
        raise Refused("csrf")


def api_account(request: Request, ctx: Context, action: Action) -> Account:
    """The account of the API token in ``Authorization: Bearer …``, if its role allows ``action``."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    with ctx.store.session() as s:
        account = accounts.api_account(s, token)
    if account is None:
        raise LoginNeeded()
    check(request, account, action)
    return account
