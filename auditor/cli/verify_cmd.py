"""auditor verify, auditor anchor."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import Session

from auditor import clock, safeio
from auditor.cli.common import EXIT_FAIL, JsonOpt, LangOpt, WorkspaceOpt, handle_errors, out, plain, print_json, say
from auditor.cli.context import workspace_context
from auditor.i18n import _
from auditor.identity.trust import anchors, crls
from auditor.ledger.anchor import anchors_in, head, write_anchor
from auditor.ledger.verify import check_anchors, verify_ledger
from auditor.levels.propose import LevelRules
from auditor.problems import InputError, Problem, display_path
from auditor.reporting.pdfsign import PdfSignature, pdf_signatures
from auditor.reporting.publish import find_file

AnchorOpt = Annotated[list[Path] | None, typer.Option(
    "--anchor", help="A published report or dossier, or a file of 'auditor anchor --out': the ledger must still "
                     "hold the head it names (repeatable).")]


@handle_errors
def verify(file: Annotated[Path | None, typer.Argument(help="A report file (PDF, HTML, JSON or CSV) to check against "
                                                            "the ledger.")] = None,
           anchor: AnchorOpt = None, workspace: WorkspaceOpt = None, lang: LangOpt = None,
           as_json: JsonOpt = False) -> None:
    """`auditor verify` (its help text is in auditor/cli/__init__.py, LAZY)."""
    if file is not None and not file.is_file():
        raise InputError([Problem(display_path(file), 1, 1, "", _("no such file"))])
    anchors = [(display_path(a), found) for a in anchor or [] for found in anchors_in(a)]
    with workspace_context(workspace) as ctx, ctx.store.session() as s:
        report = verify_ledger(s, ctx.ws.root, LevelRules(ctx.ws.content("profiles")).regimes)
        breaks = list(report.breaks) + check_anchors(s, anchors)
        digest, matches = find_file(s, file) if file is not None else ("", [])
        signatures = _pdf_signatures(s, file)
    ok = not breaks
    file_ok = file is None or (bool(matches) and all(m.snapshot_matches for m in matches)
                               and all(sig.ok for sig in signatures))
    if as_json:
        doc = {"ok": ok and file_ok, "entries": report.entries, "signatures": report.signatures,
               "dossiers": report.dossiers, "anchors": [{"file": f, **a.as_json()} for f, a in anchors],
               "breaks": [b.as_json() for b in breaks]}
        if file is not None:
            doc["file"] = {"path": display_path(file), "sha256": digest, "matches": [m.as_json() for m in matches],
                           "signatures": [sig.as_json() for sig in signatures]}
        print_json(doc)
        if not (ok and file_ok):
            raise typer.Exit(EXIT_FAIL)
        return
    if file is not None:
        if not matches:
            say(_("{file} (SHA-256 {digest}) matches no report recorded in this workspace's ledger: it was "
                  "changed after it was written, or it was not written here.").format(file=display_path(file),
                                                                                    digest=digest))
        for m in matches:
            if not m.snapshot_sha256:  # a signed document
                say(_("{file} is {name}, the signed {kind} {key}, recorded in ledger entry #{seq} on {at}.").format(
                    file=display_path(file), name=m.name, kind=m.kind, key=m.key, seq=m.seq, at=m.at))
                continue
            say(_("{file} is {name}, the {kind} report {key} ({lang}) recorded in ledger entry #{seq} on {at}; "
                  "snapshot {snapshot}.").format(file=display_path(file), name=m.name, kind=m.kind, key=m.key,
                                                 lang=m.lang, seq=m.seq, at=m.at, snapshot=m.snapshot_sha256))
            if not m.snapshot_matches:
                say(_("The stored snapshot of report {report} no longer matches the hash in the ledger.")
                    .format(report=m.report))
        for sig in signatures:
            who = ", ".join(x for x in (sig.signer.name, sig.signer.title, sig.signer.organisation) if x)
            if sig.ok:
                say(_("Signature {field}: valid, by {who}, at {at} (certificate trusted).").format(
                    field=sig.field, who=who, at=sig.signed_at))
            else:
                say(_("Signature {field} by {who}: NOT valid: {problem}").format(
                    field=sig.field, who=who, problem=sig.problem or _("the signed bytes were changed")))
    if ok:
        say(_("Ledger intact: {entries} entries, {signatures} signatures and {dossiers} dossiers verified.")
            .format(entries=report.entries, signatures=report.signatures, dossiers=report.dossiers))
        for f, a in anchors:
            say(_("{file}: the ledger still holds entry #{seq} as it was then.").format(file=f, seq=a.seq))
    else:
        t = Table(title=_("The ledger does not verify"))
        for column in (_("Where"), _("Kind"), _("What")):
            t.add_column(column)
        for b in breaks:
            t.add_row(plain(b.where), b.kind, plain(b.message))
        out.print(t)
    if not (ok and file_ok):
        raise typer.Exit(EXIT_FAIL)


def _pdf_signatures(session: Session, file: Path | None) -> list[PdfSignature]:
    """The PDF signatures of FILE, validated against the pinned anchors and imported CRLs."""
    if file is None:
        return []
    data = safeio.read_bytes(file, max_bytes=1 << 30)
    if not data.startswith(b"%PDF"):
        return []
    return pdf_signatures(data, anchors(session), crls(session))


@handle_errors
def anchor(out_file: Annotated[Path | None, typer.Option("--out", help="Write the head to this file (JSON), to keep "
                                                                       "off the server.")] = None,
           workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """`auditor anchor` (its help text is in auditor/cli/__init__.py, LAZY)."""
    with workspace_context(workspace) as ctx, ctx.store.session() as s:
        now = head(s)
    if now is None:
        raise InputError([Problem(display_path(ctx.ws.root), 1, 1, "", _("the ledger is empty: nothing to anchor"))])
    if out_file is not None:
        write_anchor(out_file, now, str(ctx.ws.root), clock.stamp())
    if as_json:
        print_json({"ledger_head": now.as_json(), "file": str(out_file) if out_file else None})
    else:
        say(now.marker())
        if out_file is not None:
            say(_("Written: {file}").format(file=display_path(out_file)))
