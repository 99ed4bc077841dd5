"""Build the Kaifeng demo city: regions, catalog, case standards, organisations, staff and calendar."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from xiuhua.demo.census import generate_census
from xiuhua.geo.services import geography, layers
from xiuhua.kernel.actor import Role
from xiuhua.kernel.ports import Clock, Progress, no_progress
from xiuhua.org.domain.calendar import DEFAULT_SCHEDULE, WorkCalendar
from xiuhua.org.domain.model import ClassKind, Organization, OrgKind, Region, RegionLevel, Staff
from xiuhua.org.domain.routing import Router
from xiuhua.org.services import accounts, catalog
from xiuhua.org.services import structure as org
from xiuhua.org.services.calendar import DEFAULT_TIMEZONE, TIMEZONE_KEY
from xiuhua.platform.tabular import Row
from xiuhua.ports import ApplicationUnitOfWork

CITY_CODE = "410200"
URBAN_DISTRICTS = ("410202", "410203", "410204", "410205", "410212")  # 龙亭 顺河 鼓楼 禹王台 祥符


@dataclass(frozen=True, slots=True)
class DemoSources:
    """The package data files the demo is built from, already read as rows."""

    regions: Sequence[Row]
    classes: Sequence[Row]
    standards: Sequence[Row]
    organizations: Sequence[Row]
    geometry: Sequence[Mapping[str, Any]] = ()
    """GeoJSON features: outlines of districts, streets and communities."""
    census_scale: float = 1.0
    """Multiplies the component densities of the generated census (about 120,000 components at 1.0)."""


@dataclass
class DemoSummary:
    regions: dict[str, int] = field(default_factory=dict)
    classes: dict[str, int] = field(default_factory=dict)
    standards: int = 0
    organizations: dict[str, int] = field(default_factory=dict)
    staff: dict[str, int] = field(default_factory=dict)
    shapes: int = 0
    grids: int = 0
    components: int = 0


def build_demo(
    sources: DemoSources, uow: ApplicationUnitOfWork, calendar: WorkCalendar, progress: Progress = no_progress
) -> DemoSummary:
    """Seed (idempotently) everything the demo city needs and return what is now stored."""
    steps = 8
    progress("行政区划", 0, steps)
    org.import_regions(sources.regions, uow)
    progress("部件事项目录", 1, steps)
    catalog.import_classes(sources.classes, uow)
    progress("立案结案标准", 2, steps)
    catalog.import_standards(sources.standards, uow, calendar)
    progress("单位", 3, steps)
    org.import_organizations(sources.organizations, uow)
    progress("人员账号", 4, steps)
    with uow:
        accounts = demo_staff(uow.regions.all(), uow.organizations.all())
        uow.staff.upsert(accounts)
        if not uow.calendar.schedules():
            uow.calendar.put_schedule(DEFAULT_SCHEDULE)
        if uow.settings.get(TIMEZONE_KEY) is None:
            uow.settings.set(TIMEZONE_KEY, DEFAULT_TIMEZONE)
        uow.settings.set("city", {"code": CITY_CODE, "name": "开封市"})
        uow.commit()
    progress("区划边界与单元网格", 5, steps)
    with uow:
        has_grids = uow.geo.count_grids() > 0
    if sources.geometry and not has_grids:
        geography.seed_demo_geometry(sources.geometry, uow)
    progress("部件普查", 6, steps)
    with uow:
        has_components = uow.components.count() > 0
    if sources.geometry and sources.census_scale > 0 and not has_components:
        seed_census(uow, sources.census_scale, calendar)
    layers.seed_default_layers(uow)
    progress("汇总", 7, steps)
    with uow:
        summary = DemoSummary(
            regions=uow.regions.count_by_level(),
            classes=uow.catalog.count_classes(),
            standards=uow.catalog.count_standards(),
            organizations=uow.organizations.count_by_kind(),
            staff=uow.staff.count_by_role(),
            shapes=len(uow.geo.region_shapes()),
            grids=uow.geo.count_grids(),
            components=uow.components.count(),
        )
    progress("完成", steps, steps)
    return summary


def demo_staff(regions: Sequence[Region], orgs: Sequence[Organization]) -> list[Staff]:
    """Synthetic accounts: centers' staff, one supervisor per urban street, one handler per department."""
    supervision = next(o for o in orgs if o.kind is OrgKind.SUPERVISION_CENTER and o.region_code == CITY_CODE)
    city_command = next(o for o in orgs if o.kind is OrgKind.COMMAND_CENTER and o.region_code == CITY_CODE)
    accounts = [
        Staff("admin", "系统管理员", frozenset({Role.ADMIN}), supervision.code, scope_region_code=CITY_CODE),
        Staff("leader", "市领导（演示）", frozenset({Role.LEADER}), supervision.code, scope_region_code=CITY_CODE),
    ]
    for i in range(1, 4):
        accounts += [
            Staff(
                f"acceptor{i}",
                f"受理员{i}号",
                frozenset({Role.ACCEPTOR}),
                supervision.code,
                scope_region_code=CITY_CODE,
            ),
            Staff(
                f"dispatcher{i}",
                f"市派遣员{i}号",
                frozenset({Role.DISPATCHER}),
                city_command.code,
                scope_region_code=CITY_CODE,
            ),
        ]
    accounts.append(
        Staff(
            "shiftleader1",
            "值班长1号",
            frozenset({Role.SHIFT_LEADER, Role.ACCEPTOR}),
            supervision.code,
            scope_region_code=CITY_CODE,
        )
    )
    by_region = {r.code: r for r in regions}
    for center in (o for o in orgs if o.kind is OrgKind.COMMAND_CENTER and o.region_code != CITY_CODE):
        accounts.append(
            Staff(
                f"dispatcher_{center.region_code}",
                f"{by_region[center.region_code].name}派遣员",
                frozenset({Role.DISPATCHER}),
                center.code,
                scope_region_code=center.region_code,
            )
        )
    for street in regions:
        if street.level is RegionLevel.STREET and street.parent_code in URBAN_DISTRICTS:
            accounts.append(
                Staff(
                    f"supervisor_{street.code}",
                    f"{street.name}监督员",
                    frozenset({Role.SUPERVISOR}),
                    supervision.code,
                    scope_region_code=street.code,
                )
            )
    for dept in (o for o in orgs if o.kind is OrgKind.DEPARTMENT):
        accounts.append(
            Staff(
                f"handler_{dept.code.lower()}",
                f"{dept.name}处置员",
                frozenset({Role.HANDLER}),
                dept.code,
                scope_organization_code=dept.code,
            )
        )
    return accounts


