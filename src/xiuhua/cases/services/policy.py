"""The city's rules for cases, loaded once per process: timing, routing, duplicate and repeat windows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from xiuhua.cases.domain.case import DEFAULT_STEP_LIMITS, Timing, Urgency
from xiuhua.cases.ports import CasesUnitOfWork
from xiuhua.kernel.errors import InvalidInputError
from xiuhua.kernel.ports import StatutoryDays
from xiuhua.org.domain.calendar import TimeLimit, WorkCalendar
from xiuhua.org.domain.model import ClassSelector, OrgKind
from xiuhua.org.domain.routing import Router, RoutingRule
from xiuhua.org.services.calendar import load_calendar
from xiuhua.platform.importing import ImportReport, RowError, check_columns, parse_rows, settle
from xiuhua.platform.tabular import Row

# Settings keys (table `settings`) with their defaults.
CASE_SETTINGS: dict[str, object] = {
    "pause_while_extension_pending": True,  # 延期申请待批期间处置时限暂停
    "auto_urge_after": "2工作时",  # 超期多久自动督办
    "duplicate_radius_m": 50,  # 受理时提示附近同类未结案件的半径
    "duplicate_window_hours": 72,
    "repeat_radius_m": 50,  # 结案后同地同类问题视为反复发生
    "repeat_window_days": 30,
}


@dataclass
class CasePolicy:
    timing: Timing
    router: Router
    auto_urge_after: TimeLimit
    duplicate_radius_m: float
    duplicate_window: timedelta
    repeat_radius_m: float
    repeat_window: timedelta


def load_policy(uow: CasesUnitOfWork, statutory: StatutoryDays) -> CasePolicy:
    calendar = load_calendar(uow, statutory)
    with uow:
        limits = {key: TimeLimit.parse(text) for key, text in DEFAULT_STEP_LIMITS.items()}
        limits.update(uow.policy.step_limits())
        router = Router(uow.policy.routing_rules(), uow.organizations.all())
        setting = {key: uow.settings.get(key, default) for key, default in CASE_SETTINGS.items()}
    for limit in limits.values():
        calendar.unit_of(limit.unit)  # a bad unit in the table fails here, not at the first case
    return CasePolicy(
        timing=Timing(calendar, limits, bool(setting["pause_while_extension_pending"])),
        router=router,
        auto_urge_after=TimeLimit.parse(str(setting["auto_urge_after"])),
        duplicate_radius_m=float(str(setting["duplicate_radius_m"])),
        duplicate_window=timedelta(hours=float(str(setting["duplicate_window_hours"]))),
        repeat_radius_m=float(str(setting["repeat_radius_m"])),
        repeat_window=timedelta(days=float(str(setting["repeat_window_days"]))),
    )


# ----- editing the rules (tables a bureau exchanges as CSV/XLSX) ----------------------------------------
STEP_LIMIT_COLUMNS = ("step", "urgency", "area_class", "time_limit")
ROUTING_COLUMNS = ("class", "region_code", "department_code", "priority")
STEPS = ("accept", "verify", "file", "dispatch", "send_check", "check", "close", "urge")


def _parse_step_limit(row: Row, calendar: WorkCalendar) -> tuple[tuple[str, str, str], TimeLimit]:
    step, urgency, area = row.get("step"), row.get("urgency") or "*", (row.get("area_class") or "*").upper()
    if step not in STEPS:
        raise InvalidInputError("policy.bad_step", f"环节“{step}”无效，可用：{'、'.join(STEPS)}")
    if urgency not in ("*", *(u.value for u in Urgency)):
        raise InvalidInputError("policy.bad_urgency", f"紧急程度“{urgency}”无效，应为 normal、urgent 或 *")
    if area not in ("*", "A", "B", "C"):
        raise InvalidInputError("standard.bad_area_class", f"区域类别“{area}”无效，应为 A、B、C 或 *")
    limit = TimeLimit.parse(row.get("time_limit"))
    calendar.unit_of(limit.unit)
    return (step, urgency, area), limit


def import_step_limits(
    rows: Sequence[Row], uow: CasesUnitOfWork, calendar: WorkCalendar, *, skip_invalid: bool = False
) -> ImportReport:
    """Set the time limits of the steps other than disposal, per step × urgency × area class."""
    check_columns(rows, "step", "time_limit")
    parsed, errors = parse_rows(rows, lambda r: _parse_step_limit(r, calendar))
    first: dict[tuple[str, str, str], int] = {}
    limits: dict[tuple[str, str, str], TimeLimit] = {}
    for row, (key, limit) in parsed:
        if key in first:
            errors.append(RowError(row.number, "policy.duplicate", f"与第 {first[key]} 行重复"))
            continue
        first[key], limits[key] = row.number, limit
    skipped = settle(errors, skip_invalid)
    with uow:
        uow.policy.put_step_limits(limits)
        uow.commit()
    return ImportReport(len(limits), skipped)


def export_step_limits(uow: CasesUnitOfWork) -> list[tuple[str, ...]]:
    """The limits in force: the stored ones over the product's defaults."""
    with uow:
        stored = uow.policy.step_limits()
    limits = {key: TimeLimit.parse(text) for key, text in DEFAULT_STEP_LIMITS.items()} | stored
    return [(*key, str(limit)) for key, limit in sorted(limits.items())]


