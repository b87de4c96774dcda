"""Load budget.yaml (every input error located) and judge each plan's security share exactly."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from auditor.budget.model import BudgetFile, Plan
from auditor.i18n import _
from auditor.inventory.messages import problems_from
from auditor.inventory.model import Inventory
from auditor.levels.regimes import Regimes
from auditor.problems import InputError, Problem
from auditor.vocabulary import Verdict
from auditor.yamlsafe import load_yaml

BUDGET = "budget.yaml"


def load_budget(path: Path, inv: Inventory) -> list[Plan]:
    if not path.exists():
        return []
    loaded = load_yaml(path, within=path.parent)
    try:
        spec = BudgetFile.model_validate(loaded.data)
    except ValidationError as exc:
        raise InputError(problems_from(exc, loaded, BudgetFile)) from None
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, p in enumerate(spec.plans):
        base = ("plans", i)
        if p.id in seen:
            problems.append(loaded.problem((*base, "id"), _("duplicate plan id {id!r}").format(id=p.id)))
        seen.add(p.id)
        if inv.organisation(p.owner) is None:
            problems.append(loaded.problem((*base, "owner"), _("unknown organisation {ref!r}").format(ref=p.owner)))
        if p.currency != "VND":
            problems.append(loaded.problem((*base, "currency"), _("amounts are in VND; {currency!r} is not accepted")
                                           .format(currency=p.currency)))
        if p.total <= 0:
            problems.append(loaded.problem((*base, "total"), _("the total must be more than zero")))
        for j, line in enumerate(p.lines):
            if line.amount < 0:
                problems.append(loaded.problem((*base, "lines", j, "amount"), _("an amount cannot be negative")))
        lines_sum = sum((line.amount for line in p.lines), Decimal(0))
        if p.total > 0 and lines_sum > p.total:
            problems.append(loaded.problem((*base, "lines"), _("the lines add up to {sum} đồng, more than the total "
                                                               "{total}").format(sum=_vnd(lines_sum), total=_vnd(p.total))))
    if problems:
        raise InputError(problems)
    return list(spec.plans)


def _vnd(amount: Decimal) -> str:
    return f"{int(amount):,}".replace(",", ".")


@dataclass(frozen=True)
class BudgetVerdict:
    plan: Plan
    security: Decimal
    share_percent: Decimal  # for display; the verdict is decided exactly, without rounding
    threshold_percent: Decimal | None
    rule: str | None
    reference: str | None
    verdict: Verdict

    def as_json(self) -> dict[str, Any]:
        p = self.plan
        return {"id": p.id, "kind": p.kind, "title": p.title, "owner": p.owner, "approved_on": p.approved_on.isoformat(),
                "total": str(p.total), "security": str(self.security), "share_percent": str(self.share_percent),
                "threshold_percent": str(self.threshold_percent) if self.threshold_percent is not None else None,
                "rule": self.rule, "reference": self.reference, "verdict": self.verdict}


def judge(plan: Plan, regimes: Regimes) -> BudgetVerdict:
    security = sum((line.amount for line in plan.lines if line.security), Decimal(0))
    # shown to two decimals, rounded down: a failing 9.99999999% shows as 9.99%, never as 10.00%
    share = (security * 100 / plan.total).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    rule = regimes.budget_rule(plan.kind, plan.approved_on)
    if rule is None:
        return BudgetVerdict(plan, security, share, None, None, None, Verdict.NOT_APPLICABLE)
    if rule.threshold_percent is None:
        verdict = Verdict.PASS if security > 0 else Verdict.FAIL
    else:
        # exact: security / total ≥ threshold / 100, in integers of đồng (a share exactly at the threshold passes)
        verdict = Verdict.PASS if security * 100 >= rule.threshold_percent * plan.total else Verdict.FAIL
    return BudgetVerdict(plan, security, share, rule.threshold_percent, rule.id, rule.reference, verdict)


def check_budget(plans: list[Plan], regimes: Regimes, year: int | None = None) -> list[BudgetVerdict]:
    chosen = [p for p in plans if year is None or p.approved_on.year == year]
    return [judge(p, regimes) for p in sorted(chosen, key=lambda p: (p.approved_on, p.id))]


