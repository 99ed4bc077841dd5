"""The working-time engine against China's 2026 calendar (statutory data from chinese-calendar)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from xiuhua.kernel.errors import InvalidInputError
from xiuhua.org.adapters.holidays import statutory_days
from xiuhua.org.domain.calendar import (
    Pause,
    Schedule,
    TimeLimit,
    Unit,
    WorkCalendar,
    parse_periods,
)

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """Local Shanghai time from 'YYYY-MM-DD HH:MM'."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar(day_overrides=statutory_days(), first_year=2025, last_year=2027)


def due(cal: WorkCalendar, start: str, limit: str, pauses: tuple[Pause, ...] = ()) -> str:
    return cal.deadline(at(start), TimeLimit.parse(limit), pauses).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("start", "limit", "expected"),
    [
        # National Day 2026: Oct 1–7 off; Sep 20 (Sun) and Oct 10 (Sat) are make-up workdays.
        ("2026-09-30 16:00", "4工作时", "2026-10-08 10:00"),
        ("2026-09-30 16:00", "2工作时", "2026-09-30 18:00"),
        ("2026-09-18 17:00", "2工作时", "2026-09-20 09:00"),
        ("2026-09-19 17:00", "2工作时", "2026-09-20 10:00"),
        ("2026-10-09 17:00", "1工作日", "2026-10-10 17:00"),
        ("2026-10-09 17:00", "2工作日", "2026-10-12 17:00"),
        ("2026-10-03 10:00", "1工作时", "2026-10-08 09:00"),
        # Spring Festival 2026: Feb 15–23 off; Feb 14 (Sat) and Feb 28 (Sat) are make-up workdays.
        ("2026-02-13 17:00", "2工作时", "2026-02-14 09:00"),
        ("2026-02-14 17:30", "1工作时", "2026-02-24 08:30"),
        ("2026-02-14 12:00", "1工作日", "2026-02-24 12:00"),
        ("2026-02-27 17:00", "1工作日", "2026-02-28 17:00"),
        ("2026-02-16 09:00", "8工作时", "2026-02-24 18:00"),
        # Lunch break: a start inside it counts from 14:00; a limit running into it jumps over it.
        ("2026-03-03 12:30", "2工作时", "2026-03-03 16:00"),
        ("2026-03-03 11:00", "2工作时", "2026-03-03 15:00"),
        ("2026-03-03 11:00", "1工作时", "2026-03-03 12:00"),
        # Before and after hours, weekends.
        ("2026-03-03 06:00", "1工作时", "2026-03-03 09:00"),
        ("2026-03-03 19:00", "1工作时", "2026-03-04 09:00"),
        ("2026-03-07 10:00", "1工作时", "2026-03-09 09:00"),
        ("2026-03-06 17:00", "1工作日", "2026-03-09 17:00"),
        # Continuous units ignore the calendar.
        ("2026-10-01 23:00", "2紧急工作时", "2026-10-02 01:00"),
        ("2026-09-30 16:00", "3自然日", "2026-10-03 16:00"),
        ("2026-09-30 16:00", "1紧急工作日", "2026-10-01 16:00"),
        # Default aliases: 小时 = 工作时, 天 = 工作日.
        ("2026-09-30 16:00", "4小时", "2026-10-08 10:00"),
        ("2026-10-09 17:00", "1天", "2026-10-10 17:00"),
        # Fractions and zero.
        ("2026-03-03 11:45", "0.5工作时", "2026-03-03 14:15"),
        ("2026-03-03 20:00", "0工作时", "2026-03-03 20:00"),
    ],
)
def test_deadlines(cal: WorkCalendar, start: str, limit: str, expected: str) -> None:
    assert due(cal, start, limit) == expected


def test_deadline_is_iso_with_offset(cal: WorkCalendar) -> None:
    start = datetime.fromisoformat("2026-09-30T16:00+08:00")
    assert cal.deadline(start, TimeLimit.parse("4工作时")).isoformat() == "2026-10-08T10:00:00+08:00"


def test_deadline_accepts_any_offset(cal: WorkCalendar) -> None:
    start_utc = datetime.fromisoformat("2026-09-30T08:00+00:00")  # 16:00 in Shanghai
    assert cal.deadline(start_utc, TimeLimit.parse("4工作时")) == at("2026-10-08 10:00")


