"""Use cases of the working calendar: build the city's WorkCalendar, edit periods, overrides and aliases."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from xiuhua.domain.calendar import CANONICAL_UNITS, DEFAULT_ALIASES, DEFAULT_SCHEDULE, Schedule, WorkCalendar
from xiuhua.domain.errors import InvalidInputError, NotFoundError
from xiuhua.services.ports import StatutoryDays, UnitOfWork

TIMEZONE_KEY = "timezone"
ALIASES_KEY = "unit_aliases"
DEFAULT_TIMEZONE = "Asia/Shanghai"


def load_calendar(uow: UnitOfWork, statutory: StatutoryDays) -> WorkCalendar:
    """The city's calendar: statutory holidays and make-up days, overridden by the city's own days."""
    with uow:
        schedules = uow.calendar.schedules() or [DEFAULT_SCHEDULE]
        days = statutory()
        days.update({day: workday for day, (workday, _reason) in uow.calendar.overrides().items()})
        aliases = uow.settings.get(ALIASES_KEY, {})
        tz = uow.settings.get(TIMEZONE_KEY, DEFAULT_TIMEZONE)
    resolved = dict(DEFAULT_ALIASES)
    resolved.update({word: CANONICAL_UNITS[label] for word, label in aliases.items()})
    return WorkCalendar(tz=tz, schedules=schedules, day_overrides=days, aliases=resolved)


@dataclass(frozen=True, slots=True)
class SetDay:
    day: date
    workday: bool
    reason: str


def set_day(cmd: SetDay, uow: UnitOfWork) -> None:
    """Make one date a workday or a rest day for this city, over the statutory calendar."""
    if not cmd.reason.strip():
        raise InvalidInputError("calendar.no_reason", "调整工作日须填写原因，如“暴雪停工”")
    with uow:
        uow.calendar.set_override(cmd.day, cmd.workday, cmd.reason.strip())
        uow.commit()


def clear_day(day: date, uow: UnitOfWork) -> None:
    with uow:
        if not uow.calendar.delete_override(day):
            raise NotFoundError("calendar.no_override", f"{day} 没有本地调整")
        uow.commit()


def parse_season(text: str | None) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Parse '06-01:09-30' (inclusive month-day window) or None for all year."""
    if not text:
        return None
    match = re.fullmatch(r"\s*([0-9]{2})-([0-9]{2})\s*[:~至]\s*([0-9]{2})-([0-9]{2})\s*", text)
    if not match:
        raise InvalidInputError("calendar.bad_season", f"季节“{text}”无效，应写作 MM-DD:MM-DD，如 06-01:09-30")
    m1, d1, m2, d2 = (int(g) for g in match.groups())
    for month, day in ((m1, d1), (m2, d2)):
        try:
            date(2024, month, day)  # a leap year admits 02-29
        except ValueError:
            raise InvalidInputError("calendar.bad_season", f"季节“{text}”中的日期无效") from None
    return (m1, d1), (m2, d2)


def put_schedule(schedule: Schedule, uow: UnitOfWork) -> None:
    """Add or replace a named schedule; there must stay exactly one all-year schedule."""
    with uow:
        current = {s.name: s for s in uow.calendar.schedules() or [DEFAULT_SCHEDULE]}
        current[schedule.name] = schedule
        all_year = [s.name for s in current.values() if s.season is None]
        if len(all_year) != 1:
            raise InvalidInputError(
                "calendar.no_default_schedule", f"只能有一个全年作息，现有：{'、'.join(all_year)}；请为新作息指定季节"
            )
        if not uow.calendar.schedules():
            uow.calendar.put_schedule(DEFAULT_SCHEDULE)
        uow.calendar.put_schedule(schedule)
        uow.commit()


def set_unit_alias(word: str, canonical: str, uow: UnitOfWork) -> None:
    """Say what a local unit word (小时, 天, …) means in this city."""
    if canonical not in CANONICAL_UNITS:
        raise InvalidInputError(
            "limit.unknown_unit", f"“{canonical}”不是标准单位，可用：{'、'.join(CANONICAL_UNITS)}", unit=canonical
        )
    if word in CANONICAL_UNITS:
        raise InvalidInputError("calendar.alias_is_unit", f"“{word}”本身是标准单位，不能改变其含义")
    with uow:
        aliases = uow.settings.get(ALIASES_KEY, {})
        aliases[word] = canonical
        uow.settings.set(ALIASES_KEY, aliases)
        uow.commit()
