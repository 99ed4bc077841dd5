"""What every report shows of an evaluation document: the tables' columns, in print order."""

from __future__ import annotations

from typing import Any

from xiuhua.evaluation.domain.model import COUNT_LABELS, INDICATORS, IndicatorKind, ObjectType


def columns(kind: ObjectType) -> list[tuple[str, str]]:
    """(key, heading) of one object type's table: rank, object, index, grade, indicators, counts."""
    out = [("rank", "排名"), ("code", "代码"), ("name", "名称"), ("composite", "综合指数"), ("grade", "等级")]
    counts: list[str] = []
    for ind in INDICATORS[kind]:
        if ind.kind is IndicatorKind.BAND:  # the value is a count; the indicator is its banded score
            out.append((f"value:{ind.code}", COUNT_LABELS.get(ind.numerator, ind.numerator)))
            out.append((f"score:{ind.code}", ind.name))
            continue
        out.append((f"value:{ind.code}", ind.name + ("（%）" if ind.kind is IndicatorKind.RATE else "")))
        if ind.kind is not IndicatorKind.DENSITY:
            out.append((f"score:{ind.code}", f"{ind.name}得分"))
        for name in filter(None, (ind.numerator, ind.denominator)):
            if name not in counts:
                counts.append(name)
    return out + [(f"count:{c}", COUNT_LABELS.get(c, c)) for c in counts]


def extra_counts(kind: ObjectType, row: dict[str, Any]) -> list[str]:
    """Counts an object carries beyond those its indicators use (rework, overdue, return…)."""
    used = {k.split(":", 1)[1] for k, _ in columns(kind) if k.startswith("count:")}
    return [c for c in sorted(row["counts"]) if c not in used]


def cell(row: dict[str, Any], key: str, kind: ObjectType) -> Any:
    """The printable value of one column for one object."""
    if ":" not in key:
        value = row.get(key)
        return "" if value is None else value
    part, name = key.split(":", 1)
    if part == "count":
        return row["counts"].get(name, 0)
    source = row["values"] if part == "value" else row["scores"]
    value = source.get(name)
    if value is None:
        return "—"
    if part == "value" and _is_rate(kind, name):
        return round(value * 100, 2)
    return value


def _is_rate(kind: ObjectType, code: str) -> bool:
    return any(i.code == code and i.kind is IndicatorKind.RATE for i in INDICATORS[kind])


def title(document: dict[str, Any]) -> str:
    span = document["period"]
    if document["first_day"] != document["last_day"] and len(span) > 7:
        span = f"{document['first_day']} 至 {document['last_day']}"
    return f"数字城管综合评价 {span}"
