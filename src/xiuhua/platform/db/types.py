"""Portable column types."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator


def as_stored(moment: datetime) -> datetime:
    """A moment as a ``UTCDateTime`` column gives it back: aware, in UTC; a naive one is refused (ValueError),
    as the column refuses it. The in-memory fakes keep times this way too."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: times are stored in UTC and must be aware")
    return moment.astimezone(UTC)


def as_stored_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_stored(moment)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as naive UTC (SQLite has no time zones); read back as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_stored(value).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
