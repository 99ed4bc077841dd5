"""A small city in the fakes: two districts' departments, one class with a standard, a few staff."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.fakes import FakeUnitOfWork
from xiuhua.cases.services.policy import CasePolicy, load_policy
from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.actor import Actor, Role
from xiuhua.kernel.clock import FakeClock
from xiuhua.org.adapters.holidays import statutory_days
from xiuhua.org.domain.calendar import TimeLimit
from xiuhua.org.domain.model import ClassKind, Organization, OrgKind, OrgLevel, uscc_check_char
from xiuhua.org.domain.standards import CaseClass, CaseStandard

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 3, 9, 0, tzinfo=SH)  # a Tuesday morning
HERE = Location(114.3455, 34.807, "龙亭公园东门", "410202", "410202001", "410202001009", None, "B")


def uscc(seed: str) -> str:
    first17 = ("12410200" + seed).ljust(17, "0")
    return first17 + uscc_check_char(first17)


WATER = uscc("1")  # a department of district 410202
ROADS = uscc("2")  # a department of district 410203


def actor(username: str, role: Role, region: str | None = "410202", org: str | None = None) -> Actor:
    return Actor(username, frozenset({role}), region, org)


SUPERVISOR = actor("supervisor1", Role.SUPERVISOR, "410202001")
ACCEPTOR = actor("acceptor1", Role.ACCEPTOR, "410200")
SHIFT_LEADER = actor("shiftleader1", Role.SHIFT_LEADER, "410200")
DISPATCHER = actor("dispatcher1", Role.DISPATCHER, "410202")
CITY_DISPATCHER = actor("dispatcher0", Role.DISPATCHER, "410200")


def seeded() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.catalog.upsert_classes([CaseClass(ClassKind.COMPONENT, "01001", "上水井盖", "公用设施")])
    uow.catalog.upsert_standards(
        [CaseStandard(ClassKind.COMPONENT, "01001", "井盖缺失", "已补齐", {"*": TimeLimit.parse("2紧急工作时")})]
    )
    uow.organizations.upsert(
        [
            Organization(WATER, "龙亭区水务局", OrgKind.DEPARTMENT, OrgLevel.DISTRICT, "410202"),
            Organization(ROADS, "顺河区城管局", OrgKind.DEPARTMENT, OrgLevel.DISTRICT, "410203"),
        ]
    )
    return uow


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return seeded()


@pytest.fixture(scope="session")
def policy() -> CasePolicy:
    """Read once: building the working calendar is the slow part, and no test changes the rules."""
    return load_policy(seeded(), statutory_days)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)
