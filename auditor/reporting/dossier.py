"""The level dossier as a document."""

from __future__ import annotations

from pathlib import Path

from auditor.i18n import get_language
from auditor.ledger.anchor import Anchor
from auditor.reporting.render import write_html_pdf
from auditor.store.tables import DossierRow
from auditor.workspace import Workspace


def render_dossier(ws: Workspace, dossier: DossierRow, out_dir: Path, anchor: Anchor | None) -> list[Path]:
    context = {"d": dossier, "s": dossier.snapshot, "parties": dossier.parties,
               "anchor": anchor.marker() if anchor else None}
    stem = f"ho-so-cap-do-{dossier.system_id}-v{dossier.version}" + ("" if get_language() == "vi" else "-en")
    return write_html_pdf(ws, "dossier.html.j2", context, out_dir, stem)
