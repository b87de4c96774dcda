"""auditor keys list: the Ed25519 keys of earlier versions."""

from __future__ import annotations

import typer
from rich.table import Table
from sqlmodel import col, select

from auditor.cli.common import JsonOpt, LangOpt, WorkspaceOpt, handle_errors, out, print_json
from auditor.cli.context import workspace_context
from auditor.i18n import _
from auditor.store.tables import OfficerKeyRow

app = typer.Typer(add_completion=False, no_args_is_help=True)


@app.command("list")
@handle_errors
def list_(workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """The Ed25519 public keys registered by earlier versions."""
    with workspace_context(workspace) as ctx, ctx.store.session() as s:
        rows = s.exec(select(OfficerKeyRow).order_by(col(OfficerKeyRow.name))).all()
    if as_json:
        print_json({"keys": [{"name": r.name, "organisation": r.organisation_id, "fingerprint": r.fingerprint,
                              "created_at": r.created_at} for r in rows]})
        return
    t = Table(title=_("Signing keys"))
    for column in (_("Name"), _("Organisation"), _("Fingerprint")):
        t.add_column(column)
    for r in rows:
        t.add_row(r.name, r.organisation_id, r.fingerprint)
    out.print(t)
