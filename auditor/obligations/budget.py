"""The budget-share obligation, one result per plan or project."""

from __future__ import annotations

from auditor.budget.check import BudgetVerdict
from auditor.i18n import _
from auditor.obligations.model import Result
from auditor.reporting.render import vnd


def budget_results(verdicts: list[BudgetVerdict]) -> list[Result]:
    out = []
    for v in verdicts:
        if v.rule is None:
            evidence = _("no share applies to a {kind} approved on {date}").format(kind=v.plan.kind,
                                                                                    date=v.plan.approved_on)
        elif v.threshold_percent is None:
            evidence = _("security lines: {security} đồng ({reference})").format(security=vnd(v.security),
                                                                                reference=v.reference)
        else:
            evidence = _("{security} of {total} đồng: {share}% (at least {threshold}%, {reference})").format(
                security=vnd(v.security), total=vnd(v.plan.total), share=v.share_percent,
                threshold=v.threshold_percent, reference=v.reference)
        out.append(Result("budget.share", v.plan.id, v.verdict, evidence, v.as_json()))  # type: ignore[arg-type]
    return out
