"""The organisation repositories' contract (org.ports) and the case policy's tables: the lookups the case
services rely on."""

from __future__ import annotations

from datetime import date
from typing import Any

from xiuhua.kernel.actor import Role
from xiuhua.org.domain.calendar import TimeLimit
from xiuhua.org.domain.model import (
    ClassKind,
    ClassSelector,
    Organization,
    OrgKind,
    OrgLevel,
    Region,
    RegionLevel,
    Staff,
    uscc_check_char,
)
from xiuhua.org.domain.routing import RoutingRule
from xiuhua.org.domain.standards import CaseClass, CaseStandard

WATER = "124102001000000000"[:17] + uscc_check_char("124102001000000000"[:17])
REGIONS = [
    Region("410200", "开封市", RegionLevel.CITY),
    Region("410202", "龙亭区", RegionLevel.DISTRICT, "410200", 120_000),
    Region("410202001", "北书店街道", RegionLevel.STREET, "410202"),
]


def seed(uow: Any) -> None:
    with uow:
        uow.regions.upsert(REGIONS)
        uow.organizations.upsert(
            [Organization(WATER, "龙亭区水务局", OrgKind.DEPARTMENT, OrgLevel.DISTRICT, "410202", None, ("410202",))]
        )
        uow.staff.upsert([Staff("dispatcher1", "派遣员", frozenset({Role.DISPATCHER}), None, "410202")])
        uow.catalog.upsert_classes([CaseClass(ClassKind.COMPONENT, "01001", "上水井盖", "公用设施")])
        uow.catalog.upsert_standards(
            [CaseStandard(ClassKind.COMPONENT, "01001", "井盖缺失", "已补齐", {"*": TimeLimit.parse("2紧急工作时")})]
        )
        uow.commit()


def test_regions(uow: Any) -> None:
    seed(uow)
    with uow:
        assert uow.regions.all() == REGIONS
        assert uow.regions.codes() == {"410200", "410202", "410202001"}
        assert uow.regions.populations() == {"410202": 120_000}
        assert uow.regions.count_by_level() == {"city": 1, "district": 1, "street": 1}


def test_organizations_and_staff(uow: Any) -> None:
    seed(uow)
    with uow:
        water = uow.organizations.get(WATER)
        assert water is not None and water.name == "龙亭区水务局" and water.serves(("410200", "410202"))
        assert uow.organizations.all() == [water]
        assert uow.organizations.kind_of(WATER) is OrgKind.DEPARTMENT
        assert uow.organizations.get("X") is None and uow.organizations.kind_of("X") is None
        staff = uow.staff.get("dispatcher1")
        assert staff is not None and staff.roles == frozenset({Role.DISPATCHER}) and staff.active
        assert uow.staff.get("nobody") is None


def test_the_catalog(uow: Any) -> None:
    seed(uow)
    with uow:
        assert uow.catalog.has_class(ClassKind.COMPONENT, "01001")
        assert not uow.catalog.has_class(ClassKind.MATTER, "01001")
        [standard] = uow.catalog.standards()
        assert standard.id is not None and uow.catalog.standard(standard.id) == standard
        assert standard.limits == {"*": TimeLimit.parse("2紧急工作时")}
        assert uow.catalog.standard(standard.id + 100) is None


def test_settings_calendar_and_policy(uow: Any) -> None:
    seed(uow)
    rule = RoutingRule(ClassSelector(ClassKind.COMPONENT, "01"), "410202", WATER, 5)
    with uow:
        uow.settings.set("duplicate_radius_m", 80)
        uow.settings.set("city", {"code": "410200", "name": "开封市"})
        uow.calendar.set_override(date(2026, 3, 7), True, "调休")
        uow.policy.put_step_limits({("accept", "*", "*"): TimeLimit.parse("1工作时")})
        uow.policy.replace_routing_rules([rule])
        uow.commit()
    with uow:
        assert uow.settings.get("duplicate_radius_m") == 80
        assert uow.settings.get("city") == {"code": "410200", "name": "开封市"}
        assert uow.settings.get("missing", "fallback") == "fallback"
        assert uow.calendar.overrides() == {date(2026, 3, 7): (True, "调休")}
        assert uow.calendar.delete_override(date(2026, 3, 7)) and not uow.calendar.delete_override(date(2026, 3, 8))
        assert uow.policy.step_limits() == {("accept", "*", "*"): TimeLimit.parse("1工作时")}
        assert uow.policy.routing_rules() == [rule]
