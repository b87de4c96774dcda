"""auditor trust add | crl | list: the CA certificates whose officers may sign, and their revocation lists."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import col, select

from auditor import clock, safeio
from auditor.cli.common import JsonOpt, LangOpt, WorkspaceOpt, handle_errors, out, plain, print_json, say
from auditor.cli.context import workspace_context
from auditor.i18n import _
from auditor.identity.trust import add_anchors, import_crl
from auditor.problems import display_path
from auditor.store.tables import CrlRow, TrustAnchorRow

app = typer.Typer(add_completion=False, no_args_is_help=True)
FileArg = Annotated[Path, typer.Argument(help="A PEM or DER file.")]
MAX_FILE = 4 << 20


@app.command("add")
@handle_errors
def add(file: FileArg, workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Pin the CA certificate(s) of FILE: officers' certificates must chain to one of them to sign."""
    data = safeio.read_bytes(file, max_bytes=MAX_FILE)
    with workspace_context(workspace) as ctx, ctx.store.session() as s:
        rows = add_anchors(s, data, display_path(file))
        shown = [{"sha256": r.sha256, "subject": r.subject, "not_after": clock.stamp(r.not_after)} for r in rows]
    if as_json:
        print_json({"anchors": shown})
    for r in shown if not as_json else []:
        say(_("Trusted: {subject} (SHA-256 {digest}), until {until}.").format(subject=r["subject"],
                                                                               digest=r["sha256"], until=r["not_after"]))


@app.command("crl")
@handle_errors
def crl(file: FileArg, workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Import a certificate revocation list from FILE (signed by a pinned anchor)."""
    data = safeio.read_bytes(file, max_bytes=64 << 20)
    with workspace_context(workspace) as ctx, ctx.store.session() as s:
        row = import_crl(s, data, display_path(file))
        shown = {"sha256": row.sha256, "issuer": row.issuer, "this_update": clock.stamp(row.this_update),
                 "next_update": clock.stamp(row.next_update) if row.next_update else None}
    if as_json:
        print_json({"crl": shown})
    else:
        say(_("Revocation list of {issuer} of {date} imported.").format(issuer=shown["issuer"],
                                                                        date=shown["this_update"]))


@app.command("list")
@handle_errors
def list_(workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """The pinned trust anchors and the imported revocation lists."""
    with workspace_context(workspace) as ctx, ctx.store.session() as s:
        anchors = list(s.exec(select(TrustAnchorRow).order_by(col(TrustAnchorRow.id))))
        lists = list(s.exec(select(CrlRow).order_by(col(CrlRow.id))))
    if as_json:
        print_json({"anchors": [{"sha256": a.sha256, "subject": a.subject, "not_before": clock.stamp(a.not_before),
                                 "not_after": clock.stamp(a.not_after)} for a in anchors],
                    "crls": [{"sha256": c.sha256, "issuer": c.issuer, "this_update": clock.stamp(c.this_update),
                              "next_update": clock.stamp(c.next_update) if c.next_update else None} for c in lists]})
        return
    t = Table(title=_("Trust anchors"))
    for column in (_("Subject"), _("SHA-256"), _("Valid until")):
        t.add_column(column)
    for a in anchors:
        t.add_row(plain(a.subject), a.sha256[:32] + "…", clock.stamp(a.not_after))
    out.print(t)
    for c in lists:
        say(_("Revocation list of {issuer} of {date}.").format(issuer=c.issuer, date=clock.stamp(c.this_update)))
