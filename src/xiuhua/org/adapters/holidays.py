"""China's statutory holidays and make-up workdays (调休), from the chinese-calendar package."""

from __future__ import annotations

from datetime import date

from chinese_calendar import constants


def statutory_days() -> dict[date, bool]:
    """Every date the State Council moved: False for a holiday, True for a make-up workday."""
    days = {day: False for day in constants.holidays}
    days.update({day: True for day in constants.workdays})
    return days


def statutory_last_year() -> int:
    """The last year the installed package has data for; later years follow the weekday rule."""
    last: date = max(constants.holidays)
    return last.year
