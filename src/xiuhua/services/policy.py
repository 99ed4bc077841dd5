"""The city's rules for cases, loaded once per process: timing, routing, duplicate and repeat windows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from xiuhua.domain.calendar import TimeLimit
from xiuhua.domain.case import DEFAULT_STEP_LIMITS, Timing
from xiuhua.domain.routing import Router, RoutingRule
from xiuhua.services.calendar import load_calendar
from xiuhua.services.ports import StatutoryDays, UnitOfWork

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


def load_policy(uow: UnitOfWork, statutory: StatutoryDays) -> CasePolicy:
    calendar = load_calendar(uow, statutory)
    with uow:
        limits = {key: TimeLimit.parse(text) for key, text in DEFAULT_STEP_LIMITS.items()}
        limits.update(uow.policy.step_limits())
        rules = [RoutingRule(sel, region, dept, prio) for sel, region, dept, prio in uow.policy.routing_rules()]
        router = Router(rules, uow.organizations.all())
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
