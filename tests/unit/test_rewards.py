"""Rewards and penalties: the fund shared over kinds, units and lines to the fen; deductions priced; caps."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiuhua.evaluation.domain.model import ObjectType
from xiuhua.evaluation.domain.rewards import Entry, RewardRules, allocate
from xiuhua.kernel.errors import InvalidInputError

D, S, DIST = ObjectType.DEPARTMENT, ObjectType.STREET, ObjectType.DISTRICT


def rules(**units: dict[str, Any]) -> RewardRules:
    return RewardRules.from_dict({"version": "t", "units": units})


def test_the_fund_is_shared_to_the_fen_and_every_yuan_names_its_outcome() -> None:
    entries = [
        Entry(D, "water", "case", "closed_on_time", "A", 1.0),
        Entry(D, "water", "case", "closed_on_time", "C", 1.0),
        Entry(D, "water", "case", "overdue", "B", -2.0),
        Entry(D, "water", "overall", "rank", None, 15.0),
        Entry(D, "roads", "case", "overdue", "D", -2.0),  # net negative: no share of the fund
    ]
    out = allocate(entries, Decimal("100000.00"), rules(department={"share": 1})).entries
    assert sum(e.yuan for e in out) == Decimal("100000.00")
    # water's net is 15 (1 + 1 − 2 + 15); the fund goes over its earning entries by points 1 : 1 : 15
    assert [e.yuan for e in out] == [Decimal("5882.35"), Decimal("5882.35"), Decimal(0), Decimal("88235.30"),
                                     Decimal(0)]  # fmt: skip


def test_no_positive_points_means_no_yuan_is_paid_and_the_fund_is_left_over() -> None:
    done = allocate([Entry(D, "water", "case", "overdue", "B", -2.0)], Decimal("1000"), rules(department={"share": 1}))
    assert [e.yuan for e in done.entries] == [Decimal(0)]
    assert done.unallocated_yuan == Decimal("1000")
    assert allocate([], Decimal("1000"), rules(department={"share": 1})).entries == []


def test_units_share_by_net_points() -> None:
    out = allocate([Entry(D, "a", "overall", "rank", None, 2.0), Entry(D, "b", "overall", "rank", None, 1.0)],
                   Decimal(1), rules(department={"share": 1})).entries  # fmt: skip
    assert [e.yuan for e in out] == [Decimal("0.67"), Decimal("0.33")]


def test_the_fund_is_split_over_kinds_by_share_then_within_each_kind() -> None:
    entries = [Entry(D, "water", "overall", "rank", None, 10.0), Entry(DIST, "gulou", "overall", "rank", None, 1.0),
               Entry(DIST, "longting", "overall", "rank", None, 3.0)]  # fmt: skip
    done = allocate(entries, Decimal("21000000.00"), rules(department={"share": 2}, district={"share": 1}))
    by_unit = {e.unit: e.yuan for e in done.entries}
    assert by_unit == {"water": Decimal("14000000.00"), "gulou": Decimal("1750000.00"),
                       "longting": Decimal("5250000.00")}  # fmt: skip
    assert done.unallocated_yuan == 0


def test_a_lost_point_costs_yuan_from_the_award_then_the_deposit_and_deductions_stop_at_the_cap() -> None:
    entries = [Entry(D, "water", "case", "overdue", f"C{i}", -2.0) for i in range(10)]  # 20 points lost
    entries.append(Entry(D, "roads", "case", "reworked", "R1", -1.0))
    unit = {"share": 1, "yuan_per_penalty_point": "50", "max_deduction_yuan": "600"}
    done = allocate(entries, Decimal("1000"), rules(department=unit))
    water = [e for e in done.entries if e.unit == "water"]
    assert {e.yuan for e in water if e.layer == "case"} == {Decimal("-100.00")}
    # 1,000 yuan lost, the cap is 600: one adjustment gives back 400
    assert [(e.layer, e.outcome, e.yuan) for e in water if e.layer == "adjustment"] == [
        ("adjustment", "deduction_cap", Decimal("400.00"))]  # fmt: skip
    assert sum(e.yuan for e in water) == Decimal("-600.00")
    assert [e.yuan for e in done.entries if e.unit == "roads"] == [Decimal("-50.00")]
    assert done.unallocated_yuan == Decimal("1000")  # nobody earned points


def test_a_unit_at_its_cap_leaves_the_rest_to_the_others_and_what_nobody_can_take_stays_in_the_fund() -> None:
    entries = [Entry(S, "a", "overall", "rank", None, 8.0), Entry(S, "b", "overall", "rank", None, 2.0)]
    done = allocate(entries, Decimal("1000"), rules(street={"share": 1, "cap_yuan": "300"}))
    assert {e.unit: e.yuan for e in done.entries} == {"a": Decimal("300.00"), "b": Decimal("300.00")}
    assert done.unallocated_yuan == Decimal("400.00")
    uncapped = allocate(entries, Decimal("1000"), rules(street={"share": 1, "cap_yuan": "700"}))
    assert {e.unit: e.yuan for e in uncapped.entries} == {"a": Decimal("700.00"), "b": Decimal("300.00")}
    assert uncapped.unallocated_yuan == 0


unit_kinds = st.sampled_from([D, S, DIST, ObjectType.SUPERVISOR])
points = st.sampled_from([-3.0, -1.5, -0.5, 0.1, 0.5, 1.0, 7.0, 15.0])
line = st.builds(lambda k, u, p: Entry(k, u, "case", "x", None, p), unit_kinds, st.sampled_from("abcde"), points)
lines = st.lists(line, max_size=40)


@settings(max_examples=200, deadline=None)
@given(lines, st.decimals(min_value=0, max_value=10**8, places=2), st.sampled_from([None, "10", "1000.50"]))
def test_every_fen_of_the_fund_is_paid_or_left_over_and_no_unit_passes_its_caps(
    entries: list[Entry], fund: Decimal, cap: str | None
) -> None:
    unit = {"share": 1, "yuan_per_penalty_point": "3", "max_deduction_yuan": "5", **({"cap_yuan": cap} if cap else {})}
    done = allocate(entries, fund, rules(department=unit, street={**unit, "share": 2}, district=unit))
    awarded = sum((e.yuan for e in done.entries if e.yuan > 0 and e.layer != "adjustment"), Decimal(0))
    assert awarded + done.unallocated_yuan == fund
    assert all(e.yuan == e.yuan.quantize(Decimal("0.01")) for e in done.entries)
    for key in {e.key for e in done.entries}:
        mine = [e for e in done.entries if e.key == key]
        award = sum((e.yuan for e in mine if e.yuan > 0 and e.layer != "adjustment"), Decimal(0))
        net = sum((e.yuan for e in mine), Decimal(0))
        if cap is not None:
            assert award <= Decimal(cap)
        assert net - award >= Decimal("-5")  # deductions never pass the cap on deductions
        assert all(e.yuan <= 0 for e in mine if e.points < 0)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"version": "x", "per_case": {"bogus": 1}}, "未知"),
        ({"version": "x", "per_case": {}, "monthly_fund_yuan": "-1"}, "非负"),
        ({"version": "x", "units": {"supervisor": {"per_case": {"overdue": -1}}}}, "不适用"),
        ({"version": "x", "units": {"planet": {}}}, "planet"),
        ({"version": "x", "units": {"department": {"share": -1}}}, "份额"),
        ({"version": "x", "units": {"department": {"cap_yuan": "NaN"}}}, "金额"),
        ({"version": "x", "units": {"department": []}}, "格式"),
        ({"version": "x"}, "units"),
        ({"units": {}}, "version"),
    ],
)
def test_reward_rules_are_checked(body: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        RewardRules.from_dict(body)
    assert info.value.code == "reward.bad_rules"
    assert message in info.value.message


def test_the_first_format_is_departments_alone_with_the_whole_fund() -> None:
    old = RewardRules.from_dict({"version": "v1", "per_case": {"overdue": -2}, "monthly_fund_yuan": "10"})
    assert set(old.units) == {D} and old.units[D].share == 1 and old.units[D].per_case == {"overdue": -2.0}
