"""Use cases of the standards catalog: classes and case standards, imported and exported as tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xiuhua.kernel.errors import InvalidInputError
from xiuhua.org.domain.calendar import TimeLimit, WorkCalendar
from xiuhua.org.domain.model import ClassKind
from xiuhua.org.domain.standards import ALL_AREAS, AREA_CLASSES, CaseClass, CaseStandard, code_from_2013, code_to_2013
from xiuhua.org.ports import OrgUnitOfWork
from xiuhua.platform.importing import ImportReport, RowError, check_columns, parse_rows, settle
from xiuhua.platform.tabular import Row

CLASS_COLUMNS = ("kind", "code", "name", "major_code", "major_name", "code_2013")
STANDARD_COLUMNS = ("kind", "code", "name", "filing_condition", "time_limit", "area_class", "closing_condition")

# Header words a bureau's own sheet may use, mapped to ours.
_HEADER_ALIASES = {
    "类型": "kind",
    "类别代码": "code",
    "代码": "code",
    "小类代码": "code",
    "小类名称": "name",
    "名称": "name",
    "大类名称": "major_name",
    "4位代码": "code_2013",
    "立案条件": "filing_condition",
    "处置时限": "time_limit",
    "时限": "time_limit",
    "区域类别": "area_class",
    "结案条件": "closing_condition",
}


def _canonical(row: Row) -> Row:
    values = {_HEADER_ALIASES.get(k.strip(), k.strip()): v for k, v in row.values.items()}
    return Row(row.number, values)


def parse_class(row: Row) -> CaseClass:
    """A class row of the national directory (kind, code, name, major_name)."""
    kind = ClassKind.parse(row.get("kind"))
    code = row.get("code")
    if not code:
        raise InvalidInputError("catalog.bad_code", "缺少类别代码")
    return CaseClass(kind, code, row.get("name"), row.get("major_name"), code_to_2013(kind, code))


def import_classes(rows: Sequence[Row], uow: OrgUnitOfWork, *, skip_invalid: bool = False) -> ImportReport:
    """Add or update classes (a city's local extensions, or the national directory)."""
    rows = [_canonical(r) for r in rows]
    check_columns(rows, "kind", "code", "name", "major_name")
    parsed, errors = parse_rows(rows, parse_class)
    seen: dict[tuple[ClassKind, str], int] = {}
    valid = []
    for row, cls in parsed:
        key = (cls.kind, cls.code)
        if key in seen:
            errors.append(
                RowError(row.number, "catalog.duplicate", f"与第 {seen[key]} 行重复：{cls.kind.label} {cls.code}")
            )
            continue
        seen[key] = row.number
        valid.append(cls)
    skipped = settle(errors, skip_invalid)
    with uow:
        uow.catalog.upsert_classes(valid)
        uow.commit()
    return ImportReport(len(valid), skipped)


@dataclass(frozen=True, slots=True)
class _StandardRow:
    kind: ClassKind
    code: str
    filing_condition: str
    area: str
    limit: TimeLimit
    closing_condition: str


def _parse_standard_row(row: Row, classes: set[tuple[ClassKind, str]], calendar: WorkCalendar) -> _StandardRow:
    kind = ClassKind.parse(row.get("kind"))
    code = row.get("code")
    if not code and row.get("code_2013"):
        old = row.get("code_2013")
        mapped = code_from_2013(kind, old)
        if mapped is None:
            raise InvalidInputError("standard.unknown_class", f"2013 版代码 {old} 在现行标准中没有对应类别")
        code = mapped
    if (kind, code) not in classes:
        raise InvalidInputError("standard.unknown_class", f"未知的{kind.label}类别代码“{code}”")
    if row.get("time_limit"):
        limit = TimeLimit.parse(row.get("time_limit"))
    else:
        limit = TimeLimit.parse(f"{row.get('time_limit_value')}{row.get('time_limit_unit')}")
    calendar.unit_of(limit.unit)
    area = row.get("area_class").upper() or ALL_AREAS
    if area not in (ALL_AREAS, *AREA_CLASSES):
        raise InvalidInputError("standard.bad_area_class", f"区域类别“{area}”无效，应为 A、B、C 或留空")
    filing, closing = row.get("filing_condition"), row.get("closing_condition")
    if not filing:
        raise InvalidInputError("standard.no_condition", "立案条件不能为空")
    if not closing:
        raise InvalidInputError("standard.no_condition", "结案条件不能为空")
    return _StandardRow(kind, code, filing, area, limit, closing)


def import_standards(
    rows: Sequence[Row], uow: OrgUnitOfWork, calendar: WorkCalendar, *, skip_invalid: bool = False
) -> ImportReport:
    """Validate every row (class known, limit parseable with a known unit, no duplicate), then upsert.

    Columns: kind, code (5 digits) or code_2013 (4 digits, mapped), filing_condition, time_limit
    (or time_limit_value + time_limit_unit), area_class (A/B/C, empty for all), closing_condition.
    Rows that differ only in area_class form one standard with a limit per area class.
    """
    rows = [_canonical(r) for r in rows]
    check_columns(
        rows, "kind", ("code", "code_2013"), ("time_limit", "time_limit_value"), "filing_condition", "closing_condition"
    )
    with uow:
        classes = {(c.kind, c.code) for c in uow.catalog.classes()}
    parsed, errors = parse_rows(rows, lambda r: _parse_standard_row(r, classes, calendar))
    grouped: dict[tuple[ClassKind, str, str], dict[str, TimeLimit]] = {}
    closing: dict[tuple[ClassKind, str, str], str] = {}
    first_row: dict[tuple[ClassKind, str, str, str], int] = {}
    for row, item in parsed:
        key = (item.kind, item.code, item.filing_condition)
        area_key = (*key, item.area)
        if area_key in first_row:
            errors.append(
                RowError(
                    row.number,
                    "standard.duplicate",
                    f"与第 {first_row[area_key]} 行重复（同一类别、立案条件和区域类别）",
                )
            )
            continue
        first_row[area_key] = row.number
        grouped.setdefault(key, {})[item.area] = item.limit
        closing.setdefault(key, item.closing_condition)
    skipped = settle(errors, skip_invalid)
    standards = [CaseStandard(k, c, f, closing[(k, c, f)], limits) for (k, c, f), limits in grouped.items()]
    with uow:
        uow.catalog.upsert_standards(standards)
        uow.commit()
    return ImportReport(len(standards), skipped)


def export_classes(uow: OrgUnitOfWork) -> list[tuple[str, ...]]:
    with uow:
        return [
            (c.kind.value, c.code, c.name, c.major_code, c.major_name, c.code_2013 or "") for c in uow.catalog.classes()
        ]


def export_standards(uow: OrgUnitOfWork) -> list[tuple[str, ...]]:
    """One row per standard and area class, in the columns import_standards reads."""
    with uow:
        names = {(c.kind, c.code): c.name for c in uow.catalog.classes()}
        standards = uow.catalog.standards()
    return [
        (
            s.kind.value,
            s.code,
            names.get((s.kind, s.code), ""),
            s.filing_condition,
            str(limit),
            "" if area == ALL_AREAS else area,
            s.closing_condition,
        )
        for s in standards
        for area, limit in sorted(s.limits.items())
    ]