@pytest.mark.parametrize(
    ("text", "code"),
    [("4工作吋", "limit.unknown_unit"), ("-4工作时", "limit.negative"), ("工作时", "limit.unparseable")],
)
def test_bad_limits(cal: WorkCalendar, text: str, code: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        cal.deadline(at("2026-03-03 10:00"), TimeLimit.parse(text))
    assert info.value.code == code


def test_naive_start_is_rejected(cal: WorkCalendar) -> None:
    with pytest.raises(InvalidInputError) as info:
        cal.deadline(datetime(2026, 3, 3, 10), TimeLimit.parse("1工作时"))
    assert info.value.code == "time.naive"


def test_out_of_range(cal: WorkCalendar) -> None:
    with pytest.raises(InvalidInputError) as info:
        cal.deadline(at("2027-12-31 17:00"), TimeLimit.parse("2工作日"))
    assert info.value.code == "calendar.out_of_range"


# ----- pauses ------------------------------------------------------------------------------------
def test_pause_within_working_time_extends_the_deadline(cal: WorkCalendar) -> None:
    pause = Pause(at("2026-03-03 09:00"), at("2026-03-03 10:00"))
    assert due(cal, "2026-03-03 08:00", "2工作时", (pause,)) == "2026-03-03 11:00"


def test_pause_spanning_a_holiday_only_costs_its_working_time(cal: WorkCalendar) -> None:
    # Parked from Sep 30 17:00 to Oct 9 09:00: working time inside it is Sep 30 17–18 and Oct 8 (8 h)
    # plus Oct 9 08–09; the limit resumes at Oct 9 09:00 with 3 h left of 4.
    pause = Pause(at("2026-09-30 17:00"), at("2026-10-09 09:00"))
    assert due(cal, "2026-09-30 16:00", "4工作时", (pause,)) == "2026-10-09 12:00"


def test_pause_on_a_continuous_clock(cal: WorkCalendar) -> None:
    pause = Pause(at("2026-10-01 00:00"), at("2026-10-01 05:00"))
    assert due(cal, "2026-09-30 23:00", "2紧急工作时", (pause,)) == "2026-10-01 06:00"


def test_start_inside_a_pause_counts_from_its_end(cal: WorkCalendar) -> None:
    pause = Pause(at("2026-03-03 07:00"), at("2026-03-03 10:00"))
    assert due(cal, "2026-03-03 09:00", "1工作时", (pause,)) == "2026-03-03 11:00"


def test_overlapping_and_unsorted_pauses_are_merged(cal: WorkCalendar) -> None:
    pauses = (
        Pause(at("2026-03-03 10:00"), at("2026-03-03 11:00")),
        Pause(at("2026-03-03 09:00"), at("2026-03-03 10:30")),
    )
    # Merged into 09:00–11:00: one hour before it, one after.
    assert due(cal, "2026-03-03 08:00", "2工作时", pauses) == "2026-03-03 12:00"


def test_pause_after_the_deadline_changes_nothing(cal: WorkCalendar) -> None:
    pause = Pause(at("2026-03-04 09:00"), at("2026-03-05 09:00"))
    assert due(cal, "2026-03-03 08:00", "2工作时", (pause,)) == "2026-03-03 10:00"


# ----- elapsed -----------------------------------------------------------------------------------
def test_elapsed_working_time_across_national_day(cal: WorkCalendar) -> None:
    spent = cal.elapsed(at("2026-09-30 16:00"), at("2026-10-08 10:00"))
    assert spent == timedelta(hours=4)


def test_elapsed_continuous(cal: WorkCalendar) -> None:
    spent = cal.elapsed(at("2026-09-30 16:00"), at("2026-10-08 10:00"), working=False)
    assert spent == timedelta(days=7, hours=18)


def test_elapsed_less_pauses(cal: WorkCalendar) -> None:
    pause = Pause(at("2026-03-03 09:00"), at("2026-03-03 15:00"))
    assert cal.elapsed(at("2026-03-03 08:00"), at("2026-03-03 18:00"), pauses=(pause,)) == timedelta(hours=4)
    assert cal.elapsed(at("2026-03-03 08:00"), at("2026-03-03 18:00"), working=False, pauses=(pause,)) == timedelta(
        hours=4
    )


def test_elapsed_is_zero_backwards(cal: WorkCalendar) -> None:
    assert cal.elapsed(at("2026-03-03 18:00"), at("2026-03-03 08:00")) == timedelta(0)


def test_deadline_and_elapsed_agree_with_pauses(cal: WorkCalendar) -> None:
    pauses = (Pause(at("2026-02-12 10:00"), at("2026-02-25 11:00")),)
    start = at("2026-02-12 09:30")
    deadline = cal.deadline(start, TimeLimit.parse("3工作日"), pauses)
    assert cal.elapsed(start, deadline, pauses=pauses) == timedelta(hours=24)


# ----- schedules, overrides, aliases ------------------------------------------------------------
def test_seasonal_schedule_and_its_day_length() -> None:
    summer = Schedule("夏季作息", parse_periods("08:00-12:00,15:00-18:30"), ((6, 1), (9, 30)))
    cal = WorkCalendar(
        schedules=(summer, Schedule("标准", parse_periods("08:00-12:00,14:00-18:00"))), first_year=2026, last_year=2026
    )
    assert cal.deadline(at("2026-07-01 11:00"), TimeLimit.parse("2工作时")) == at("2026-07-01 16:00")
    assert cal.deadline(at("2026-03-03 11:00"), TimeLimit.parse("2工作时")) == at("2026-03-03 15:00")
    # 1 工作日 in summer is 7.5 working hours.
    assert cal.deadline(at("2026-07-01 08:00"), TimeLimit.parse("1工作日")) == at("2026-07-01 18:30")
    assert cal.deadline(at("2026-07-01 12:00"), TimeLimit.parse("1工作日")) == at("2026-07-02 12:00")


def test_season_may_wrap_the_year() -> None:
    winter = Schedule("冬季", parse_periods("09:00-12:00,13:30-17:00"), ((11, 1), (2, 28)))
    assert winter.covers(date(2026, 12, 15)) and winter.covers(date(2026, 1, 15))
    assert not winter.covers(date(2026, 6, 1))


def test_local_override_closes_a_day() -> None:
    days = statutory_days()
    days[date(2026, 3, 4)] = False  # snowstorm closure
    cal = WorkCalendar(day_overrides=days, first_year=2026, last_year=2026)
    assert not cal.is_workday(date(2026, 3, 4))
    assert cal.deadline(at("2026-03-03 17:00"), TimeLimit.parse("2工作时")) == at("2026-03-05 09:00")


def test_local_override_adds_a_workday() -> None:
    days = statutory_days()
    days[date(2026, 3, 7)] = True
    cal = WorkCalendar(day_overrides=days, first_year=2026, last_year=2026)
    assert cal.deadline(at("2026-03-06 17:00"), TimeLimit.parse("2工作时")) == at("2026-03-07 09:00")


def test_city_alias_changes_what_a_word_means() -> None:
    cal = WorkCalendar(aliases={"小时": Unit.URGENT_HOUR}, first_year=2026, last_year=2026)
    assert cal.deadline(at("2026-03-07 10:00"), TimeLimit.parse("4小时")) == at("2026-03-07 14:00")
    with pytest.raises(InvalidInputError):
        cal.unit_of("天")


@pytest.mark.parametrize("text", ["08:00-12:00,11:00-13:00", "8-12", "12:00-08:00", "25:00-26:00", ""])
def test_bad_periods(text: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_periods(text)
    assert info.value.code == "calendar.bad_period"


def test_exactly_one_all_year_schedule() -> None:
    with pytest.raises(InvalidInputError) as info:
        WorkCalendar(schedules=(), first_year=2026, last_year=2026)
    assert info.value.code == "calendar.no_default_schedule"


# ----- the batch path agrees with the scalar path ---------------------------------------------
def test_batch_matches_scalar(cal: WorkCalendar) -> None:
    rng = np.random.default_rng(7)
    n = 400
    base = int(at("2026-01-01 00:00").timestamp())
    starts = base + rng.integers(0, 330 * 86_400, n)
    values = rng.choice([0.5, 1, 2, 4, 8, 24], n)
    units = rng.integers(0, 4, n)
    batch = cal.deadlines(starts, values, units)
    labels = {
        Unit.URGENT_HOUR: "紧急工作时",
        Unit.WORK_HOUR: "工作时",
        Unit.WORKDAY: "工作日",
        Unit.NATURAL_DAY: "自然日",
    }
    for s, v, u, b in zip(starts, values, units, batch, strict=True):
        limit = TimeLimit(Decimal(str(v)), labels[Unit(int(u))])
        expected = cal.deadline(datetime.fromtimestamp(int(s), SH), limit)
        assert int(expected.timestamp()) == int(b), (s, v, u)
    spent = cal.working_seconds_between(starts, batch)
    working = (units == Unit.WORK_HOUR) | (units == Unit.WORKDAY)
    hours = np.where(units == Unit.WORKDAY, values * 8, values)
    assert np.array_equal(spent[working], np.rint(hours[working] * 3600).astype(np.int64))
