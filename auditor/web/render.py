"""Pages from Jinja2 templates, every value escaped (autoescape), in the reader's language."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from auditor.i18n import _, get_language
from auditor.labels import exposure, label
from auditor.obligations.levels import deadline_label
from auditor.services.accounts import SignedIn
from auditor.textformat import day, moment
from auditor.web.permissions import Action, allowed

TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(_=_, label=label, exposure=exposure, Action=Action, deadline_label=deadline_label, moment=moment,
                       day=day)
    return env


def page(request: Request, template: str, user: SignedIn | None, *, status: int = 200, **data: Any) -> HTMLResponse:
    def can(action: Action) -> bool:
        return user is not None and allowed(user.account.role, action)

    html = environment().get_template(template).render(
        user=user.account if user else None, csrf=user.csrf if user else "", can=can, lang=get_language(),
        path=request.url.path, here=request.url.path if request.method == "GET" else "/", **data)
    return HTMLResponse(html, status_code=status)
