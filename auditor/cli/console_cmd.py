"""auditor serve, auditor users add | list | passwd | disable | enable | token."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from auditor import safeio
from auditor.cli.common import JsonOpt, LangOpt, WorkspaceOpt, handle_errors, out, plain, print_json, say
from auditor.cli.context import workspace_context
from auditor.i18n import _
from auditor.labels import label
from auditor.services import accounts

app = typer.Typer(add_completion=False, no_args_is_help=True)
ENV_PASSWORD = "AUDITOR_ACCOUNT_PASSWORD"
PasswordFileOpt = Annotated[Path | None, typer.Option("--password-file", help="File holding the password (or set "
                                                                              "AUDITOR_ACCOUNT_PASSWORD, or answer "
                                                                              "the prompt).")]


def _password(file: Path | None) -> str:
    if file is not None:
        return safeio.read_bytes(file, max_bytes=4096).decode("utf-8", errors="replace").split("\n", 1)[0].rstrip("\r")
    if os.environ.get(ENV_PASSWORD):
        return os.environ[ENV_PASSWORD]
    return str(typer.prompt(_("Password"), hide_input=True, confirmation_prompt=True))


@app.command("add")
@handle_errors
def add(name: Annotated[str, typer.Argument(help="The account name (lower-case letters, digits, . _ -).")],
        role: Annotated[str, typer.Option("--role", help="operator, officer, leader or admin.")],
        org: Annotated[str, typer.Option("--org", help="The account's organisation (an id of the inventory).")],
        full_name: Annotated[str, typer.Option("--name", help="The person's name and title.")] = "",
        account_lang: Annotated[str, typer.Option("--account-lang", help="The console's language for them.")] = "vi",
        password_file: PasswordFileOpt = None, workspace: WorkspaceOpt = None, lang: LangOpt = None,
        as_json: JsonOpt = False) -> None:
    """Add a console account (the password is kept only as its Argon2id hash; the account is in the ledger)."""
    password = _password(password_file)
    with workspace_context(workspace) as ctx, ctx.store.session() as s:
        account = accounts.add_account(s, ctx.loaded.inventory, name=name, role=role, organisation=org,
                                       password=password, full_name=full_name, lang=account_lang)
    if as_json:
        print_json(account.as_json())
    else:
        say(_("Account {name} added: {role} of {org}.").format(name=account.name, role=label(account.role.value),
                                                               org=account.organisation))


@app.command("list")
@handle_errors
def list_(workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Accounts, their role and organisation, and whether each still agrees with the ledger."""
    with workspace_context(workspace) as ctx, ctx.store.session() as s:
        rows = accounts.list_accounts(s)
    if as_json:
        print_json({"accounts": [{**a.as_json(), "disabled": disabled, "matches_ledger": intact}
                                 for a, disabled, intact in rows]})
        return
    t = Table(title=_("Accounts"))
    for column in (_("Account"), _("Name"), _("Role"), _("Organisation"), _("State")):
        t.add_column(column)
    for a, disabled, intact in rows:
        state = _("differs from the ledger: cannot sign in") if not intact else (_("disabled") if disabled
                                                                                   else _("active"))
        t.add_row(plain(a.name), plain(a.full_name), label(a.role.value), plain(a.organisation), state)
    out.print(t)


@app.command("passwd")
@handle_errors
def passwd(name: str, password_file: PasswordFileOpt = None, workspace: WorkspaceOpt = None,
           lang: LangOpt = None) -> None:
    """Set an account's password (its sessions end; a lockout is lifted)."""
    password = _password(password_file)
    with workspace_context(workspace) as ctx, ctx.store.session() as s:
        accounts.set_password(s, name, password)
    say(_("Password of {name} changed.").format(name=name))


@app.command("disable")
@handle_errors
def disable(name: str, workspace: WorkspaceOpt = None, lang: LangOpt = None) -> None:
    """Disable an account (its sessions end)."""
    with workspace_context(workspace) as ctx, ctx.store.session() as s:
        accounts.set_disabled(s, name, True)
    say(_("Account {name} disabled.").format(name=name))


@app.command("enable")
@handle_errors
def enable(name: str, workspace: WorkspaceOpt = None, lang: LangOpt = None) -> None:
    """Enable a disabled account."""
    with workspace_context(workspace) as ctx, ctx.store.session() as s:
        accounts.set_disabled(s, name, False)
    say(_("Account {name} enabled.").format(name=name))


@app.command("token")
@handle_errors
def token(name: str, token_label: Annotated[str, typer.Option("--label", help="What the token is for.")] = "api",
          workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Issue an API token for the account (printed once; only its hash is kept)."""
    with workspace_context(workspace) as ctx, ctx.store.session() as s:
        value = accounts.issue_api_token(s, name, token_label)
    if as_json:
        print_json({"account": name, "token": value})
    else:
        out.print(value)


@handle_errors
def serve(host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8080,
          tls_cert: Annotated[Path | None, typer.Option("--tls-cert", help="Serve HTTPS with this certificate "
                                                                             "(PEM).")] = None,
          tls_key: Annotated[Path | None, typer.Option("--tls-key", help="Its private key (PEM).")] = None,
          workspace: WorkspaceOpt = None, lang: LangOpt = None) -> None:
    """`auditor serve` (its help text is in auditor/cli/__init__.py, LAZY)."""
    from auditor.web.server import run_console

    with workspace_context(workspace) as ctx:  # the inventory and the store must open before anyone connects
        root = ctx.ws.root
    if (tls_cert is None) != (tls_key is None):
        raise accounts.AccountError(_("--tls-cert and --tls-key go together"))
    scheme = "https" if tls_cert else "http"
    say(_("Console on {url} (Ctrl+C stops it).").format(url=f"{scheme}://{host}:{port}/"))
    run_console(root, host, port, tls_cert=tls_cert, tls_key=tls_key)
