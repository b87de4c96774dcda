"""The budget-share obligation, one result per plan or project approved by the day (and in the period, for a
report); when there is none, the share cannot be judged."""

from __future__ import annotations

import datetime as dt

from auditor.budget.check import BUDGET, BudgetVerdict
from auditor.i18n import _
from auditor.obligations.model import Result
from auditor.textformat import day as day_text
from auditor.textformat import vnd
from auditor.vocabulary import Verdict

RULE = "budget.share"


def budget_results(verdicts: list[BudgetVerdict], day: dt.date, period_start: dt.date | None = None) -> list[Result]:
    chosen = [v for v in verdicts if v.plan.approved_on <= day
              and (period_start is None or v.plan.approved_on >= period_start)]
    if not chosen:
        if not verdicts:
            evidence = _("{file} declares no plan or project: the share cannot be judged").format(file=BUDGET)
        elif period_start is None:
            evidence = _("no plan or project in {file} was approved by {date}: the share cannot be judged").format(
                file=BUDGET, date=day_text(day))
        else:
            evidence = _("no plan or project in {file} was approved between {start} and {date}: the share cannot be "
                         "judged").format(file=BUDGET, start=day_text(period_start), date=day_text(day))
        return [Result(RULE, BUDGET, Verdict.INDETERMINATE, evidence, {"plans": 0})]
    out = []
    for v in chosen:
        if v.rule is None:
            evidence = _("no share applies to a {kind} approved on {date}").format(kind=v.plan.kind,
                                                                                    date=day_text(v.plan.approved_on))
        elif v.threshold_percent is None:
            evidence = _("security lines: {security} đồng ({reference})").format(security=vnd(v.security),
                                                                                reference=v.reference)
        else:
            evidence = _("{security} of {total} đồng: {share}% (at least {threshold}%, {reference})").format(
                security=vnd(v.security), total=vnd(v.plan.total), share=v.share_percent,
                threshold=v.threshold_percent, reference=v.reference)
        out.append(Result(RULE, v.plan.id, v.verdict, evidence, v.as_json()))
    return out