def seed_census(uow: ApplicationUnitOfWork, scale: float, calendar: WorkCalendar) -> int:
    """Register the generated component census of the demo city (one transaction, set-based inserts)."""
    with uow:
        grids = uow.geo.grids()
        orgs = uow.organizations.all()
        regions = {r.code: r.name for r in uow.regions.all()}
        classes = {c.code: c.name for c in uow.catalog.classes() if c.kind is ClassKind.COMPONENT}
        rules = uow.policy.routing_rules()
    census = generate_census(grids, Router(rules, orgs), {o.code: o.name for o in orgs}, regions, classes, scale=scale)
    moment = calendar.local(int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()))
    with uow:
        uow.components.add(census, moment, "system")
        uow.commit()
    return len(census)


DEMO_PASSWORD = "Xiuhua2026"
"""The known password of every demo login (a demo city only: real cities set passwords per person)."""
DEMO_CITIZEN = ("citizen_demo", "演示市民", "13800000000")


DEMO_API_KEY = "xh_demo_open311_key"
"""The demo's published Open311 key: the demo city is for trying out, never for production."""


def demo_api_key(uow: ApplicationUnitOfWork, clock: Clock) -> str:
    """Register the demo's Open311 key (once) and return it."""
    key_hash = accounts.token_hash(DEMO_API_KEY)
    with uow:
        if uow.accounts.api_key_name(key_hash) is None:
            uow.accounts.add_api_key("演示 Open311 客户端", key_hash, clock.now(), "system")
            uow.commit()
    return DEMO_API_KEY


def demo_logins(uow: ApplicationUnitOfWork, clock: Clock) -> dict[Role, str]:
    """Give every demo staff account a login with DEMO_PASSWORD, add a demo citizen, and return one
    username per role to show."""
    rules = accounts.AuthRules()
    with uow:
        staff = uow.staff.all()
        has_citizen = uow.accounts.get(DEMO_CITIZEN[0]) is not None
    accounts.ensure_staff_logins([s.username for s in staff], DEMO_PASSWORD, uow, clock, rules)
    if not has_citizen:
        username, name, phone = DEMO_CITIZEN
        accounts.register_citizen(accounts.RegisterCitizen(username, DEMO_PASSWORD, name, phone), uow, clock, rules)
    shown: dict[Role, str] = {}
    for account in sorted(staff, key=lambda s: (len(s.username), s.username)):
        for role in sorted(account.roles):
            shown.setdefault(role, account.username)
    shown[Role.CITIZEN] = DEMO_CITIZEN[0]
    return shown
