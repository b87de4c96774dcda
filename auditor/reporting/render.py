"""Render a template of the workspace's reports/ folder to HTML and PDF."""

from __future__ import annotations

import contextlib
import errno
import gc
import mimetypes
import os
import signal
import tempfile
import threading
from pathlib import Path
from typing import Any, NoReturn

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from auditor import safeio
from auditor.i18n import _, get_language, pick
from auditor.labels import exposure, label
from auditor.problems import InputError, Problem, display_path
from auditor.textformat import day, pct, vnd
from auditor.workspace import Workspace
from auditor.yamlsafe import excerpt

ASSET_LIMIT = 16 << 20  # a stylesheet, an image or a font of the report folder


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
    env.filters["date"] = day
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


class PdfLater:
    """A PDF laid out in a forked process while the caller goes on: started before the report is built (the
    process loads WeasyPrint meanwhile), handed the HTML when it is ready, and waited for once the report's other
    files are written. A province's report spends seconds in each part; on two cores they overlap.

    Only from a single-threaded process (the command line): forking a threaded server is not safe, and there the
    PDF is made in place, as it is when the machine has one core. Should the child fail for any reason, the PDF is
    made in place too, so that an error is raised here as it would have been. Use it as a context manager: leaving
    it always collects the child."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._html: str | None = None
        self._data: bytes | None = None
        self._pid: int | None = None
        self._pipe: int | None = None
        self._out: Any = None
        if not hasattr(os, "fork") or threading.active_count() > 1 or (os.cpu_count() or 1) < 2:
            return
        self._out = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        read_end, self._pipe = os.pipe()
        gc.freeze()  # the child's collector leaves the parent's objects alone: their pages stay shared
        try:
            pid = os.fork()
        finally:
            gc.unfreeze()
        if pid == 0:
            os.close(self._pipe)
            self._child(read_end)
        os.close(read_end)
        self._pid = pid

    def _child(self, read_end: int) -> NoReturn:
        code = 1
        try:
            import weasyprint  # noqa: F401 - loaded while the parent builds the report

            with os.fdopen(read_end, "rb") as fh:
                html = fh.read()
            if html:
                self._out.write(pdf_bytes(self.ws, html.decode("utf-8")))
                self._out.flush()
                code = 0
        finally:
            os._exit(code)  # never the parent's exit handlers, never its buffers

    def __enter__(self) -> PdfLater:
        return self

    def __exit__(self, exc_type: object, *_rest: object) -> None:
        if exc_type is not None and self._pid is not None:  # the report failed or was stopped: so is its layout
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
        self.close()

    def start(self, html: str) -> None:
        """Lay out ``html``."""
        self._html = html
        if self._pipe is None:
            self._data = pdf_bytes(self.ws, html)
            return
        try:
            with os.fdopen(self._pipe, "wb") as fh:
                fh.write(html.encode("utf-8"))
        except OSError:
            pass  # the child is gone: result() makes the PDF in place
        self._pipe = None

    def result(self) -> bytes:
        """The PDF of the HTML given to start()."""
        if self._data is None:
            assert self._html is not None, "start() first"
            done = self._wait()
            data = self._out.read() if done else b""
            self._data = data if done and data.startswith(b"%PDF") else pdf_bytes(self.ws, self._html)
        return self._data

    def _wait(self) -> bool:
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None
        if self._pid is None:
            return False
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        self._out.seek(0)
        return os.waitstatus_to_exitcode(status) == 0

    def close(self) -> None:
        self._wait()
        if self._out is not None:
            self._out.close()
            self._out = None


def write_html_pdf(ws: Workspace, template: str, context: dict[str, Any], out_dir: Path, stem: str) -> list[Path]:
    output_dir(out_dir)
    html = render_html(ws, template, context)
    html_path, pdf_path = out_dir / f"{stem}.html", out_dir / f"{stem}.pdf"
    return safeio.write_files({html_path: html.encode("utf-8"), pdf_path: pdf_bytes(ws, html)})
