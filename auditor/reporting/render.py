"""Render a template of the workspace's reports/ folder to HTML and PDF."""

from __future__ import annotations

import datetime as dt
import errno
import mimetypes
import os
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from auditor import safeio
from auditor.i18n import _, get_language, pick
from auditor.labels import exposure, label
from auditor.problems import InputError, Problem, display_path
from auditor.workspace import Workspace
from auditor.yamlsafe import excerpt

ASSET_LIMIT = 16 << 20  # a stylesheet, an image or a font of the report folder


def vnd(value: object) -> str:
    """Đồng with dots between thousands, as Vietnamese documents write them."""
    return f"{int(str(value)):,}".replace(",", ".")


def pct(value: object) -> str:
    """A percentage as the language writes it: 66,7% in Vietnamese, 66.7% in English."""
    if value is None:
        return "—"
    text = str(value)
    return (text.replace(".", ",") if get_language() == "vi" else text) + "%"


def duration(minutes: object) -> str:
    if minutes is None:
        return "—"
    hours, rest = divmod(int(str(minutes)), 60)
    if hours == 0:
        return _("{minutes} min").format(minutes=rest)
    return _("{hours} h {minutes} min").format(hours=hours, minutes=rest)


def environment(ws: Workspace) -> Environment:
    """Templates are data, not code: the workspace's templates render in Jinja's sandbox (no attribute of Python's
    internals, no changing what they are given)."""
    env = ImmutableSandboxedEnvironment(loader=FileSystemLoader(str(ws.content("reports"))),
                                        autoescape=select_autoescape(["html", "j2"]), undefined=StrictUndefined,
                                        trim_blocks=True, lstrip_blocks=True)
    env.globals.update(_=_, pick=pick, lang=get_language)
    env.filters["label"] = label
    env.filters["exposure"] = exposure
    env.filters["labels"] = lambda values: ", ".join(label(v) for v in values or [])
    env.filters["vnd"] = vnd
    env.filters["pct"] = pct
    env.filters["duration"] = duration
    env.filters["date"] = lambda v: dt.date.fromisoformat(str(v)[:10]).strftime("%d/%m/%Y") if v else "—"
    return env


def render_html(ws: Workspace, template: str, context: dict[str, Any]) -> str:
    try:
        return environment(ws).get_template(template).render(**context)
    except SecurityError as exc:
        raise InputError([Problem(display_path(ws.content("reports") / template), 1, 1, "",
                                  _("the template tried something a report template may not do: {error}").format(
                                      error=excerpt(exc, 120)))]) from None


def assets_only(ws: Workspace) -> Any:
    """A WeasyPrint URL fetcher that serves the files of the workspace's reports/ folder and data: URIs, and
    refuses every other scheme and path (no file:///etc/shadow attached to a PDF, no request to the network)."""
    from urllib.parse import urlsplit
    from urllib.request import url2pathname

    from weasyprint.urls import URLFetcher, URLFetcherResponse

    root = ws.content("reports").resolve()

    class AssetsOnly(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type hints
        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme != "file":
                raise ValueError(f"a report may load only its own assets, not {excerpt(url, 80)}")
            path = Path(url2pathname(urlsplit(url).path)).resolve()
            if root not in path.parents or not path.is_file():
                raise ValueError(f"a report may load only files of {root}, not {excerpt(url, 80)}")
            data = safeio.read_bytes(path, max_bytes=ASSET_LIMIT, within=root)
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, data, {"Content-Type": mime})

    return AssetsOnly(allow_redirects=False)


def output_dir(out_dir: Path) -> Path:
    """The folder reports go to, made if missing; a path that cannot be one is a usage error (exit 2)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if not os.access(out_dir, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
    except OSError as exc:
        raise InputError([Problem(display_path(out_dir), 1, 1, "--out", _("cannot write reports here: {error}")
                                  .format(error=exc.strerror or exc))]) from None
    return out_dir


def pdf_bytes(ws: Workspace, html: str) -> bytes:
    """The PDF of ``html``; it may load nothing but the assets of the workspace's reports/ folder."""
    from weasyprint import HTML

    pdf = HTML(string=html, base_url=str(ws.content("reports")), url_fetcher=assets_only(ws)).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf


def write_html_pdf(ws: Workspace, template: str, context: dict[str, Any], out_dir: Path, stem: str) -> list[Path]:
    output_dir(out_dir)
    html = render_html(ws, template, context)
    html_path, pdf_path = out_dir / f"{stem}.html", out_dir / f"{stem}.pdf"
    safeio.write_text(html_path, html)
    safeio.write_bytes(pdf_path, pdf_bytes(ws, html))
    return [html_path, pdf_path]
