"""auditor advisories import; auditor agent collect (registered in agent_cmd)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from auditor import clock, safeio
from auditor.advisories.importer import import_file
from auditor.cli.common import (
    EXIT_INPUT,
    JsonOpt,
    LangOpt,
    WorkspaceOpt,
    handle_errors,
    parse_day,
    print_json,
    say,
)
from auditor.cli.context import workspace_context
from auditor.i18n import _
from auditor.probes.packages import CollectionError, collect_local
from auditor.problems import InputError

advisories_app = typer.Typer(add_completion=False, no_args_is_help=True)


@advisories_app.command("import")
@handle_errors
def import_cmd(file: Annotated[Path, typer.Argument(help="OSV JSON, an OSV all.zip, or the Debian tracker JSON.")],
               date: Annotated[str | None, typer.Option("--date", help="The date the data was published "
                                                                       "(default: read from the file).")] = None,
               workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Import an advisory file, stamped with its date; nothing is downloaded."""
    stamp = parse_day(date, "--date") if date else None
    with workspace_context(workspace) as ctx, ctx.store.session() as s:
        row = import_file(s, file, stamp)
    if as_json:
        print_json({"origin": row.origin, "entries": row.entries, "data_date": row.data_date, "sha256": row.sha256})
    else:
        say(_("Imported {entries} advisory entries ({origin}) dated {date}.").format(
            entries=row.entries, origin=row.origin, date=row.data_date))


def collect_cmd(out_file: Annotated[Path, typer.Option("--out", help="Where to write the package list (JSON).")],
                lang: LangOpt = None) -> None:
    """Write this machine's installed packages and release, for import on the auditor's side (file method)."""
    from auditor.cli.common import apply_lang

    apply_lang(lang)
    try:
        inventory = collect_local()
    except CollectionError as exc:
        say(str(exc), error=True)
        raise typer.Exit(EXIT_INPUT) from None
    try:
        safeio.write_text(out_file, json.dumps(inventory.as_json(), ensure_ascii=False, indent=1))
    except InputError as exc:
        say(str(exc), error=True)
        raise typer.Exit(EXIT_INPUT) from None
    say(_("{n} packages of {os} {version} written to {file} at {time}.").format(
        n=len(inventory.packages), os=inventory.os_id, version=inventory.version_id, file=out_file,
        time=clock.stamp()))
