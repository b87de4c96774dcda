"""Every obligation on a day: the level obligations, the budget share, and those the records answer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import col, select

from auditor.budget.check import BUDGET, BudgetVerdict, check_budget, load_budget
from auditor.context import Context
from auditor.levels.propose import LevelRules
from auditor.levels.regimes import load_calendar, load_regimes
from auditor.obligations.budget import budget_results
from auditor.obligations.levels import evaluate_levels
from auditor.obligations.model import Result, RuleSpec, load_rules, material_fields
from auditor.obligations.records import Standing, evaluate_records
from auditor.obligations.standing import standing_on
from auditor.records.load import Records, load_records
from auditor.store.tables import DossierRow


@dataclass(frozen=True)
class Evaluation:
    day: dt.date
    rules: dict[str, RuleSpec]
    results: list[Result]
    records: Records
    standing: Standing
    budget: list[BudgetVerdict]
    dossiers: list[DossierRow]
    level_rules: LevelRules  # with the levels it proposed on the day


def evaluate_obligations(ctx: Context, day: dt.date, period_start: dt.date | None = None) -> Evaluation:
    """Every obligation as it stood at the end of ``day``. With ``period_start`` (a report's period), the
    obligations tied to a period judge only what falls in it: plans approved, drill years, systems gone live."""
    profiles = ctx.ws.content("profiles")
    inv = ctx.loaded.inventory
    rules = load_rules(profiles)
    regimes = load_regimes(profiles)
    records = load_records(ctx.ws.root, inv)
    level_rules = LevelRules(profiles)
    with ctx.store.session() as s:
        dossiers = list(s.exec(select(DossierRow).order_by(col(DossierRow.id))))
        standing = standing_on(s, inv, profiles, day, level_rules)
        for d in dossiers:
            s.expunge(d)
    results = evaluate_levels(inv, dossiers, level_rules, load_calendar(profiles), day, material_fields(rules),
                              period_start)
    verdicts = check_budget(load_budget(ctx.ws.root / BUDGET, inv), regimes)
    results += budget_results(verdicts, day, period_start)
    results += evaluate_records(inv, records, standing, regimes, rules, day, period_start)
    return Evaluation(day, rules, results, records, standing, verdicts, dossiers, level_rules)
