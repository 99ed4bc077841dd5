"""What-if: a month recomputed under a draft scheme and draft reward rules, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from tests.integration.test_evaluation import City, make_city, make_march
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
    assert found.rules_before == found.rules_after == "default-1"  # grades carry money: the ledger is compared
    departments_moved = any(kind == "department" for kind, _ in moved)  # only departments' grades carry money
    assert any(c.field == "points" for c in found.changes) == departments_moved


def test_draft_reward_rules_move_points_and_yuan_but_not_the_fund(city: City) -> None:
    rules = copy.deepcopy(rewards.default_rules_body())
    rules["version"] = "draft-rules"
    rules["per_case"]["overdue"] = -10  # a late disposal costs five times as much
    found = what_if(WhatIf("2026-03", reward_rules=rules), city.uow)
    assert found.rules_after == "draft-rules" and found.scheme_after == found.scheme_before
    points = [c for c in found.changes if c.field == "points"]
    assert points and all(c.after < c.before for c in points)  # only the late ones lose
    old = rewards.reward_ledger(rewards.ShowLedger("2026-03"), city.uow)
    new = rewards.reward_ledger(rewards.ShowLedger("2026-03", rules), city.uow)
    assert sum((t.yuan for t in old.totals), Decimal(0)) == sum((t.yuan for t in new.totals), Decimal(0))
    moved = {c.code: (c.before, c.after) for c in found.changes if c.field == "yuan"}
    assert moved == {t.department: (t.yuan, n.yuan) for t in old.totals for n in new.totals
                     if t.department == n.department and t.yuan != n.yuan}  # fmt: skip


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


def test_the_unit_sheet_has_every_evaluated_unit_and_the_money_of_departments(city: City) -> None:
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
    departments = [r for r in rows if r.object_type.value == "department"]
    assert sum((r.yuan or Decimal(0) for r in departments), Decimal(0)) == ledger.fund_yuan
    lost = {d: -sum(e.points for e in ledger.entries if e.department == d and e.points < 0) for d in {e.department
            for e in ledger.entries}}  # fmt: skip
    assert all(r.deducted == round(lost.get(r.code, 0.0), 2) for r in departments if r.yuan is not None)
    assert all(r.yuan is None for r in rows if r.object_type.value != "department")
