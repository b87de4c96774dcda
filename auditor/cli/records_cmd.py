"""auditor records: inspections, drills, incident-response plans and deployment status."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from auditor.cli.common import JsonOpt, LangOpt, WorkspaceOpt, handle_errors, out, parse_day, plain, print_json, say
from auditor.cli.context import Context, workspace_context
from auditor.i18n import _
from auditor.labels import label
from auditor.problems import InputError, display_path
from auditor.records.load import Records, load_records
from auditor.services.records import add_record
from auditor.textformat import day
from auditor.yamlsafe import LoadedYaml, load_yaml

app = typer.Typer(add_completion=False, no_args_is_help=True)
add_app = typer.Typer(help="Add a record (written to records.d/, checked with all the others first).",
                      no_args_is_help=True)
app.add_typer(add_app, name="add")


def _summary(records: Records) -> dict[str, Any]:
    return {"files": list(records.files),
            "inspections": [i.model_dump(mode="json") for i in records.inspections],
            "drills": [d.model_dump(mode="json") for d in records.drills],
            "response_plans": [r.model_dump(mode="json") for r in records.response_plans],
            "deployments": [d.model_dump(mode="json") for d in records.deployments]}


@app.command("list")
@handle_errors
def list_cmd(workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Show every record (records.yaml and records.d/), after checking them all."""
    with workspace_context(workspace) as ctx:
        records = load_records(ctx.ws.root, ctx.loaded.inventory)
    if as_json:
        print_json(_summary(records))
        return
    t = Table(title=_("Inspections"), title_justify="left")
    for col in (_("Id"), _("Subject"), _("Date"), _("Kind"), _("Performed by"), _("Independent"), _("Licensed"),
                _("Findings")):
        t.add_column(col)
    for i in records.inspections:
        t.add_row(i.id, i.subject, day(i.date), label(i.kind), plain(i.performed_by), _yes(i.independent),
                  _yes(i.licensed_assessor), str(i.findings))
    out.print(t)
    t = Table(title=_("Drills"), title_justify="left")
    for col in (_("Id"), _("Date"), _("Kind"), _("Title"), _("Systems"), _("Follow-up actions")):
        t.add_column(col)
    for d in records.drills:
        t.add_row(d.id, day(d.date), label(d.kind), plain(d.title), ", ".join(d.systems), str(len(d.follow_up)))
    out.print(t)
    t = Table(title=_("Incident-response plans"), title_justify="left")
    for col in (_("System"), _("Document"), _("Approved on"), _("Last reviewed")):
        t.add_column(col)
    for r in records.response_plans:
        t.add_row(r.system, plain(r.document), day(r.approved_on), day(r.reviewed))
    out.print(t)


def _yes(value: bool) -> str:
    return _("yes") if value else _("no")


def _write(ctx: Context, name: str, section: str, record: dict[str, Any], replace: bool = False) -> Path:
    return add_record(ctx, name, section, record, replace=replace)


def _done(path: Path, as_json: bool) -> None:
    if as_json:
        print_json({"written": display_path(path)})
    else:
        say(_("Recorded in {file}.").format(file=display_path(path)))


@add_app.command("inspection")
@handle_errors
def add_inspection(
    record_id: Annotated[str, typer.Option("--id", help="The inspection's id (such as kt-2026-cong-dvc).")],
    date: Annotated[str, typer.Option("--date", help="Date of the inspection (YYYY-MM-DD).")],
    performed_by: Annotated[str, typer.Option("--performed-by", help="Who inspected.")],
    system: Annotated[str | None, typer.Option("--system", help="The system inspected.")] = None,
    organisation: Annotated[str | None, typer.Option("--organisation", help="Or the organisation as a whole.")] = None,
    kind: Annotated[str, typer.Option("--kind", help="periodic, pre_operation or ad_hoc.")] = "periodic",
    independent: Annotated[bool, typer.Option("--independent/--not-independent")] = False,
    licensed: Annotated[bool, typer.Option("--licensed/--not-licensed", help="By a licensed assessor.")] = False,
    licence: Annotated[str | None, typer.Option("--licence", help="The assessor's licence.")] = None,
    findings: Annotated[int, typer.Option("--findings", help="How many findings it reported.")] = 0,
    summary: Annotated[str | None, typer.Option("--summary")] = None,
    workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False,
) -> None:
    """Record an inspection of a system or of an organisation."""
    parse_day(date, "--date")
    record: dict[str, Any] = {"id": record_id, "system": system, "organisation": organisation, "date": date,
                              "kind": kind, "performed_by": performed_by, "independent": independent,
                              "licensed_assessor": licensed, "licence": licence, "findings": findings,
                              "summary": summary}
    with workspace_context(workspace) as ctx:
        path = _write(ctx, f"inspection-{record_id}", "inspections",
                      {k: v for k, v in record.items() if v is not None})
    _done(path, as_json)


@add_app.command("response-plan")
@handle_errors
def add_response_plan(
    system: Annotated[str, typer.Option("--system", help="The system the plan covers.")],
    document: Annotated[str, typer.Option("--document", help="The plan's decision or document number.")],
    approved_on: Annotated[str, typer.Option("--approved-on", help="Date of approval (YYYY-MM-DD).")],
    reviewed: Annotated[str | None, typer.Option("--reviewed", help="Date of the last review.")] = None,
    workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False,
) -> None:
    """Record (or, run again, update) the incident-response plan of a system."""
    parse_day(approved_on, "--approved-on")
    if reviewed:
        parse_day(reviewed, "--reviewed")
    record = {"system": system, "document": document, "approved_on": approved_on}
    if reviewed:
        record["last_reviewed"] = reviewed
    with workspace_context(workspace) as ctx:
        path = _write(ctx, f"response-plan-{system}", "response_plans", record, replace=True)
    _done(path, as_json)


@add_app.command("drill")
@handle_errors
def add_drill(file: Annotated[Path, typer.Argument(help="A YAML file with one drill (a mapping, as in records.yaml).")],
              workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Record a drill written in a YAML file of its own: its timeline, findings, lessons and follow-up."""
    loaded = load_yaml(file)
    if not isinstance(loaded.data, dict) or "id" not in loaded.data:
        raise InputError([loaded.problem((), _("expected one drill: a mapping with an 'id'"))])
    with workspace_context(workspace) as ctx:
        # check the file as it is first, so that messages point at its own lines; then as it will be written
        wrapped = LoadedYaml(file=loaded.file, data={"drills": [copy.deepcopy(loaded.data)]}, sha256=loaded.sha256,
                             values={("drills", 0, *k): v for k, v in loaded.values.items()},
                             keys={("drills", 0, *k): v for k, v in loaded.keys.items()})
        load_records(ctx.ws.root, ctx.loaded.inventory, [wrapped])
        path = _write(ctx, f"drill-{loaded.data['id']}", "drills", loaded.data)
    _done(path, as_json)
