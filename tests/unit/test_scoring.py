"""Assessment formulas and reward shares on hand-computed figures, zero denominators included."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from xiuhua.evaluation.domain.campaigns import Target, TargetKind
from xiuhua.evaluation.domain.model import Period, Scheme, scheme_in_force
from xiuhua.evaluation.domain.scoring import (
    NO_GRADE,
    Band,
    GradeBand,
    band_score,
    composite,
    grade,
    per_unit,
    rank,
    rate,
    rate_score,
    round_half_up,
)
from xiuhua.kernel.errors import InvalidInputError

GRADES = (GradeBand("A", 90), GradeBand("B", 75), GradeBand("C", 60), GradeBand("D", 40), GradeBand("E", 0))
FILED_BANDS = (Band(0, 50, 100), Band(51, 100, 90), Band(101, 200, 75), Band(201, 500, 60), Band(501, 1000, 40),
               Band(1001, None, 0))  # fmt: skip


def test_a_published_bulletin_is_reproduced() -> None:
    # 结案率 911/972 and 按期结案率 737/972 as published by a city: 93.72 % and 75.82 %.
    assert round_half_up(rate(911, 972), 4) == 0.9372
    assert round_half_up(rate(737, 972), 4) == 0.7582
    assert round_half_up(rate_score(rate(911, 972)), 2) == 93.72


def test_zero_denominators_give_no_value_not_an_error() -> None:
    assert rate(0, 0) is None
    assert rate(5, 0) is None
    assert rate_score(None) is None
    assert band_score(None, FILED_BANDS) is None
    assert per_unit(10, 0) is None and per_unit(10, None) is None
    assert composite([(0.5, None), (0.5, None)]) is None
    assert composite([]) is None
    assert grade(None, GRADES) == NO_GRADE


def test_lower_is_better_rates_score_their_complement() -> None:
    assert rate_score(0.25, higher_is_better=False) == 75
    assert rate_score(0.0, higher_is_better=False) == 100
    assert rate_score(1.0, higher_is_better=False) == 0


@pytest.mark.parametrize(
    ("count", "points"), [(0, 100), (50, 100), (51, 90), (100, 90), (101, 75), (500, 60), (1000, 40), (1001, 0)]
)
def test_count_bands_include_both_ends(count: int, points: float) -> None:
    assert band_score(count, FILED_BANDS) == points


def test_a_count_outside_every_band_scores_nothing() -> None:
    assert band_score(-1, FILED_BANDS) == 0.0


def test_composite_reweights_the_terms_that_exist() -> None:
    # department: 10 % 立案数分值 100, 30 % 结案率 75, 30 % 按期处置率 50, 30 % (1 − 返工率 1/3)
    terms = [(0.1, 100.0), (0.3, 75.0), (0.3, 50.0), (0.3, rate_score(1 / 3, higher_is_better=False))]
    assert composite(terms) == pytest.approx(67.5)
    # weights summing to 70 % (as one open implementation has them) still give a 0–100 index
    assert composite([(0.1, 80.0), (0.2, 100.0), (0.3, 90.0), (0.1, 70.0)]) == pytest.approx(62 / 0.7)
    # a term with no data drops out and the others carry its weight
    assert composite([(0.5, 80.0), (0.5, None)]) == 80.0
    assert composite([(0.0, 10.0), (1.0, 70.0)]) == 70.0


@pytest.mark.parametrize(("score", "expected"), [(100, "A"), (90, "A"), (89.99, "B"), (75, "B"), (60, "C"),
                                                 (40, "D"), (39.99, "E"), (0, "E")])  # fmt: skip
def test_grade_bands(score: float, expected: str) -> None:
    assert grade(score, GRADES) == expected


def test_ranks_share_places_and_skip_the_unscored() -> None:
    assert rank([80.0, 95.0, 80.0, None, 70.0]) == [2, 1, 2, None, 4]
    assert rank([]) == []


def test_rounding_is_half_up_on_the_decimal_text() -> None:
    assert round_half_up(0.125, 2) == 0.13
    assert round_half_up(2.675, 2) == 2.68  # binary 2.67499… would round down with round()
    assert round_half_up(None, 2) is None


def test_volume_per_square_kilometre() -> None:
    assert per_unit(30, 2.5) == 12.0


# ----- periods and schemes ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "first", "last", "previous"),
    [
        ("2026-10-05", date(2026, 10, 5), date(2026, 10, 5), "2026-10-04"),
        ("2026-W41", date(2026, 10, 5), date(2026, 10, 11), "2026-W40"),
        ("2026-10", date(2026, 10, 1), date(2026, 10, 31), "2026-09"),
        ("2026-01", date(2026, 1, 1), date(2026, 1, 31), "2025-12"),
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31), "2025-Q4"),
        ("2026", date(2026, 1, 1), date(2026, 12, 31), "2025"),
        ("2026-10-01~2026-10-15", date(2026, 10, 1), date(2026, 10, 15), "2026-09-16~2026-09-30"),
    ],
)
def test_periods_parse_to_local_days_and_step_back(text: str, first: date, last: date, previous: str) -> None:
    period = Period.parse(text)
    assert (period.first, period.last, period.key) == (first, last, text)
    assert period.previous().key == previous


def test_period_bounds_are_local_midnights_in_utc() -> None:
    start, end = Period.parse("2026-10").bounds(ZoneInfo("Asia/Shanghai"))
    assert start == datetime(2026, 9, 30, 16, tzinfo=UTC) and end == datetime(2026, 10, 31, 16, tzinfo=UTC)


def test_the_scheme_in_force_is_the_latest_that_started() -> None:
    body = {"version": "a", "valid_from": "2000-01-01", "grades": [["A", 90], ["E", 0]], "objects": {}}
    old, new = Scheme.from_dict(body), Scheme.from_dict({**body, "version": "b", "valid_from": "2026-07-01"})
    assert scheme_in_force([old, new], Period.parse("2026-06")).version == "a"
    assert scheme_in_force([old, new], Period.parse("2026-07")).version == "b"
    with pytest.raises(InvalidInputError) as info:
        scheme_in_force([new], Period.parse("2026-06"))
    assert info.value.code == "evaluation.no_scheme"


@pytest.mark.parametrize(
    "change",
    [
        {"grades": [["E", 0], ["A", 90]]},  # not best first
        {"objects": {"department": {"weights": {"close_rate": -1}}}},
        {"objects": {"department": {"weights": {"no_such": 1}}}},
        {"objects": {"nobody": {}}},
        {"valid_from": "someday"},
    ],
)
def test_bad_schemes_are_refused_with_a_code(change: dict[str, object]) -> None:
    body = {"version": "a", "valid_from": "2000-01-01", "grades": [["A", 90], ["E", 0]], "objects": {}}
    with pytest.raises(InvalidInputError) as info:
        Scheme.from_dict({**body, **change})
    assert info.value.code in ("evaluation.bad_scheme", "evaluation.bad_object_type")


def test_campaign_targets_are_capped_at_full_achievement() -> None:
    within = Target(TargetKind.DISPOSE_WITHIN, "2 小时内补齐", share=0.9, hours=2)
    assert within.achievement(0.45) == 0.5 and within.achievement(1.0) == 1.0 and within.achievement(None) is None
    quantity = Target(TargetKind.QUANTITY, "入地", amount=50, unit="km")
    assert quantity.achievement(10) == 0.2 and Target(TargetKind.QUANTITY, "x", amount=0).achievement(3) is None
