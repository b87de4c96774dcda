"""auditor keys new | list."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import col, select

from auditor import safeio
from auditor.cli.common import JsonOpt, LangOpt, WorkspaceOpt, handle_errors, out, print_json, say
from auditor.cli.context import workspace_context
from auditor.dossier.workflow import WorkflowError, register_key
from auditor.i18n import _
from auditor.inventory.types import ID_PATTERN
from auditor.problems import display_path
from auditor.signing import passphrase_from, write_new_key
from auditor.store.tables import OfficerKeyRow
from auditor.yamlsafe import excerpt

app = typer.Typer(help="Officers' signing keys (Ed25519).", no_args_is_help=True)
PassFileOpt = Annotated[Path | None, typer.Option("--passphrase-file", help="Read the passphrase from this file "
                                                                           "(or set AUDITOR_KEY_PASSPHRASE).")]


def default_key_path(root: Path, name: str) -> Path:
    check_key_name(name)
    return safeio.private_dir(root / ".auditor" / "keys") / f"{name}.pem"


def check_key_name(name: str) -> None:
    """A key's name is an id: it names a file under .auditor/keys and nothing else (no '/', no '..')."""
    if not re.fullmatch(ID_PATTERN, name) or ".." in name:
        raise WorkflowError(_("a key name uses only lowercase letters, digits, '.', '_' and '-' (at most 64), "
                              "not {value!r}").format(value=excerpt(name)))


@app.command("new")
@handle_errors
def new(
    name: Annotated[str, typer.Argument(help="The key's name, e.g. the officer's account.")],
    org: Annotated[str, typer.Option("--org", help="The organisation the officer signs for.")],
    out_file: Annotated[Path | None, typer.Option("--out", help="Where to write the encrypted private key.")] = None,
    passphrase_file: PassFileOpt = None, workspace: WorkspaceOpt = None, lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a key pair: the private key goes to a passphrase-encrypted file, the public key to the store."""
    check_key_name(name)
    with workspace_context(workspace) as ctx:
        if ctx.loaded.inventory.organisation(org) is None:
            raise WorkflowError(_("unknown organisation {ref!r}").format(ref=org))
        path = out_file or default_key_path(ctx.ws.root, name)
        passphrase = passphrase_from(passphrase_file, prompt=True, confirm=True)
        with ctx.store.session() as s:
            if s.exec(select(OfficerKeyRow).where(OfficerKeyRow.name == name)).first() is not None:
                raise WorkflowError(_("a key named {name} is registered already").format(name=name))
            public = write_new_key(path, passphrase)
            row = register_key(s, name, org, public)
    if as_json:
        print_json({"name": name, "organisation": org, "fingerprint": row.fingerprint, "file": str(path)})
    else:
        say(_("Key {name} for {org}: {fingerprint}; private key in {file} (encrypted).").format(
            name=name, org=org, fingerprint=row.fingerprint, file=display_path(path)))


@app.command("list")
@handle_errors
def list_(workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """The registered public keys."""
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
