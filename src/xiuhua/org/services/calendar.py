"""Use cases of the working calendar: build the city's WorkCalendar, edit periods, overrides and aliases."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from xiuhua.kernel.errors import InvalidInputError, NotFoundError
from xiuhua.kernel.ports import StatutoryDays
from xiuhua.org.domain.calendar import CANONICAL_UNITS, DEFAULT_ALIASES, DEFAULT_SCHEDULE, Schedule, WorkCalendar
from xiuhua.org.ports import CalendarUnitOfWork
from xiuhua.platform.importing import ImportReport, RowError, parse_rows, settle
from xiuhua.platform.tabular import Row

TIMEZONE_KEY = "timezone"
ALIASES_KEY = "unit_aliases"
DEFAULT_TIMEZONE = "Asia/Shanghai"


def load_calendar(uow: CalendarUnitOfWork, statutory: StatutoryDays) -> WorkCalendar:
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


def set_day(cmd: SetDay, uow: CalendarUnitOfWork) -> None:
    """Make one date a workday or a rest day for this city, over the statutory calendar."""
    if not cmd.reason.strip():
        raise InvalidInputError("calendar.no_reason", "调整工作日须填写原因，如“暴雪停工”")
    with uow:
        uow.calendar.set_override(cmd.day, cmd.workday, cmd.reason.strip())
        uow.commit()


DAY_COLUMNS = ("day", "workday", "reason")
_DAY_HEADERS = {"日期": "day", "上班": "workday", "是否上班": "workday", "原因": "reason", "说明": "reason"}
_YES = ("1", "true", "yes", "是", "上班", "workday")
_NO = ("0", "false", "no", "否", "休息", "rest")


def _parse_day_row(row: Row) -> SetDay:
    values = {_DAY_HEADERS.get(k.strip(), k.strip()): v for k, v in row.values.items()}
    text = (values.get("day") or "").strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError("time.unparseable", f"日期“{text}”无效，应为 YYYY-MM-DD") from None
    flag = (values.get("workday") or "").strip().lower()
    if flag not in _YES + _NO:
        raise InvalidInputError("calendar.bad_workday", f"是否上班“{flag}”无效，应为 上班/休息 或 是/否")
    reason = (values.get("reason") or "").strip()
    if not reason:
        raise InvalidInputError("calendar.no_reason", "调整工作日须填写原因")
    return SetDay(day, flag in _YES, reason)


def import_days(rows: Sequence[Row], uow: CalendarUnitOfWork, *, skip_invalid: bool = False) -> ImportReport:
    """Load a list of day overrides (e.g. next year's holidays before the package has them)."""
    parsed, errors = parse_rows(rows, _parse_day_row)
    first: dict[date, int] = {}
    valid = []
    for row, cmd in parsed:
        if cmd.day in first:
            errors.append(RowError(row.number, "calendar.duplicate", f"{cmd.day} 与第 {first[cmd.day]} 行重复"))
            continue
        first[cmd.day] = row.number
        valid.append(cmd)
    skipped = settle(errors, skip_invalid)
    with uow:
        for cmd in valid:
            uow.calendar.set_override(cmd.day, cmd.workday, cmd.reason)
        uow.commit()
    return ImportReport(len(valid), skipped)


def export_days(uow: CalendarUnitOfWork) -> list[tuple[str, str, str]]:
    with uow:
        return [
            (day.isoformat(), "上班" if workday else "休息", reason)
            for day, (workday, reason) in uow.calendar.overrides().items()
        ]


def clear_day(day: date, uow: CalendarUnitOfWork) -> None:
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


def put_schedule(schedule: Schedule, uow: CalendarUnitOfWork) -> None:
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


def set_unit_alias(word: str, canonical: str, uow: CalendarUnitOfWork) -> None:
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
