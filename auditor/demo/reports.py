"""The demo's annual compliance report and drill report, from the demo workspace's records and scans."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from auditor.context import Context
from auditor.obligations.evaluate import evaluate_obligations
from auditor.obligations.model import Result, load_rules
from auditor.records.load import load_records
from auditor.reporting.annual import load_annual_spec, publish_annual, reporting_period
from auditor.reporting.drill import publish_drill
from auditor.reporting.publish import Published

DEMO_DRILL = "dt-2026-thuc-chien"


@dataclass
class DemoReports:
    year: int
    annual: Published
    drill: Published | None
    obligations: list[Result]


def reporting_year(ctx: Context, today: dt.date) -> int:
    """The year whose reporting period contains today (from 15/12 on, the next year's)."""
    profiles = ctx.ws.content("profiles")
    spec = load_annual_spec(profiles, load_rules(profiles))
    return today.year + 1 if reporting_period(spec, today.year + 1)[0] <= today else today.year


def run_demo_reports(ctx: Context, today: dt.date) -> DemoReports:
    out_dir = ctx.ws.root / "reports-out"
    year = reporting_year(ctx, today)
    _snapshot, annual = publish_annual(ctx, year, today, out_dir)
    drill = None
    if load_records(ctx.ws.root, ctx.loaded.inventory).drill(DEMO_DRILL) is not None:
        _snapshot, drill = publish_drill(ctx, DEMO_DRILL, today, out_dir)
    return DemoReports(year, annual, drill, evaluate_obligations(ctx, today).results)
