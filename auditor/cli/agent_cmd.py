"""auditor agent ...: the zone agents (keygen, register, revoke, list, config, run) and file collection."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from auditor import safeio
from auditor.cli.common import JsonOpt, LangOpt, WorkspaceOpt, apply_lang, handle_errors, out, print_json, say
from auditor.cli.context import workspace_context
from auditor.cli.patch_cmd import collect_cmd
from auditor.i18n import _

app = typer.Typer(add_completion=False, no_args_is_help=True)
app.command("collect")(collect_cmd)


@app.command("keygen")
@handle_errors
def keygen(key: Annotated[Path, typer.Option("--key", help="Where to write the agent's private key (0600).")],
           lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """On the agent's machine: make its own key; print the public half to register centrally."""
    from auditor.agents.signed import new_key

    public = new_key(key)
    if as_json:
        print_json({"key_file": str(key), "public_key": public})
    else:
        say(_("Key written to {file}. Register this agent on the central server with:").format(file=key))
        out.print(f"auditor agent register AGENT --zone ZONE --public-key {public}", markup=False, highlight=False)


@app.command("register")
@handle_errors
def register(agent: Annotated[str, typer.Argument(help="The agent's name (an id).")],
             zone: Annotated[str, typer.Option("--zone", help="The network zone it serves.")],
             public_key: Annotated[str, typer.Option("--public-key", help="Its public key, from 'agent keygen'.")],
             workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Register an agent of a zone by its public key (recorded in the ledger)."""
    from auditor.services.agents import register as register_agent

    with workspace_context(workspace) as ctx:
        row = register_agent(ctx, agent, zone, public_key)
    if as_json:
        print_json({"agent": row.id, "zone": row.zone, "public_key": row.public_key})
    else:
        say(_("Agent {agent} registered for zone {zone}.").format(agent=row.id, zone=row.zone))


@app.command("revoke")
@handle_errors
def revoke(agent: Annotated[str, typer.Argument(help="The agent's name.")], workspace: WorkspaceOpt = None,
           lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Revoke an agent: its answers are no longer taken in."""
    from auditor.services.agents import revoke as revoke_agent

    with workspace_context(workspace) as ctx:
        revoke_agent(ctx, agent)
    if as_json:
        print_json({"agent": agent, "revoked": True})
    else:
        say(_("Agent {agent} revoked.").format(agent=agent))


@app.command("list")
@handle_errors
def list_(workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """The registered agents, their zones and when each last answered."""
    from rich.table import Table

    from auditor.services.agents import list_agents
    from auditor.textformat import moment

    with workspace_context(workspace) as ctx:
        views = list_agents(ctx)
    if as_json:
        print_json([v.as_json() for v in views])
        return
    table = Table(title=_("Agents"))
    for name in (_("Agent"), _("Zone"), _("Last answer"), _("State")):
        table.add_column(name)
    for v in views:
        state = _("revoked") if v.revoked_at else (_("silent") if v.silent else _("reporting"))
        table.add_row(v.id, v.zone, moment(v.last_seen) if v.last_seen else "—", state)
    out.print(table)


@app.command("config")
@handle_errors
def config(agent: Annotated[str, typer.Argument(help="The registered agent's name.")],
           broker: Annotated[str, typer.Option("--broker", help="The broker's URL as the agent reaches it, with "
                                                                "its ACL user, without the password.")],
           out_file: Annotated[Path, typer.Option("--out", help="Where to write the agent's file.")],
           ca_file: Annotated[str | None, typer.Option("--ca-file", help="The CA of the broker's TLS "
                                                                         "certificate, on the agent.")] = None,
           ssh_key: Annotated[str | None, typer.Option("--ssh-key", help="The agent's SSH private key for package "
                                                                         "collection, on the agent (0600).")] = None,
           workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Write the file an agent runs with (its zone's networks, the central server's key; no secret)."""
    from auditor.services.agents import agent_file

    with workspace_context(workspace) as ctx:
        text = agent_file(ctx, agent, broker, ca_file=ca_file, ssh_key=ssh_key)
    safeio.write_text(out_file, text, mode=0o644)
    if as_json:
        print_json({"agent": agent, "file": str(out_file)})
    else:
        say(_("Agent file written to {file}.").format(file=out_file))


@app.command("run")
@handle_errors
def run(config_file: Annotated[Path, typer.Option("--config", help="The agent's file (from 'agent config').")],
        zone: Annotated[str | None, typer.Option("--zone", help="The zone this agent serves; it must be the one "
                                                                "its file names (the file decides).")] = None,
        lang: LangOpt = None) -> None:
    """Run the agent: probe what the central server sends to its zone, until stopped."""
    from auditor.agents.run import run_agent

    apply_lang(lang)
    run_agent(config_file, zone)
