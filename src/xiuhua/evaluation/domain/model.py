"""What is evaluated: object types, periods, the indicator catalogue and the versioned assessment scheme."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from xiuhua.evaluation.domain.scoring import Band, GradeBand
from xiuhua.kernel.errors import InvalidInputError


class ObjectType(StrEnum):
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"
    DEPARTMENT = "department"
    SUPERVISOR = "supervisor"
    ACCEPTOR = "acceptor"
    SHIFT_LEADER = "shift_leader"
    DISPATCHER = "dispatcher"

    @property
    def label(self) -> str:
        return OBJECT_LABELS[self]

    @property
    def is_region(self) -> bool:
        return self in REGION_TYPES

    @property
    def is_post(self) -> bool:
        return self in POST_TYPES

    @classmethod
    def parse(cls, text: str) -> ObjectType:
        for kind, label in OBJECT_LABELS.items():
            if text.strip() in (kind.value, label):
                return kind
        names = "、".join(f"{k.value}（{v}）" for k, v in OBJECT_LABELS.items())
        raise InvalidInputError("evaluation.bad_object_type", f"评价对象类型“{text}”无效，可用：{names}")


OBJECT_LABELS = {
    ObjectType.DISTRICT: "区",
    ObjectType.STREET: "街道",
    ObjectType.COMMUNITY: "社区",
    ObjectType.GRID: "单元网格",
    ObjectType.DEPARTMENT: "专业部门",
    ObjectType.SUPERVISOR: "监督员",
    ObjectType.ACCEPTOR: "受理员",
    ObjectType.SHIFT_LEADER: "值班长",
    ObjectType.DISPATCHER: "派遣员",
}
REGION_TYPES = (ObjectType.DISTRICT, ObjectType.STREET, ObjectType.COMMUNITY, ObjectType.GRID)
POST_TYPES = (ObjectType.SUPERVISOR, ObjectType.ACCEPTOR, ObjectType.SHIFT_LEADER, ObjectType.DISPATCHER)


class IndicatorKind(StrEnum):
    RATE = "rate"  # numerator / denominator, scored rate × 100 (or (1 − rate) × 100 when lower is better)
    BAND = "band"  # a count scored by the scheme's bands
    DENSITY = "density"  # a count per size, ``per`` (not scored unless the scheme gives bands)


@dataclass(frozen=True, slots=True)
class Indicator:
    code: str
    name: str
    kind: IndicatorKind
    numerator: str
    denominator: str | None = None
    higher_is_better: bool = True
    per: str | None = None  # a density's size: "km2" (area of the unit grids) or "10k_residents"


Ind, K = Indicator, IndicatorKind
_REGION = (
    Ind("supervision_report_rate", "监督举报率", K.RATE, "public_verified", "filed", higher_is_better=False),
    Ind("filed_score", "立案数分值", K.BAND, "filed"),
    Ind("close_rate", "结案率", K.RATE, "closed", "due_to_close"),
    Ind("on_time_close_rate", "按期结案率", K.RATE, "closed_on_time", "timed_due_to_close"),
    Ind("repeat_rate", "反复发生率", K.RATE, "repeated", "filed", higher_is_better=False),
    Ind("volume_density", "案件发生量（件/平方千米）", K.DENSITY, "filed", per="km2"),
    Ind("volume_per_10k", "案件发生量（件/万人）", K.DENSITY, "filed", per="10k_residents"),
)
INDICATORS: dict[ObjectType, tuple[Indicator, ...]] = {
    **{t: _REGION for t in REGION_TYPES},
    ObjectType.DEPARTMENT: (
        Ind("filed_score", "立案数分值", K.BAND, "dispatched"),
        Ind("close_rate", "结案率", K.RATE, "closed", "to_dispose"),
        Ind("on_time_disposal_rate", "按期处置率", K.RATE, "disposed_on_time", "timed_to_dispose"),
        Ind("rework_rate", "返工率", K.RATE, "reworked", "disposed", higher_is_better=False),
        Ind("overdue_count", "超期数", K.BAND, "overdue", higher_is_better=False),
        Ind("special_urge_count", "专项督办数", K.BAND, "special_urged", higher_is_better=False),
    ),
    ObjectType.SUPERVISOR: (
        Ind("valid_report_rate", "有效上报率", K.RATE, "valid_reports", "reports"),
        Ind("missed_rate", "漏报率", K.RATE, "missed", "found", higher_is_better=False),
        Ind("verify_on_time_rate", "按时核实率", K.RATE, "verify_on_time", "verify_tasks"),
        Ind("check_on_time_rate", "按时核查率", K.RATE, "check_on_time", "check_tasks"),
    ),
    ObjectType.ACCEPTOR: (
        Ind("accepted_score", "受理数分值", K.BAND, "accepted"),
        Ind("verify_send_on_time_rate", "核实按时派发率", K.RATE, "verify_sends_on_time", "verify_sends"),
        Ind("check_send_on_time_rate", "核查按时派发率", K.RATE, "check_sends_on_time", "check_sends"),
    ),
    ObjectType.SHIFT_LEADER: (
        Ind("on_time_filing_rate", "按时立案率", K.RATE, "filings_on_time", "filings"),
        Ind("accurate_filing_rate", "准确立案率", K.RATE, "accurate_filings", "filed_cases"),
        Ind("on_time_closing_rate", "按时结案率", K.RATE, "closings_on_time", "closings"),
    ),
    ObjectType.DISPATCHER: (
        Ind("dispatched_score", "派遣数分值", K.BAND, "dispatches"),
        Ind("on_time_dispatch_rate", "按时派遣率", K.RATE, "dispatches_on_time", "dispatches"),
        Ind("accurate_dispatch_rate", "准确派遣率", K.RATE, "accurate_dispatches", "first_dispatches"),
    ),
}

COUNT_LABELS = {
    "filed": "立案数",
    "public_verified": "监督举报核实数",
    "due_to_close": "应结案数",
    "timed_due_to_close": "应结案数（时限已知）",
    "timing_unknown": "时限未知数",
    "closed": "结案数",
    "closed_on_time": "按期结案数",
    "overdue_closed": "超期结案数",
    "overdue": "超期数",
    "reworked": "返工数",
    "returned": "回退数",
    "extended": "延期数",
    "parked": "挂账数",
    "urged": "督办数",
    "special_urged": "专项督办数",
    "self_disposed": "自处理数",
    "repeated": "反复发生数",
    "dispatched": "派遣数",
    "to_dispose": "应处置数",
    "timed_to_dispose": "应处置数（时限已知）",
    "disposed": "处置数",
    "disposed_on_time": "按期处置数",
    "reports": "上报数",
    "valid_reports": "有效上报数",
    "missed": "漏报数",
    "found": "应上报数",
    "verify_tasks": "核实数",
    "verify_on_time": "按时核实数",
    "check_tasks": "核查数",
    "check_on_time": "按时核查数",
    "accepted": "受理数",
    "verify_sends": "核实派发数",
    "verify_sends_on_time": "按时核实派发数",
    "check_sends": "核查派发数",
    "check_sends_on_time": "按时核查派发数",
    "filings": "立案操作数",
    "filings_on_time": "按时立案数",
    "filed_cases": "所立案件数",
    "accurate_filings": "准确立案数",
    "closings": "结案操作数",
    "closings_on_time": "按时结案数",
    "dispatches": "派遣操作数",
    "dispatches_on_time": "按时派遣数",
    "first_dispatches": "首次派遣案件数",
    "accurate_dispatches": "准确派遣数",
}


def indicator(object_type: ObjectType, code: str) -> Indicator:
    for item in INDICATORS[object_type]:
        if item.code == code:
            return item
    names = "、".join(i.code for i in INDICATORS[object_type])
    raise InvalidInputError(
        "evaluation.unknown_indicator", f"{object_type.label}没有指标“{code}”，可用：{names}", indicator=code
    )


# ----- periods -------------------------------------------------------------------------------------
class PeriodKind(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    RANGE = "range"


FIRST_YEAR, LAST_YEAR = 1900, 2999
MAX_RANGE_DAYS = 3660
"""Periods a city evaluates: within these years and at most ten years long (so that the periods before one,
for trends, stay within the calendar)."""
_PATTERNS = (
    (PeriodKind.DAY, re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")),
    (PeriodKind.WEEK, re.compile(r"^(\d{4})-W(\d{2})$")),
    (PeriodKind.MONTH, re.compile(r"^(\d{4})-(\d{2})$")),
    (PeriodKind.QUARTER, re.compile(r"^(\d{4})-Q([1-4])$")),
    (PeriodKind.YEAR, re.compile(r"^(\d{4})$")),
    (PeriodKind.RANGE, re.compile(r"^(\d{4}-\d{2}-\d{2})~(\d{4}-\d{2}-\d{2})$")),
)


@dataclass(frozen=True, slots=True)
class Period:
    """A span of local calendar days, first and last inclusive."""

    kind: PeriodKind
    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise InvalidInputError("evaluation.bad_period", f"时段结束日 {self.last} 早于开始日 {self.first}")

    @classmethod
    def parse(cls, text: str) -> Period:
        """2026-10-05, 2026-W41, 2026-10, 2026-Q4, 2026, or 2026-10-01~2026-10-15."""
        text = text.strip()
        try:
            for kind, pattern in _PATTERNS:
                if m := pattern.match(text):
                    period = cls._from_match(kind, m.groups())
                    if period.first.year < FIRST_YEAR or period.last.year > LAST_YEAR:
                        raise InvalidInputError("evaluation.bad_period", f"时段应在 {FIRST_YEAR}–{LAST_YEAR} 年之内")
                    if (period.last - period.first).days >= MAX_RANGE_DAYS:
                        raise InvalidInputError("evaluation.bad_period", f"时段不能超过 {MAX_RANGE_DAYS} 天")
                    return period
        except ValueError:
            pass
        raise InvalidInputError(
            "evaluation.bad_period",
            f"时段“{text}”无效，可写 2026-10（月）、2026-10-05（日）、2026-W41（周）、2026-Q4（季）、2026（年）"
            "或 2026-10-01~2026-10-15（任意区间）",
        )

    @classmethod
    def _from_match(cls, kind: PeriodKind, g: tuple[str, ...]) -> Period:
        if kind is PeriodKind.DAY:
            day = date(int(g[0]), int(g[1]), int(g[2]))
            return cls(kind, day, day)
        if kind is PeriodKind.WEEK:
            monday = date.fromisocalendar(int(g[0]), int(g[1]), 1)
            return cls(kind, monday, monday + timedelta(days=6))
        if kind is PeriodKind.MONTH:
            return cls.month(int(g[0]), int(g[1]))
        if kind is PeriodKind.QUARTER:
            q = int(g[1])
            first = date(int(g[0]), 3 * q - 2, 1)
            return cls(kind, first, cls.month(int(g[0]), 3 * q).last)
        if kind is PeriodKind.YEAR:
            return cls(kind, date(int(g[0]), 1, 1), date(int(g[0]), 12, 31))
        return cls(kind, date.fromisoformat(g[0]), date.fromisoformat(g[1]))

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return cls(PeriodKind.MONTH, first, following - timedelta(days=1))

    @property
    def key(self) -> str:
        f = self.first
        match self.kind:
            case PeriodKind.DAY:
                return f.isoformat()
            case PeriodKind.WEEK:
                year, week, _ = f.isocalendar()
                return f"{year}-W{week:02d}"
            case PeriodKind.MONTH:
                return f"{f:%Y-%m}"
            case PeriodKind.QUARTER:
                return f"{f.year}-Q{(f.month - 1) // 3 + 1}"
            case PeriodKind.YEAR:
                return str(f.year)
        return f"{f.isoformat()}~{self.last.isoformat()}"

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC: local midnight of the first day to local midnight after the last."""
        start = datetime.combine(self.first, time(), tz).astimezone(UTC)
        end = datetime.combine(self.last + timedelta(days=1), time(), tz).astimezone(UTC)
        return start, end

    def previous(self) -> Period:
        """The period of the same kind just before this one (a range: the same number of days)."""
        if self.kind is PeriodKind.MONTH:
            f = self.first
            return Period.month(f.year - (f.month == 1), 12 if f.month == 1 else f.month - 1)
        if self.kind is PeriodKind.QUARTER:
            year, month = _back(self.first, 3)
            return Period(PeriodKind.QUARTER, date(year, month, 1), Period.month(*_back(self.first, 1)).last)
        if self.kind is PeriodKind.YEAR:
            year = self.first.year - 1
            return Period(PeriodKind.YEAR, date(year, 1, 1), date(year, 12, 31))
        span = self.last - self.first + timedelta(days=1)
        return Period(self.kind, self.first - span, self.last - span)