def _parse_rule(row: Row, regions: set[str], departments: set[str]) -> RoutingRule:
    selector = ClassSelector.parse(row.get("class"))
    region = row.get("region_code") or None
    if region and region not in regions:
        raise InvalidInputError("policy.unknown_region", f"区划 {region} 不存在")
    department = row.get("department_code").upper()
    if department not in departments:
        raise InvalidInputError("policy.unknown_department", f"处置部门 {department} 不存在")
    try:
        priority = int(row.get("priority") or 0)
    except ValueError:
        raise InvalidInputError("policy.bad_priority", f"优先级“{row.get('priority')}”应为整数") from None
    return RoutingRule(selector, region, department, priority)


def import_routing(rows: Sequence[Row], uow: CasesUnitOfWork, *, skip_invalid: bool = False) -> ImportReport:
    """Replace the explicit routing rules (they take precedence over departments' own class lists)."""
    check_columns(rows, "class", "department_code")
    with uow:
        regions = uow.regions.codes()
        departments = {o.code for o in uow.organizations.all() if o.kind is OrgKind.DEPARTMENT}
    parsed, errors = parse_rows(rows, lambda r: _parse_rule(r, regions, departments))
    skipped = settle(errors, skip_invalid)
    with uow:
        uow.policy.replace_routing_rules([rule for _, rule in parsed])
        uow.commit()
    return ImportReport(len(parsed), skipped)


def export_routing(uow: CasesUnitOfWork) -> list[tuple[str, ...]]:
    with uow:
        return [
            (str(r.selector), r.region_code or "", r.department_code, str(r.priority))
            for r in uow.policy.routing_rules()
        ]


def set_case_setting(key: str, value: str, uow: CasesUnitOfWork, calendar: WorkCalendar) -> object:
    """Change one of CASE_SETTINGS, typed like its default; returns the stored value."""
    if key not in CASE_SETTINGS:
        raise InvalidInputError("policy.unknown_setting", f"未知的设置“{key}”，可用：{'、'.join(CASE_SETTINGS)}")
    default = CASE_SETTINGS[key]
    parsed: object
    if isinstance(default, bool):
        if value.lower() not in ("true", "false", "1", "0", "是", "否"):
            raise InvalidInputError("policy.bad_value", f"“{key}”应为 是/否")
        parsed = value.lower() in ("true", "1", "是")
    elif isinstance(default, int):
        try:
            parsed = float(value)
        except ValueError:
            raise InvalidInputError("policy.bad_value", f"“{key}”应为数字") from None
        if parsed < 0:
            raise InvalidInputError("policy.bad_value", f"“{key}”不能为负数")
    else:
        calendar.unit_of(TimeLimit.parse(value).unit)
        parsed = value
    with uow:
        uow.settings.set(key, parsed)
        uow.commit()
    return parsed
