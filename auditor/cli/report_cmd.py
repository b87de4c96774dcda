"""auditor report annual | drill."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from auditor.cli.common import (
    EXIT_INPUT,
    JsonOpt,
    LangOpt,
    OnOpt,
    WorkspaceOpt,
    err,
    handle_errors,
    out,
    parse_day,
    print_json,
)
from auditor.cli.context import workspace_context
from auditor.i18n import _, get_language
from auditor.labels import label
from auditor.problems import display_path
from auditor.reporting.publish import Published, csv_text, publish

app = typer.Typer(help="The annual compliance report and drill reports (HTML, PDF, JSON, CSV; recorded in the ledger).",
                  no_args_is_help=True)

OutOpt = Annotated[Path | None, typer.Option("--out", help="Folder for the files (default: reports-out/ in the "
                                                            "workspace).")]


def _systems_csv(snapshot: dict[str, Any]) -> str:
    header = [_("No."), _("System id"), _("System"), _("Owner"), _("Operator"), _("Proposed level"),
              _("Approval status"), _("Approval decision"), _("Approved on"), _("Approved level"),
              _("Security regulation"), _("Expected approval"), _("Deployment"), _("Expected full deployment"),
              _("Inspection"), _("Inspected on"), _("Inspection verdict"), _("Next inspection by"),
              _("Open critical findings"), _("Open high findings")]
    rows = [[s["no"], s["id"], s["name"], s["owner"], s["operator"], s["proposed_level"],
             label(s["dossier_state"]) if s["dossier_state"] else _("no dossier"), s["decision"], s["approved_on"],
             s["approved_level"], s["regulation"], s["expected_approval"],
             label(s["deployment"]) if s["deployment"] else None, s["full_by"],
             label(s["inspection_kind"]) if s["inspection_kind"] else None, s["inspected_on"],
             label(s["inspection_verdict"]), s["inspection_due"], s["open_critical"], s["open_high"]]
            for s in snapshot["systems"]]
    return csv_text(header, rows)


def _gaps_csv(snapshot: dict[str, Any]) -> str:
    header = [_("Obligation"), _("Title"), _("Reference"), _("Subject"), _("Owner"), _("Deadline"), _("Evidence")]
    rows = [[g["rule"], g["title"], g["reference"], g["subject"], g["owner"], g["deadline"], g["evidence"]]
            for g in snapshot["gaps"]]
    return csv_text(header, rows)


def _report(published: Published, as_json: bool, extra: dict[str, Any]) -> None:
    if as_json:
        print_json({**extra, "report": published.report_id, "ledger_entry": published.ledger_seq,
                    "snapshot_sha256": published.snapshot_sha256, "files": [str(f) for f in published.files]})
        return
    for f in published.files:
        out.print(_("Written: {file}").format(file=display_path(f)))
    out.print(_("Recorded in ledger entry #{seq}; snapshot SHA-256 {digest}.").format(seq=published.ledger_seq,
                                                                                    digest=published.snapshot_sha256))


@app.command("annual")
@handle_errors
def annual(year: Annotated[int, typer.Option("--year", help="The year reported on (period 15/12 of the year before "
                                                           "to 14/12).")],
           out_dir: OutOpt = None, on: OnOpt = None, workspace: WorkspaceOpt = None, lang: LangOpt = None,
           as_json: JsonOpt = False) -> None:
    """Write the annual compliance report: KPIs against targets, charts, the form 08 table, gaps, budget, drills."""
    from auditor.reporting.annual import build_annual
    from auditor.reporting.charts import annual_charts

    today = parse_day(on, "--on") if on else dt.date.today()
    if not 2000 <= year <= today.year + 1:
        err.print(_("--year: {year} is not a year this report can cover").format(year=year))
        raise typer.Exit(EXIT_INPUT)
    with workspace_context(workspace) as ctx:
        snapshot = build_annual(ctx, year, today)
        stem = f"bao-cao-attt-{year}" if get_language() == "vi" else f"annual-report-{year}-en"
        published = publish(ctx, snapshot, "annual.html.j2", {"charts": annual_charts(snapshot)},
                            out_dir or ctx.ws.root / "reports-out", stem,
                            {"-he-thong" if get_language() == "vi" else "-systems": _systems_csv(snapshot),
                             "-ton-tai" if get_language() == "vi" else "-gaps": _gaps_csv(snapshot)})
    _report(published, as_json, {"year": year, "period": snapshot["period"], "kpis": snapshot["kpis"]})


@app.command("drill")
@handle_errors
def drill(drill_id: Annotated[str, typer.Argument(help="The drill's id in the records.")], out_dir: OutOpt = None,
          on: OnOpt = None, workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Write the report of one drill: objectives, scope, team, timeline with response times, findings, follow-up."""
    from auditor.records.load import load_records
    from auditor.reporting.drill import build_drill

    today = parse_day(on, "--on") if on else dt.date.today()
    with workspace_context(workspace) as ctx:
        records = load_records(ctx.ws.root, ctx.loaded.inventory)
        snapshot = build_drill(ctx.loaded.inventory, records, drill_id, today)
        stem = f"bao-cao-dien-tap-{drill_id}" if get_language() == "vi" else f"drill-report-{drill_id}-en"
        published = publish(ctx, snapshot, "drill.html.j2", {}, out_dir or ctx.ws.root / "reports-out", stem)
    _report(published, as_json, {"drill": drill_id, "times": snapshot["times"]})
