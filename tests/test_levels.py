"""Level criteria of both regimes: one system per criterion, boundaries, several criteria, components, gaps."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from auditor.inventory.model import System
from auditor.levels.criteria import load_criteria
from auditor.levels.propose import LevelRules
from tests.conftest import REPO

RULES = LevelRules(REPO / "profiles")
ON = dt.date(2026, 11, 26)

# facts that match no criterion at all: every criterion below is triggered by its own overrides
NEUTRAL: dict[str, Any] = {
    "information": ["public"], "kinds": ["other"], "serves": ["internal"],
    "personal_data_subjects": {"basic": 0, "sensitive": 0}, "online_public_service_level": 0,
    "administrative_procedures": False, "conditional_business": False, "infrastructure_scope": "none",
    "national_egovernment": False, "always_on": False, "national_data_centre": False,
    "defence_security_harm": "none", "industrial_control": "none",
}
CITIZEN_SERVICE = {"serves": ["citizens"], "kinds": ["online_service"]}


def system(facts: dict[str, Any], components: list[dict[str, Any]] | None = None) -> System:
    return System.model_validate({"id": "s", "name": "S", "owner": "o", "operator": "o", "lifecycle": "planned",
                                  "facts": facts, "components": components or []})


def propose(overrides: dict[str, Any], regime: str, components: list[dict[str, Any]] | None = None):  # type: ignore[no-untyped-def]
    return RULES.propose(system({**NEUTRAL, **overrides}, components), ON, regime)


CASES: list[tuple[str, dict[str, Any], int]] = [
    # Decree 85/2016
    ("nd85.d7", {"kinds": ["internal"]}, 1),
    ("nd85.d8.k1", {"kinds": ["internal"], "information": ["private"]}, 2),
    ("nd85.d8.k2a", {"serves": ["citizens"], "online_public_service_level": 2}, 2),
    ("nd85.d8.k2b", {**CITIZEN_SERVICE}, 2),
    ("nd85.d8.k2c", {**CITIZEN_SERVICE, "information": ["personal"],
                     "personal_data_subjects": {"basic": 9_999, "sensitive": 0}}, 2),
    ("nd85.d8.k3", {"kinds": ["infrastructure"], "infrastructure_scope": "agency"}, 2),
    ("nd85.d9.k1", {"information": ["state_secret"]}, 3),
    ("nd85.d9.k2a", {"serves": ["businesses"], "online_public_service_level": 3}, 3),
    ("nd85.d9.k2b", {**CITIZEN_SERVICE, "conditional_business": True}, 3),
    ("nd85.d9.k2c", {**CITIZEN_SERVICE, "information": ["personal"],
                     "personal_data_subjects": {"basic": 5_000, "sensitive": 5_000}}, 3),
    ("nd85.d9.k3", {"kinds": ["infrastructure"], "infrastructure_scope": "province"}, 3),
    ("nd85.d9.k4", {"industrial_control": "grade_iii"}, 3),
    ("nd85.d10.k1", {"defence_security_harm": "serious"}, 4),
    ("nd85.d10.k2", {"national_egovernment": True, "always_on": True}, 4),
    ("nd85.d10.k3", {"kinds": ["infrastructure"], "infrastructure_scope": "national", "always_on": True}, 4),
    ("nd85.d10.k4", {"industrial_control": "grade_i"}, 4),
    ("nd85.d11.k1", {"defence_security_harm": "especially_serious"}, 5),
    ("nd85.d11.k2", {"national_data_centre": True}, 5),
    ("nd85.d11.k3", {"kinds": ["infrastructure"], "infrastructure_scope": "international"}, 5),
    ("nd85.d11.k4", {"industrial_control": "special"}, 5),
    ("nd85.d11.k5", {"prime_minister_decision": 5}, 5),
    # Decree 331/2026
    ("nd331.d11.k1", {"kinds": ["internal"]}, 1),
    ("nd331.d12.k1", {"kinds": ["internal"], "information": ["personal"]}, 2),
    ("nd331.d12.k2a", {**CITIZEN_SERVICE}, 2),
    ("nd331.d12.k2b", {**CITIZEN_SERVICE, "information": ["personal"],
                       "personal_data_subjects": {"basic": 99_999, "sensitive": 9_999}}, 2),
    ("nd331.d12.k3", {"kinds": ["infrastructure"], "infrastructure_scope": "agency"}, 2),
    ("nd331.d12.k4", {"prime_minister_decision": 2}, 2),
    ("nd331.d13.k1", {"defence_security_harm": "harm"}, 3),
    ("nd331.d13.k2a", {**CITIZEN_SERVICE, "conditional_business": True}, 3),
    ("nd331.d13.k2b", {"administrative_procedures": True}, 3),
    ("nd331.d13.k2c", {**CITIZEN_SERVICE, "information": ["personal"],
                       "personal_data_subjects": {"basic": 100_000, "sensitive": 0}}, 3),
    ("nd331.d13.k3", {"kinds": ["infrastructure"], "infrastructure_scope": "sector"}, 3),
    ("nd331.d13.k4", {"industrial_control": "grade_iv"}, 3),
    ("nd331.d13.k5", {"prime_minister_decision": 3}, 3),
    ("nd331.d14.k1", {"defence_security_harm": "serious"}, 4),
    ("nd331.d14.k2", {"kinds": ["infrastructure"], "infrastructure_scope": "national", "always_on": True}, 4),
    ("nd331.d14.k3", {"industrial_control": "grade_i"}, 4),
    ("nd331.d14.k4", {"prime_minister_decision": 4}, 4),
    ("nd331.d15.k1", {"defence_security_harm": "especially_serious"}, 5),
    ("nd331.d15.k2", {"national_data_centre": True}, 5),
    ("nd331.d15.k3", {"kinds": ["infrastructure"], "infrastructure_scope": "international"}, 5),
    ("nd331.d15.k4", {"industrial_control": "national_security"}, 5),
    ("nd331.d15.k5", {"prime_minister_decision": 5}, 5),
]


def test_every_criterion_of_both_regimes_has_a_case() -> None:
    ids = {c.id for r in ("r85", "r331") for c in load_criteria(REPO / "profiles", r).criteria}
    assert ids == {case[0] for case in CASES}


def test_neutral_facts_match_nothing() -> None:
    for regime in ("r85", "r331"):
        p = propose({}, regime)
        assert p.level is None and p.matched == () and "không tiêu chí nào" in (p.reason or "")


@pytest.mark.parametrize(("criterion", "overrides", "level"), CASES, ids=[c[0] for c in CASES])
def test_each_criterion(criterion: str, overrides: dict[str, Any], level: int) -> None:
    regime = "r85" if criterion.startswith("nd85") else "r331"
    p = propose(overrides, regime)
    assert criterion in {m.criterion for m in p.matched}
    assert p.level == level
    top = [m for m in p.matched if m.level == level]
    assert all(m.article.startswith("NĐ") for m in top)


@pytest.mark.parametrize(("facts", "r85", "r331"), [
    # the personal-data boundaries differ between the regimes
    ({**CITIZEN_SERVICE, "information": ["personal"], "personal_data_subjects": {"basic": 9_999, "sensitive": 0}}, 2, 2),
    ({**CITIZEN_SERVICE, "information": ["personal"], "personal_data_subjects": {"basic": 10_000, "sensitive": 0}}, 3, 2),
    ({**CITIZEN_SERVICE, "information": ["personal"], "personal_data_subjects": {"basic": 99_999, "sensitive": 0}}, 3, 2),
    ({**CITIZEN_SERVICE, "information": ["personal"], "personal_data_subjects": {"basic": 100_000, "sensitive": 0}}, 3, 3),
    ({**CITIZEN_SERVICE, "information": ["personal"], "personal_data_subjects": {"basic": 0, "sensitive": 9_999}}, 2, 2),
    ({**CITIZEN_SERVICE, "information": ["personal"], "personal_data_subjects": {"basic": 0, "sensitive": 10_000}}, 3, 3),
    # a system handling administrative procedures is level 3 under Decree 331 only
    ({"kinds": ["internal"], "administrative_procedures": True}, 1, 3),
    # national e-Government needs 24/7 for level 4
    ({"kinds": ["internal"], "national_egovernment": True, "always_on": False}, 1, 1),
])
def test_boundaries(facts: dict[str, Any], r85: int, r331: int) -> None:
    assert propose(facts, "r85").level == r85
    assert propose(facts, "r331").level == r331


def test_the_highest_criterion_wins_and_all_are_listed() -> None:
    p = propose({**CITIZEN_SERVICE, "information": ["personal"], "administrative_procedures": True,
                 "personal_data_subjects": {"basic": 412_000, "sensitive": 0}, "online_public_service_level": 4}, "r331")
    assert p.level == 3
    assert {m.criterion for m in p.matched} == {"nd331.d12.k2a", "nd331.d13.k2b", "nd331.d13.k2c"}
    assert [m.level for m in p.matched] == sorted((m.level for m in p.matched), reverse=True)


def test_a_component_raises_the_level() -> None:
    p = propose({"kinds": ["internal"]}, "r331",
                components=[{"id": "payment", "name": "Cổng thanh toán", "facts": {**NEUTRAL, **CITIZEN_SERVICE,
                                                                                    "conditional_business": True}}])
    assert p.level == 3
    assert any(m.component == "payment" and m.level == 3 for m in p.matched)


def test_missing_fact_that_could_raise_the_level_blocks() -> None:
    facts = {**NEUTRAL, "kinds": ["internal"]}
    del facts["defence_security_harm"]
    p = RULES.propose(system(facts), ON, "r331")
    assert p.level is None
    assert p.missing == ("facts.defence_security_harm",)
    assert p.reason == "chưa xác định được: thiếu facts.defence_security_harm"


def test_missing_fact_that_cannot_change_the_answer_does_not_block() -> None:
    facts = {**NEUTRAL, "defence_security_harm": "especially_serious"}
    del facts["personal_data_subjects"]
    del facts["online_public_service_level"]
    p = RULES.propose(system(facts), ON, "r85")
    assert p.level == 5 and p.missing == ()


def test_regime_in_force_by_date() -> None:
    s = system({**NEUTRAL, "kinds": ["internal"], "administrative_procedures": True})
    assert RULES.propose(s, dt.date(2026, 8, 18)).regime == "r85"
    assert RULES.propose(s, dt.date(2026, 8, 18)).level == 1
    assert RULES.propose(s, dt.date(2026, 8, 19)).regime == "r331"
    assert RULES.propose(s, dt.date(2026, 8, 19)).level == 3


def test_cli_propose_json_and_exit_codes(cli, demo_inventory_ws) -> None:  # type: ignore[no-untyped-def]
    import json

    r = cli("level", "propose", "cong-dvc", "--regime", "r85", "--json", "--workspace", demo_inventory_ws)
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["level"] == 3 and doc["regime"] == "r85"
    assert {m["criterion"] for m in doc["matched"]} >= {"nd85.d9.k2a", "nd85.d9.k2c"}
    r = cli("level", "propose", "mot-cua-cu", "--json", "--workspace", demo_inventory_ws)
    assert r.exit_code == 1
    assert json.loads(r.stdout)["determined"] is False
    assert cli("level", "propose", "nope", "--workspace", demo_inventory_ws).exit_code == 2
    assert cli("level", "propose", "cong-dvc", "--regime", "r99", "--workspace", demo_inventory_ws).exit_code == 2
