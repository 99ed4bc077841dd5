"""The working-time engine: one calendar for every deadline and every elapsed-time figure.

Time is measured on one of two clocks:
- the continuous clock (紧急工作时, 自然日): every second counts;
- the working clock (工作时, 工作日): only seconds inside the working periods of a workday count.

Both are monotone functions ``W(t)`` from an instant (UTC epoch seconds) to "seconds counted so far".
A deadline is the earliest instant ``t`` with ``W(t) - W(start) >= limit``; elapsed time is
``W(end) - W(start)``. Pauses (挂账, a pending extension) remove their own span from the count.

The working clock is a precomputed table: one row per local day (its UTC midnight, its kind and the
working seconds before it) plus one cumulative per-second row per day kind, so ``W`` and its inverse
are two ``numpy.searchsorted`` look-ups; the scalar and the batch paths share them. Resolution is one
second. numpy is pure computation, so the engine stays in the domain.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import IntEnum
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from xiuhua.kernel.errors import InvalidInputError

DAY_SECONDS = 86_400
_ROW = DAY_SECONDS + 1  # cumulative row: working seconds in [00:00, 00:00 + s) for s in 0..86400

Int64Array = npt.NDArray[np.int64]


class Unit(IntEnum):
    """Canonical time-limit units; aliases (小时, 天, …) resolve to one of these per city."""

    URGENT_HOUR = 0  # 紧急工作时: continuous hours, 24/7
    WORK_HOUR = 1  # 工作时: hours of working time
    WORKDAY = 2  # 工作日: N × the working hours of a day, counted in working time
    NATURAL_DAY = 3  # 自然日: N × 24 h continuous

    @property
    def label(self) -> str:
        return _UNIT_LABELS[self]

    @property
    def continuous(self) -> bool:
        return self in (Unit.URGENT_HOUR, Unit.NATURAL_DAY)


_UNIT_LABELS = {
    Unit.URGENT_HOUR: "紧急工作时",
    Unit.WORK_HOUR: "工作时",
    Unit.WORKDAY: "工作日",
    Unit.NATURAL_DAY: "自然日",
}
CANONICAL_UNITS: dict[str, Unit] = {label: unit for unit, label in _UNIT_LABELS.items()}
DEFAULT_ALIASES: dict[str, Unit] = {
    "小时": Unit.WORK_HOUR,
    "天": Unit.WORKDAY,
    "紧急工作日": Unit.NATURAL_DAY,
}

_LIMIT_RE = re.compile(r"^\s*(-?[0-9]+(?:\.[0-9]+)?)\s*([^0-9\s.]+)\s*$")


@dataclass(frozen=True, slots=True)
class TimeLimit:
    """A limit as written in a catalog: a non-negative value and a unit word (canonical or alias)."""

    value: Decimal
    unit: str

    def __post_init__(self) -> None:
        if self.value < 0:
            raise InvalidInputError("limit.negative", f"时限不能为负数：{self.value}{self.unit}")
        if not self.unit:
            raise InvalidInputError("limit.unknown_unit", "时限缺少单位")

    @classmethod
    def parse(cls, text: str) -> TimeLimit:
        """Parse '2紧急工作时', '4 小时', '0.5工作时'; raises InvalidInputError."""
        match = _LIMIT_RE.match(text or "")
        if not match:
            raise InvalidInputError("limit.unparseable", f"无法解析时限“{text}”，应为数值加单位，如 4工作时")
        try:
            value = Decimal(match.group(1))
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only decimals
            raise InvalidInputError("limit.unparseable", f"无法解析时限“{text}”") from exc
        return cls(value, match.group(2))

    def __str__(self) -> str:
        return f"{self.value.normalize():f}{self.unit}"


@dataclass(frozen=True, slots=True)
class Period:
    """A working period within a day, minutes from local midnight, [start, end)."""

    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < self.end_minute <= 24 * 60:
            raise InvalidInputError("calendar.bad_period", f"工作时段无效：{self}")

    def __str__(self) -> str:
        return f"{_hhmm(self.start_minute)}-{_hhmm(self.end_minute)}"


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _parse_hhmm(text: str) -> int:
    match = re.fullmatch(r"\s*([0-9]{1,2}):([0-9]{2})\s*", text)
    if not match or int(match.group(2)) >= 60 or int(match.group(1)) * 60 + int(match.group(2)) > 1440:
        raise InvalidInputError("calendar.bad_period", f"时刻“{text}”无效，应为 HH:MM")
    return int(match.group(1)) * 60 + int(match.group(2))


def parse_periods(text: str) -> tuple[Period, ...]:
    """Parse '08:00-12:00,14:00-18:00' into sorted, non-overlapping periods."""
    periods = []
    for part in re.split(r"[,，;；]", text):
        if not part.strip():
            continue
        bounds = part.split("-")
        if len(bounds) != 2:
            raise InvalidInputError("calendar.bad_period", f"工作时段“{part}”无效，应为 HH:MM-HH:MM")
        periods.append(Period(_parse_hhmm(bounds[0]), _parse_hhmm(bounds[1])))
    periods.sort(key=lambda p: p.start_minute)
    if not periods:
        raise InvalidInputError("calendar.bad_period", "至少需要一个工作时段")
    for before, after in itertools.pairwise(periods):
        if after.start_minute < before.end_minute:
            raise InvalidInputError("calendar.bad_period", f"工作时段重叠：{before} 与 {after}")
    return tuple(periods)


@dataclass(frozen=True, slots=True)
class Schedule:
    """Working periods of a workday; seasonal when it has a (month, day) window, inclusive, may wrap."""

    name: str
    periods: tuple[Period, ...]
    season: tuple[tuple[int, int], tuple[int, int]] | None = None

    @property
    def day_seconds(self) -> int:
        return sum(p.end_minute - p.start_minute for p in self.periods) * 60

    def covers(self, day: date) -> bool:
        if self.season is None:
            return True
        first, last = self.season
        key = (day.month, day.day)
        return first <= key <= last if first <= last else key >= first or key <= last


DEFAULT_SCHEDULE = Schedule("标准作息", parse_periods("08:00-12:00,14:00-18:00"))


@dataclass(frozen=True, slots=True)
class Pause:
    """An interval excluded from every clock (挂账, pending extension); aware datetimes, end exclusive."""

    start: datetime
    end: datetime


@dataclass
class WorkCalendar:
    """A city's working calendar over [first_year, last_year].

    ``day_overrides`` maps a date to True (a workday, e.g. 调休) or False (a rest day, e.g. a
    statutory holiday or a snowstorm closure); other dates are workdays Monday to Friday.
    """

    tz: str = "Asia/Shanghai"
    schedules: Sequence[Schedule] = (DEFAULT_SCHEDULE,)
    day_overrides: Mapping[date, bool] = field(default_factory=dict)
    first_year: int = 2004
    last_year: int = 2040
    aliases: Mapping[str, Unit] = field(default_factory=lambda: dict(DEFAULT_ALIASES))

    def __post_init__(self) -> None:
        defaults = [s for s in self.schedules if s.season is None]
        if len(defaults) != 1:
            raise InvalidInputError("calendar.no_default_schedule", "必须有且仅有一个全年适用的作息时间")
        self._zone = ZoneInfo(self.tz)
        self._first_day = date(self.first_year, 1, 1)
        days = (date(self.last_year + 1, 1, 1) - self._first_day).days
        # Seasonal schedules take precedence over the all-year one, in the order given.
        ordered = [s for s in self.schedules if s.season is not None] + defaults
        kind_rows = [np.zeros(_ROW, dtype=np.int64)]  # kind 0: a rest day
        for schedule in ordered:
            working = np.zeros(DAY_SECONDS, dtype=np.int64)
            for p in schedule.periods:
                working[p.start_minute * 60 : p.end_minute * 60] = 1
            kind_rows.append(np.concatenate(([0], np.cumsum(working))))
        self._kind_rows = np.stack(kind_rows)
        # Row k is shifted by k * _ROW so the flattened table is monotone for one searchsorted.
        self._flat = (self._kind_rows + (np.arange(len(kind_rows), dtype=np.int64) * _ROW)[:, None]).ravel()

        midnights = np.empty(days + 1, dtype=np.int64)
        kinds = np.empty(days, dtype=np.int64)
        std_seconds = np.empty(days, dtype=np.int64)
        for i in range(days + 1):
            day = self._first_day + timedelta(days=i)
            midnights[i] = int(datetime(day.year, day.month, day.day, tzinfo=self._zone).timestamp())
            if i == days:
                break
            index = next(j for j, s in enumerate(ordered) if s.covers(day))
            std_seconds[i] = ordered[index].day_seconds
            workday = self.day_overrides.get(day, day.weekday() < 5)
            kinds[i] = index + 1 if workday else 0
        if np.any(np.diff(midnights) != DAY_SECONDS):
            raise InvalidInputError("calendar.dst_zone", f"时区 {self.tz} 有夏令时，工作时间引擎不支持")
        self._midnights = midnights
        self._kinds = kinds
        self._std_day_seconds = std_seconds
        day_work = self._kind_rows[kinds, DAY_SECONDS]
        self._cum = np.concatenate(([0], np.cumsum(day_work)))  # working seconds before each day

    # ----- units -------------------------------------------------------------------------------
    def unit_of(self, word: str) -> Unit:
        """The canonical unit a unit word means in this city; raises InvalidInputError."""
        if word in CANONICAL_UNITS:
            return CANONICAL_UNITS[word]
        if word in self.aliases:
            return self.aliases[word]
        known = "、".join([*CANONICAL_UNITS, *self.aliases])
        raise InvalidInputError("limit.unknown_unit", f"未知的时限单位“{word}”，可用：{known}", unit=word)

    def is_workday(self, day: date) -> bool:
        return bool(self._kinds[self._day_index(day)] != 0)

    def _day_index(self, day: date) -> int:
        index = (day - self._first_day).days
        if not 0 <= index < len(self._kinds):
            raise InvalidInputError(
                "calendar.out_of_range",
                f"日期 {day} 超出工作日历范围 {self.first_year}–{self.last_year} 年",
            )
        return index

    # ----- the working clock W and its inverse (batch) -------------------------------------------
    def _days_of(self, t: Int64Array) -> Int64Array:
        # Every day is 86,400 s long (checked at build), so the day index is arithmetic.
        d = (t - self._midnights[0]) // DAY_SECONDS
        if d.size and (d.min() < 0 or d.max() >= len(self._kinds)):
            raise InvalidInputError(
                "calendar.out_of_range", f"时间超出工作日历范围 {self.first_year}–{self.last_year} 年"
            )
        days: Int64Array = d.astype(np.int64, copy=False)
        return days

    def _work(self, t: Int64Array) -> Int64Array:
        """Working seconds counted from the table's origin up to each instant t (epoch seconds)."""
        d = self._days_of(t)
        counted: Int64Array = self._cum[d] + self._kind_rows[self._kinds[d], t - self._midnights[d]]
        return counted

    def _work_inverse(self, total: Int64Array) -> Int64Array:
        """The earliest instant at which the working clock reads ``total``."""
        d = np.searchsorted(self._cum[1:], total, side="left")
        if d.size and d.max() >= len(self._kinds):
            raise InvalidInputError("calendar.out_of_range", f"期限超出工作日历范围（至 {self.last_year} 年底）")
        k = self._kinds[d]
        offset = np.searchsorted(self._flat, k * _ROW + (total - self._cum[d]), side="left") - k * _ROW
        instants: Int64Array = self._midnights[d] + offset
        return instants

    def limit_seconds(self, starts: Int64Array, values: npt.NDArray[np.float64], units: Int64Array) -> Int64Array:
        """How many seconds of its clock each limit counts (工作日 uses the start day's schedule)."""
        per_unit = np.select(
            [units == Unit.NATURAL_DAY, units == Unit.WORKDAY],
            [np.full(units.shape, DAY_SECONDS), self._std_day_seconds[self._days_of(starts)]],
            3600,
        )
        seconds: Int64Array = np.rint(values * per_unit).astype(np.int64)
        return seconds

    def deadlines(self, starts: Int64Array, values: npt.NDArray[np.float64], units: Int64Array) -> Int64Array:
        """Batch deadlines (epoch seconds) for starts (epoch seconds), limit values and Unit codes."""
        starts = np.asarray(starts, dtype=np.int64)
        units = np.asarray(units, dtype=np.int64)
        amounts = self.limit_seconds(starts, np.asarray(values, dtype=np.float64), units)
        out = starts + amounts
        working = (units == Unit.WORK_HOUR) | (units == Unit.WORKDAY)
        if working.any():
            s = starts[working]
            out[working] = np.maximum(s, self._work_inverse(self._work(s) + amounts[working]))
        return out

    def working_seconds_between(self, starts: Int64Array, ends: Int64Array) -> Int64Array:
        """Batch elapsed working time in seconds; zero where end <= start."""
        starts = np.asarray(starts, dtype=np.int64)
        ends = np.asarray(ends, dtype=np.int64)
        spent: Int64Array = np.maximum(self._work(ends) - self._work(starts), 0)
        return spent

    # ----- scalar API over the same table ------------------------------------------------------
    def deadline(self, start: datetime, limit: TimeLimit, pauses: Iterable[Pause] = ()) -> datetime:
        """The instant a limit started at ``start`` runs out, skipping pauses; local aware datetime."""
        unit = self.unit_of(limit.unit)
        s = _epoch(start)
        per_unit = {Unit.NATURAL_DAY: DAY_SECONDS, Unit.WORKDAY: int(self._std_day_seconds[self._day_at(s)])}
        remaining = int((limit.value * per_unit.get(unit, 3600)).to_integral_value())
        clock, inverse = (_same, _same) if unit.continuous else (self._work_at, self._instant_at)
        cursor = s
        for p_start, p_end in _merged(pauses, s):
            available = clock(p_start) - clock(cursor)
            if available >= remaining:
                break
            remaining -= available
            cursor = p_end
        return self.local(max(inverse(clock(cursor) + remaining), cursor))

    def elapsed(
        self, start: datetime, end: datetime, *, working: bool = True, pauses: Iterable[Pause] = ()
    ) -> timedelta:
        """Time counted between start and end on the working (or continuous) clock, less pauses."""
        s, e = _epoch(start), _epoch(end)
        if e <= s:
            return timedelta(0)
        clock = self._work_at if working else _same
        points = [s]
        for p_start, p_end in _merged(pauses, s):
            if p_start >= e:
                break
            points += [p_start, min(p_end, e)]
        points.append(e)
        counted = sum(clock(b) - clock(a) for a, b in zip(points[0::2], points[1::2], strict=True))
        return timedelta(seconds=counted)

    # The scalar twins of _work and _work_inverse: the same tables, without building arrays.
    def _day_at(self, t: int) -> int:
        d = (t - int(self._midnights[0])) // DAY_SECONDS
        if not 0 <= d < len(self._kinds):
            raise InvalidInputError(
                "calendar.out_of_range", f"时间超出工作日历范围 {self.first_year}–{self.last_year} 年"
            )
        return d

    def _work_at(self, t: int) -> int:
        d = self._day_at(t)
        return int(self._cum[d]) + int(self._kind_rows[self._kinds[d], t - int(self._midnights[d])])

    def _instant_at(self, total: int) -> int:
        d = int(np.searchsorted(self._cum[1:], total, side="left"))
        if d >= len(self._kinds):
            raise InvalidInputError("calendar.out_of_range", f"期限超出工作日历范围（至 {self.last_year} 年底）")
        row = self._kind_rows[self._kinds[d]]
        return int(self._midnights[d]) + int(np.searchsorted(row, total - int(self._cum[d]), side="left"))

    def working_day_end(self, moment: datetime) -> datetime:
        """When the working day ends: the close of the last period on the day of the next working instant."""
        first_working_second = self._instant_at(self._work_at(_epoch(moment)) + 1) - 1
        d = self._day_at(first_working_second)
        row = self._kind_rows[self._kinds[d]]
        return self.local(int(self._midnights[d]) + int(np.searchsorted(row, row[DAY_SECONDS], side="left")))

    def local(self, epoch_seconds: int) -> datetime:
        return datetime.fromtimestamp(epoch_seconds, tz=self._zone)


def _same(t: int) -> int:
    return t


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInputError("time.naive", f"时间“{moment.isoformat()}”缺少时区，请写明偏移，如 +08:00")
    return int(moment.astimezone(UTC).timestamp() // 1)


def _merged(pauses: Iterable[Pause], after: int) -> list[tuple[int, int]]:
    """Pauses as sorted, disjoint (start, end) epoch intervals, clipped to begin no earlier than ``after``."""
    spans = sorted((max(_epoch(p.start), after), _epoch(p.end)) for p in pauses)
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
