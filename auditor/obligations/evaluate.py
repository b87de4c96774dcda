"""Every obligation on a day: the level obligations, the budget share, and those the records answer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import select

from auditor.budget.check import BUDGET, BudgetVerdict, check_budget, load_budget
from auditor.context import Context
from auditor.levels.propose import LevelRules
from auditor.levels.regimes import load_calendar, load_regimes
from auditor.obligations.budget import budget_results
from auditor.obligations.levels import evaluate_levels
from auditor.obligations.model import Result, RuleSpec, load_rules
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


def evaluate_obligations(ctx: Context, day: dt.date) -> Evaluation:
    profiles = ctx.ws.content("profiles")
    inv = ctx.loaded.inventory
    rules = load_rules(profiles)
    regimes = load_regimes(profiles)
    records = load_records(ctx.ws.root, inv)
    with ctx.store.session() as s:
        dossiers = list(s.exec(select(DossierRow).order_by(DossierRow.id)))
        standing = standing_on(s, inv, profiles, day)
        for d in dossiers:
            s.expunge(d)
    results = evaluate_levels(inv, dossiers, LevelRules(profiles), load_calendar(profiles), day)
    verdicts = check_budget(load_budget(ctx.ws.root / BUDGET, inv), regimes)
    results += budget_results(verdicts)
    results += evaluate_records(inv, records, standing, regimes, rules, day)
    return Evaluation(day, rules, results, records, standing, verdicts, dossiers)
