"""What-if: a month recomputed under a draft scheme and draft reward rules, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from tests.integration.test_evaluation import City, make_city, make_march
from xiuhua.evaluation.domain.model import ObjectType
from xiuhua.evaluation.domain.rewards import RewardRules
from xiuhua.evaluation.services import evaluate as ev
from xiuhua.evaluation.services import rewards
from xiuhua.evaluation.services.what_if import WhatIf, what_if
from xiuhua.kernel.errors import InvalidInputError
from xiuhua.unit_of_work import SqlUnitOfWork


@pytest.fixture
def city(uow: SqlUnitOfWork) -> City:
    march = make_city(uow)
    make_march(march)
    return march


def test_a_draft_scheme_shows_every_grade_and_composite_it_would_change(city: City) -> None:
    draft = copy.deepcopy(ev.default_scheme_body())
    draft["version"] = "draft-1"
    draft["grades"] = [["A", 99.5], ["B", 99.0], ["C", 60], ["D", 40], ["E", 0]]  # a much stricter A and B
    before = ev.evaluate(ev.Evaluate("2026-03", trend_periods=0), city.uow)
    found = what_if(WhatIf("2026-03", scheme=draft), city.uow)
    assert (found.scheme_before, found.scheme_after) == ("default-1", "draft-1")
    bands = [(grade, float(low)) for grade, low in draft["grades"]]
    expected = {
        (kind, o.code): (o.grade, next(g for g, low in bands if o.composite >= low))
        for kind, objects in before.objects.items()
        for o in objects
        if o.composite is not None
    }
    moved = {key: pair for key, pair in expected.items() if pair[0] != pair[1]}
    assert moved, "the March city has objects graded A or B under the default scheme"
    assert {(c.object_type, c.code): (c.before, c.after) for c in found.changes if c.field == "grade"} == moved
    assert not [c for c in found.changes if c.field == "composite"]  # the weights are the same
    assert found.rules_before == found.rules_after == "default-2"  # grades carry money: the ledger is compared
    paid = RewardRules.from_dict(rewards.default_rules_body()).units
    points_moved = {
        (kind, code) for (kind, code), (was, now) in moved.items()
        if (rules := paid.get(ObjectType(kind))) and rules.by_grade.get(was, 0.0) != rules.by_grade.get(now, 0.0)
    }  # fmt: skip
    assert {(c.object_type, c.code) for c in found.changes if c.field == "points"} == points_moved


def test_draft_reward_rules_move_points_and_yuan_but_not_the_fund(city: City) -> None:
    rules = copy.deepcopy(rewards.default_rules_body())
    rules["version"] = "draft-rules"
    rules["units"]["department"]["per_case"]["overdue"] = -10  # a late disposal costs five times as much
    found = what_if(WhatIf("2026-03", reward_rules=rules), city.uow)
    assert found.rules_after == "draft-rules" and found.scheme_after == found.scheme_before
    points = [c for c in found.changes if c.field == "points"]
    assert points and all(c.after < c.before and c.object_type == "department" for c in points)
    old = rewards.reward_ledger(rewards.ShowLedger("2026-03"), city.uow)
    new = rewards.reward_ledger(rewards.ShowLedger("2026-03", rules), city.uow)
    for ledger in (old, new):  # every fen of the fund paid or left over, under either rules
        awarded = sum((t.award_yuan for t in ledger.totals), Decimal(0))
        assert awarded + ledger.unallocated_yuan == ledger.fund_yuan
    moved = {(c.object_type, c.code): (c.before, c.after) for c in found.changes if c.field == "yuan"}
    assert moved == {(t.unit_type.value, t.code): (t.yuan, n.yuan) for t in old.totals for n in new.totals
                     if (t.unit_type, t.code) == (n.unit_type, n.code) and t.yuan != n.yuan}  # fmt: skip
    assert moved and all(after < before for before, after in moved.values())  # the deductions grew


def test_the_scheme_in_force_as_a_draft_changes_nothing(city: City) -> None:
    found = what_if(WhatIf("2026-03", scheme=ev.default_scheme_body()), city.uow)
    assert found.changes == [] and found.objects > 0


def test_nothing_to_compare_and_bad_drafts_are_refused(city: City) -> None:
    with pytest.raises(InvalidInputError) as nothing:
        what_if(WhatIf("2026-03"), city.uow)
    assert nothing.value.code == "whatif.nothing"
    with pytest.raises(InvalidInputError) as bad:
        what_if(WhatIf("2026-03", scheme={"version": "x", "grades": []}), city.uow)
    assert bad.value.code == "evaluation.bad_scheme"
    with pytest.raises(InvalidInputError) as week:
        what_if(WhatIf("2026-W10", reward_rules=rewards.default_rules_body()), city.uow)
    assert week.value.code == "whatif.bad_period"


def test_the_unit_sheet_has_every_evaluated_unit_and_the_money_of_every_paid_kind(city: City) -> None:
    from xiuhua.evaluation.services.unit_sheet import HEADER, unit_sheet

    rows = unit_sheet("2026-03", city.uow)
    result = ev.evaluate(ev.Evaluate("2026-03", trend_periods=0), city.uow)
    assert len(rows) == sum(len(v) for v in result.objects.values()) and len(HEADER) == len(rows[0].cells())
    by_key = {(r.object_type.value, r.code): r for r in rows}
    for kind, objects in result.objects.items():
        for o in objects:
            row = by_key[(kind, o.code)]
            assert (row.composite, row.grade, row.rank) == (o.composite, o.grade, o.rank)
    ledger = rewards.reward_ledger(rewards.ShowLedger("2026-03"), city.uow)
    for t in ledger.totals:
        row = by_key[(t.unit_type.value, t.code)]
        lost = -sum(e.points for e in ledger.entries if e.key == (t.unit_type, t.code) and e.points < 0)
        assert (row.points, row.award_yuan, row.deducted_yuan, row.yuan, row.from_deposit_yuan, row.deducted) == (
            t.points, t.award_yuan, t.deducted_yuan, t.yuan, t.from_deposit_yuan, round(lost, 2))  # fmt: skip
    assert sum((r.award_yuan or Decimal(0) for r in rows), Decimal(0)) + ledger.unallocated_yuan == ledger.fund_yuan
    paid = {t.unit_type.value for t in ledger.totals} | {"district", "street", "department"}
    assert all(r.yuan is None for r in rows if r.object_type.value not in paid)  # communities and grids: no rules
    assert {r.object_type.value for r in rows if r.yuan is not None} >= {"district", "street", "department"}
