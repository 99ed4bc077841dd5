"""Repositories: set-based reads and writes of the organisation, catalog, calendar and settings tables."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Connection, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult

from xiuhua.kernel.actor import Role
from xiuhua.org.domain.calendar import Schedule, TimeLimit, parse_periods
from xiuhua.org.domain.model import (
    ClassKind,
    ClassSelector,
    Organization,
    OrgKind,
    OrgLevel,
    Region,
    RegionLevel,
    Staff,
)
from xiuhua.org.domain.routing import RoutingRule
from xiuhua.org.domain.standards import CaseClass, CaseStandard
from xiuhua.platform.db import tables as t
from xiuhua.platform.db.upsert import CHUNK, upsert

_LEVEL_ORDER = {level: i for i, level in enumerate(RegionLevel)}


class RegionRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def upsert(self, regions: Sequence[Region]) -> None:
        ordered = sorted(regions, key=lambda r: (_LEVEL_ORDER[r.level], r.code))
        rows: list[dict[str, Any]] = [
            {"code": r.code, "name": r.name, "level": r.level.value, "parent_code": r.parent_code} for r in ordered
        ]
        if any(r.population is not None for r in regions):  # a list without figures leaves stored ones alone
            for row, region in zip(rows, ordered, strict=True):
                row["population"] = region.population
        upsert(self.conn, t.regions, rows, ["code"])

    def set_populations(self, populations: dict[str, int]) -> None:
        """Set the residents of the given regions (code → number)."""
        for code, n in sorted(populations.items()):
            self.conn.execute(update(t.regions).where(t.regions.c.code == code).values(population=n))

    def populations(self) -> dict[str, int]:
        """Region code → residents, for the regions that have the figure."""
        r = t.regions.c
        return {code: n for code, n in self.conn.execute(select(r.code, r.population).where(r.population.is_not(None)))}

    def all(self) -> list[Region]:
        result = self.conn.execute(select(t.regions).order_by(t.regions.c.code))
        return [Region(r.code, r.name, RegionLevel(r.level), r.parent_code, r.population) for r in result]

    def get(self, code: str) -> Region | None:
        r = self.conn.execute(select(t.regions).where(t.regions.c.code == code)).first()
        return Region(r.code, r.name, RegionLevel(r.level), r.parent_code, r.population) if r else None

    def codes(self) -> set[str]:
        return set(self.conn.scalars(select(t.regions.c.code)))

    def count_by_level(self) -> dict[str, int]:
        stmt = select(t.regions.c.level, func.count()).group_by(t.regions.c.level)
        return {level: n for level, n in self.conn.execute(stmt)}


class OrganizationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def ids_by_code(self) -> dict[str, int]:
        return {code: id_ for code, id_ in self.conn.execute(select(t.organizations.c.code, t.organizations.c.id))}

    def upsert(self, orgs: Sequence[Organization]) -> None:
        """Insert or update by credit code; jurisdiction and classes of these organisations are replaced."""
        rows = [
            {"code": o.code, "name": o.name, "kind": o.kind.value, "level": o.level.value, "region_code": o.region_code}
            for o in orgs
        ]
        upsert(self.conn, t.organizations, rows, ["code"])
        ids = self.ids_by_code()
        parents = [{"b_id": ids[o.code], "b_parent": ids[o.parent_code] if o.parent_code else None} for o in orgs]
        if parents:
            stmt = update(t.organizations).where(t.organizations.c.id == bindparam("b_id"))
            self.conn.execute(stmt.values(parent_id=bindparam("b_parent")), parents)
        touched = [ids[o.code] for o in orgs]
        for table in (t.organization_regions, t.organization_classes):
            self.conn.execute(delete(table).where(table.c.organization_id.in_(touched)))
        regions = [{"organization_id": ids[o.code], "region_code": code} for o in orgs for code in o.jurisdiction]
        classes = [
            {"organization_id": ids[o.code], "class_kind": s.kind.value, "code_prefix": s.code_prefix}
            for o in orgs
            for s in o.classes
        ]
        if regions:
            self.conn.execute(t.organization_regions.insert(), regions)
        if classes:
            self.conn.execute(t.organization_classes.insert(), classes)

    def all(self) -> list[Organization]:
        return self._load(None)

    def get(self, code: str) -> Organization | None:
        return next(iter(self._load(code)), None)

    def _load(self, code: str | None) -> list[Organization]:
        orgs = t.organizations
        parent = orgs.alias("parent")
        stmt = (
            select(orgs, parent.c.code.label("parent_code"))
            .outerjoin(parent, orgs.c.parent_id == parent.c.id)
            .order_by(orgs.c.level, orgs.c.region_code, orgs.c.code)
        )
        regions_stmt = select(t.organization_regions).order_by(t.organization_regions.c.region_code)
        classes_stmt = select(t.organization_classes)
        if code is not None:
            one = select(orgs.c.id).where(orgs.c.code == code).scalar_subquery()
            stmt = stmt.where(orgs.c.code == code)
            regions_stmt = regions_stmt.where(t.organization_regions.c.organization_id == one)
            classes_stmt = classes_stmt.where(t.organization_classes.c.organization_id == one)
        jurisdiction: dict[int, list[str]] = defaultdict(list)
        for org_id, region in self.conn.execute(regions_stmt):
            jurisdiction[org_id].append(region)
        classes: dict[int, list[ClassSelector]] = defaultdict(list)
        for org_id, kind, prefix in self.conn.execute(classes_stmt):
            classes[org_id].append(ClassSelector(ClassKind(kind), prefix))
        return [
            Organization(
                code=r.code,
                name=r.name,
                kind=OrgKind(r.kind),
                level=OrgLevel(r.level),
                region_code=r.region_code,
                parent_code=r.parent_code,
                jurisdiction=tuple(jurisdiction[r.id]),
                classes=tuple(sorted(classes[r.id])),
            )
            for r in self.conn.execute(stmt)
        ]

    def kind_of(self, code: str) -> OrgKind | None:
        kind = self.conn.scalar(select(t.organizations.c.kind).where(t.organizations.c.code == code))
        return OrgKind(kind) if kind else None

    def count_by_kind(self) -> dict[str, int]:
        stmt = select(t.organizations.c.kind, func.count()).group_by(t.organizations.c.kind)
        return {kind: n for kind, n in self.conn.execute(stmt)}


class StaffRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def upsert(self, accounts: Sequence[Staff]) -> None:
        """Insert or update by username; the roles of these accounts are replaced."""
        org_ids = OrganizationRepository(self.conn).ids_by_code()
        rows = [
            {
                "username": s.username,
                "name": s.name,
                "phone": s.phone,
                "organization_id": org_ids[s.organization_code] if s.organization_code else None,
                "scope_region_code": s.scope_region_code,
                "scope_organization_id": org_ids[s.scope_organization_code] if s.scope_organization_code else None,
                "active": s.active,
            }
            for s in accounts
        ]
        upsert(self.conn, t.staff, rows, ["username"])
        ids = {name: id_ for name, id_ in self.conn.execute(select(t.staff.c.username, t.staff.c.id))}
        touched = [ids[s.username] for s in accounts]
        for i in range(0, len(touched), CHUNK):
            self.conn.execute(delete(t.staff_roles).where(t.staff_roles.c.staff_id.in_(touched[i : i + CHUNK])))
        roles = [{"staff_id": ids[s.username], "role": role.value} for s in accounts for role in sorted(s.roles)]
        if roles:
            self.conn.execute(t.staff_roles.insert(), roles)

    def all(self, username: str | None = None) -> list[Staff]:
        org = t.organizations.alias("org")
        scope_org = t.organizations.alias("scope_org")
        stmt = (
            select(t.staff, org.c.code.label("org_code"), scope_org.c.code.label("scope_org_code"))
            .outerjoin(org, t.staff.c.organization_id == org.c.id)
            .outerjoin(scope_org, t.staff.c.scope_organization_id == scope_org.c.id)
            .order_by(t.staff.c.username)
        )
        role_stmt = select(t.staff_roles)
        if username is not None:
            stmt = stmt.where(t.staff.c.username == username)
            role_stmt = role_stmt.join(t.staff).where(t.staff.c.username == username)
        roles: dict[int, set[Role]] = defaultdict(set)
        for staff_id, role in self.conn.execute(role_stmt):
            roles[staff_id].add(Role(role))
        return [
            Staff(
                username=r.username,
                name=r.name,
                roles=frozenset(roles[r.id]),
                organization_code=r.org_code,
                scope_region_code=r.scope_region_code,
                scope_organization_code=r.scope_org_code,
                phone=r.phone,
                active=r.active,
            )
            for r in self.conn.execute(stmt)
        ]

    def get(self, username: str) -> Staff | None:
        return next((s for s in self.all(username) if s.username == username), None)

    def count_by_role(self) -> dict[str, int]:
        stmt = select(t.staff_roles.c.role, func.count()).group_by(t.staff_roles.c.role)
        return {role: n for role, n in self.conn.execute(stmt)}


class CatalogRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def upsert_classes(self, classes: Sequence[CaseClass]) -> None:
        rows = [
            {
                "kind": c.kind.value,
                "code": c.code,
                "name": c.name,
                "major_code": c.major_code,
                "major_name": c.major_name,
                "code_2013": c.code_2013,
            }
            for c in classes
        ]
        upsert(self.conn, t.case_classes, rows, ["kind", "code"])

    def classes(self) -> list[CaseClass]:
        result = self.conn.execute(select(t.case_classes).order_by(t.case_classes.c.kind, t.case_classes.c.code))
        return [CaseClass(ClassKind(r.kind), r.code, r.name, r.major_name, r.code_2013) for r in result]

    def upsert_standards(self, standards: Sequence[CaseStandard]) -> None:
        """Insert or update by (class, filing condition); the limits of these rows are replaced."""
        start = self.conn.scalar(select(func.coalesce(func.max(t.case_standards.c.position), 0))) or 0
        rows = [
            {
                "class_kind": s.kind.value,
                "class_code": s.code,
                "filing_condition": s.filing_condition,
                "closing_condition": s.closing_condition,
                "position": start + i + 1,
            }
            for i, s in enumerate(standards)
        ]
        key = ["class_kind", "class_code", "filing_condition"]
        # Existing rows keep their position: update only the closing condition on conflict.
        dialect = self.conn.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        for i in range(0, len(rows), CHUNK):
            stmt = insert(t.case_standards).values(rows[i : i + CHUNK])
            stmt = stmt.on_conflict_do_update(
                index_elements=key, set_={"closing_condition": stmt.excluded.closing_condition}
            )
            self.conn.execute(stmt)
        ids = {
            (kind, code, cond): id_
            for id_, kind, code, cond in self.conn.execute(
                select(t.case_standards.c.id, *(t.case_standards.c[k] for k in key))
            )
        }
        touched = [ids[(s.kind.value, s.code, s.filing_condition)] for s in standards]
        for i in range(0, len(touched), CHUNK):
            chunk = touched[i : i + CHUNK]
            self.conn.execute(delete(t.case_standard_limits).where(t.case_standard_limits.c.standard_id.in_(chunk)))
        limits = [
            {
                "standard_id": ids[(s.kind.value, s.code, s.filing_condition)],
                "area_class": area,
                "value": limit.value,
                "unit": limit.unit,
            }
            for s in standards
            for area, limit in s.limits.items()
        ]
        if limits:
            self.conn.execute(t.case_standard_limits.insert(), limits)

    def standards(self) -> list[CaseStandard]:
        limits: dict[int, dict[str, TimeLimit]] = defaultdict(dict)
        for r in self.conn.execute(select(t.case_standard_limits)):
            limits[r.standard_id][r.area_class] = TimeLimit(Decimal(r.value), r.unit)
        stmt = select(t.case_standards).order_by(t.case_standards.c.position, t.case_standards.c.id)
        return [
            CaseStandard(
                ClassKind(r.class_kind), r.class_code, r.filing_condition, r.closing_condition, limits[r.id], r.id
            )
            for r in self.conn.execute(stmt)
        ]

    def standard(self, standard_id: int) -> CaseStandard | None:
        cs, lim = t.case_standards, t.case_standard_limits
        stmt = select(cs, lim.c.area_class, lim.c.value, lim.c.unit).join(lim).where(cs.c.id == standard_id)
        rows = self.conn.execute(stmt).all()
        if not rows:
            return None
        r = rows[0]
        limits = {x.area_class: TimeLimit(Decimal(x.value), x.unit) for x in rows}
        return CaseStandard(
            ClassKind(r.class_kind), r.class_code, r.filing_condition, r.closing_condition, limits, r.id
        )

    def has_class(self, kind: ClassKind, code: str) -> bool:
        stmt = select(t.case_classes.c.code).where(t.case_classes.c.kind == kind.value, t.case_classes.c.code == code)
        return self.conn.scalar(stmt) is not None

    def count_classes(self) -> dict[str, int]:
        stmt = select(t.case_classes.c.kind, func.count()).group_by(t.case_classes.c.kind)
        return {kind: n for kind, n in self.conn.execute(stmt)}

    def count_standards(self) -> int:
        return self.conn.scalar(select(func.count()).select_from(t.case_standards)) or 0


class CalendarRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def schedules(self) -> list[Schedule]:
        out = []
        for r in self.conn.execute(select(t.work_schedules).order_by(t.work_schedules.c.id)):
            season = None
            if r.season_start and r.season_end:
                season = (_month_day(r.season_start), _month_day(r.season_end))
            out.append(Schedule(r.name, parse_periods(r.periods), season))
        return out

    def put_schedule(self, schedule: Schedule) -> None:
        season = schedule.season
        row = {
            "name": schedule.name,
            "periods": ",".join(str(p) for p in schedule.periods),
            "season_start": f"{season[0][0]:02d}-{season[0][1]:02d}" if season else None,
            "season_end": f"{season[1][0]:02d}-{season[1][1]:02d}" if season else None,
        }
        upsert(self.conn, t.work_schedules, [row], ["name"])

    def delete_schedule(self, name: str) -> bool:
        result = self.conn.execute(delete(t.work_schedules).where(t.work_schedules.c.name == name))
        return bool(cast(CursorResult[Any], result).rowcount)

    def overrides(self) -> dict[date, tuple[bool, str]]:
        stmt = select(t.calendar_overrides).order_by(t.calendar_overrides.c.day)
        return {r.day: (r.workday, r.reason) for r in self.conn.execute(stmt)}

    def set_override(self, day: date, workday: bool, reason: str) -> None:
        upsert(self.conn, t.calendar_overrides, [{"day": day, "workday": workday, "reason": reason}], ["day"])

    def delete_override(self, day: date) -> bool:
        result = self.conn.execute(delete(t.calendar_overrides).where(t.calendar_overrides.c.day == day))
        return bool(cast(CursorResult[Any], result).rowcount)


class PolicyRepository:
    """Step limits and routing rules: the city's rules for timing and dispatching cases."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def step_limits(self) -> dict[tuple[str, str, str], TimeLimit]:
        return {
            (r.step, r.urgency, r.area_class): TimeLimit(Decimal(r.value), r.unit)
            for r in self.conn.execute(select(t.step_limits))
        }

    def put_step_limits(self, limits: dict[tuple[str, str, str], TimeLimit]) -> None:
        rows = [
            {"step": step, "urgency": urgency, "area_class": area, "value": limit.value, "unit": limit.unit}
            for (step, urgency, area), limit in limits.items()
        ]
        upsert(self.conn, t.step_limits, rows, ["step", "urgency", "area_class"])

    def routing_rules(self) -> list[RoutingRule]:
        stmt = select(t.routing_rules).order_by(t.routing_rules.c.priority.desc(), t.routing_rules.c.id)
        return [
            RoutingRule(
                ClassSelector(ClassKind(r.class_kind), r.code_prefix), r.region_code, r.department_code, r.priority
            )
            for r in self.conn.execute(stmt)
        ]

    def replace_routing_rules(self, rules: Sequence[RoutingRule]) -> None:
        self.conn.execute(delete(t.routing_rules))
        if rules:
            self.conn.execute(
                t.routing_rules.insert(),
                [
                    {
                        "class_kind": r.selector.kind.value,
                        "code_prefix": r.selector.code_prefix,
                        "region_code": r.region_code,
                        "department_code": r.department_code,
                        "priority": r.priority,
                    }
                    for r in rules
                ],
            )


def _month_day(text: str) -> tuple[int, int]:
    month, day = text.split("-")
    return int(month), int(day)


class SettingsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, key: str, default: Any = None) -> Any:
        value = self.conn.scalar(select(t.settings.c.value).where(t.settings.c.key == key))
        return default if value is None else json.loads(value)

    def set(self, key: str, value: Any) -> None:
        upsert(self.conn, t.settings, [{"key": key, "value": json.dumps(value, ensure_ascii=False)}], ["key"])
