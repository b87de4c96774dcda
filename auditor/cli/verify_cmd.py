"""auditor verify."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from auditor.cli.common import EXIT_FAIL, JsonOpt, LangOpt, WorkspaceOpt, handle_errors, out, plain, print_json, say
from auditor.cli.context import workspace_context
from auditor.i18n import _
from auditor.ledger.verify import verify_ledger
from auditor.problems import InputError, Problem, display_path
from auditor.reporting.publish import find_file


@handle_errors
def verify(file: Annotated[Path | None, typer.Argument(help="A report file (PDF, HTML, JSON or CSV) to check against "
                                                            "the ledger.")] = None,
           workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Check the whole ledger: hash chain, signatures, and every dossier against what was signed; with FILE, also
    that the file is a report this workspace wrote, unchanged (exit 1 on a break or no match)."""
    if file is not None and not file.is_file():
        raise InputError([Problem(display_path(file), 1, 1, "", _("no such file"))])
    with workspace_context(workspace) as ctx, ctx.store.session() as s:
        report = verify_ledger(s)
        digest, matches = find_file(s, file) if file is not None else ("", [])
    file_ok = file is None or (bool(matches) and all(m.snapshot_matches for m in matches))
    if as_json:
        doc = {"ok": report.ok and file_ok, "entries": report.entries, "signatures": report.signatures,
               "dossiers": report.dossiers, "breaks": [b.as_json() for b in report.breaks]}
        if file is not None:
            doc["file"] = {"path": display_path(file), "sha256": digest, "matches": [m.as_json() for m in matches]}
        print_json(doc)
        if not (report.ok and file_ok):
            raise typer.Exit(EXIT_FAIL)
        return
    if file is not None:
        if not matches:
            say(_("{file} (SHA-256 {digest}) matches no report recorded in this workspace's ledger: it was "
                        "changed after it was written, or it was not written here.").format(file=display_path(file),
                                                                                          digest=digest))
        for m in matches:
            say(_("{file} is {name}, the {kind} report {key} ({lang}) recorded in ledger entry #{seq} on {at}; "
                        "snapshot {snapshot}.").format(file=display_path(file), name=m.name, kind=m.kind, key=m.key,
                                                       lang=m.lang, seq=m.seq, at=m.at, snapshot=m.snapshot_sha256))
            if not m.snapshot_matches:
                say(_("The stored snapshot of report {report} no longer matches the hash in the ledger.")
                          .format(report=m.report))
    if report.ok:
        say(_("Ledger intact: {entries} entries, {signatures} signatures and {dossiers} dossiers verified.")
                  .format(entries=report.entries, signatures=report.signatures, dossiers=report.dossiers))
    else:
        t = Table(title=_("The ledger does not verify"))
        for col in (_("Where"), _("Kind"), _("What")):
            t.add_column(col)
        for b in report.breaks:
            t.add_row(plain(b.where), b.kind, plain(b.message))
        out.print(t)
    if not (report.ok and file_ok):
        raise typer.Exit(EXIT_FAIL)