def _back(day: date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 - months
    return index // 12, index % 12 + 1


# ----- the scheme ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ObjectScheme:
    weights: dict[str, float]
    bands: dict[str, tuple[Band, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Scheme:
    """Weights, score bands and grade bands in force from ``valid_from`` (a local date) on."""

    version: str
    valid_from: date
    name: str
    grades: tuple[GradeBand, ...]
    objects: dict[ObjectType, ObjectScheme]

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Scheme:
        """Parse and check a scheme document; raises InvalidInputError naming what is wrong."""
        try:
            version = str(body["version"]).strip()
            valid_from = date.fromisoformat(str(body["valid_from"]))
            grades = tuple(GradeBand(str(g), float(m)) for g, m in body["grades"])
            objects: dict[ObjectType, ObjectScheme] = {}
            for name, spec in body["objects"].items():
                kind = ObjectType.parse(name)
                known = {i.code for i in INDICATORS[kind]}
                weights = {str(k): float(v) for k, v in spec.get("weights", {}).items()}
                bands = {
                    str(k): tuple(Band(float(lo), None if hi is None else float(hi), float(p)) for lo, hi, p in v)
                    for k, v in spec.get("bands", {}).items()
                }
                if unknown := (set(weights) | set(bands)) - known:
                    raise InvalidInputError(
                        "evaluation.bad_scheme", f"方案为{kind.label}设了未知指标：{'、'.join(sorted(unknown))}"
                    )
                if any(w < 0 for w in weights.values()):
                    raise InvalidInputError("evaluation.bad_scheme", f"{kind.label}的权重不能为负")
                objects[kind] = ObjectScheme(weights, bands)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError("evaluation.bad_scheme", f"评价方案格式有误：{exc}") from None
        if not version or not grades:
            raise InvalidInputError("evaluation.bad_scheme", "评价方案须有版本号和等级划分")
        if [g.min_score for g in grades] != sorted((g.min_score for g in grades), reverse=True):
            raise InvalidInputError("evaluation.bad_scheme", "等级须按最低分从高到低排列")
        return cls(version, valid_from, str(body.get("name", version)), grades, objects)

    def for_object(self, kind: ObjectType) -> ObjectScheme:
        return self.objects.get(kind, ObjectScheme({}))


def scheme_in_force(schemes: list[Scheme], period: Period) -> Scheme:
    """The scheme with the latest valid_from on or before the period's first day."""
    eligible = [s for s in schemes if s.valid_from <= period.first]
    if not eligible:
        raise InvalidInputError("evaluation.no_scheme", f"{period.key} 没有生效的评价方案", period=period.key)
    return max(eligible, key=lambda s: (s.valid_from, s.version))
