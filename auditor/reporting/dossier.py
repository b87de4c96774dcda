"""The level dossier as a document."""

from __future__ import annotations

from pathlib import Path

from auditor.i18n import get_language
from auditor.ledger.anchor import Anchor
from auditor.reporting.render import pdf_bytes, render_html, write_html_pdf
from auditor.store.tables import DossierRow
from auditor.workspace import Workspace


def dossier_stem(dossier: DossierRow, lang: str | None = None) -> str:
    return f"ho-so-cap-do-{dossier.system_id}-v{dossier.version}" + ("" if (lang or get_language()) == "vi" else "-en")


def _context(dossier: DossierRow, anchor: Anchor | None, trust: list[dict[str, str]]) -> dict[str, object]:
    return {"d": dossier, "s": dossier.snapshot, "parties": dossier.parties,
            "anchor": anchor.marker() if anchor else None, "trust_anchors": trust}


def render_dossier_html(ws: Workspace, dossier: DossierRow, anchor: Anchor | None, trust: list[dict[str, str]]) -> str:
    """The dossier's HTML alone (for reading on screen)."""
    return render_html(ws, "dossier.html.j2", _context(dossier, anchor, trust))


def render_dossier_bytes(ws: Workspace, dossier: DossierRow, anchor: Anchor | None,
                         trust: list[dict[str, str]]) -> tuple[str, bytes]:
    """The dossier's HTML and PDF, in the current language, with the ledger head and the pinned CAs."""
    html = render_html(ws, "dossier.html.j2", _context(dossier, anchor, trust))
    return html, pdf_bytes(ws, html)


def render_dossier(ws: Workspace, dossier: DossierRow, out_dir: Path, anchor: Anchor | None,
                   trust: list[dict[str, str]]) -> list[Path]:
    return write_html_pdf(ws, "dossier.html.j2", _context(dossier, anchor, trust), out_dir, dossier_stem(dossier))
