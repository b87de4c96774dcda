"""auditor verify."""

from __future__ import annotations

import typer
from rich.table import Table

from auditor.cli.common import EXIT_FAIL, JsonOpt, LangOpt, WorkspaceOpt, handle_errors, out, print_json
from auditor.cli.context import workspace_context
from auditor.i18n import _
from auditor.ledger.verify import verify_ledger


@handle_errors
def verify(workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Check the whole ledger: hash chain, signatures, and every dossier against what was signed (exit 1 on a break)."""
    with workspace_context(workspace) as ctx, ctx.store.session() as s:
        report = verify_ledger(s)
    if as_json:
        print_json({"ok": report.ok, "entries": report.entries, "signatures": report.signatures,
                    "dossiers": report.dossiers, "breaks": [b.as_json() for b in report.breaks]})
    elif report.ok:
        out.print(_("Ledger intact: {entries} entries, {signatures} signatures and {dossiers} dossiers verified.")
                  .format(entries=report.entries, signatures=report.signatures, dossiers=report.dossiers))
    else:
        t = Table(title=_("The ledger does not verify"))
        for col in (_("Where"), _("Kind"), _("What")):
            t.add_column(col)
        for b in report.breaks:
            t.add_row(b.where, b.kind, b.message)
        out.print(t)
    if not report.ok:
        raise typer.Exit(EXIT_FAIL)
