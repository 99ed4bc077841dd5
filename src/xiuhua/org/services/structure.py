"""Use cases of the organisation tree: import and export regions, organisations and staff."""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from typing import TypeVar

from xiuhua.kernel.actor import Role
from xiuhua.kernel.errors import InvalidInputError
from xiuhua.org.domain.model import ClassSelector, Organization, OrgKind, OrgLevel, Region, RegionLevel, Staff
from xiuhua.org.ports import OrgUnitOfWork
from xiuhua.org.services.accounts import keeping_an_admin
from xiuhua.platform.importing import ImportReport, RowError, check_columns, drop_orphans, parse_rows, settle
from xiuhua.platform.tabular import Row

REGION_COLUMNS = ("code", "name", "level", "parent_code", "population")
ORGANIZATION_COLUMNS = ("code", "name", "kind", "level", "parent_code", "region_code", "jurisdiction", "classes")
STAFF_COLUMNS = ("username", "name", "roles", "organization_code", "scope", "phone", "active")

E = TypeVar("E", bound=StrEnum)
_LIST_SPLIT = re.compile(r"[;；,，\s]+")


def _split(text: str) -> list[str]:
    return [part for part in _LIST_SPLIT.split(text) if part]


def _enum(cls: type[E], text: str, code: str, what: str) -> E:
    try:
        return cls(text.strip())
    except ValueError:
        allowed = "、".join(m.value for m in cls)
        raise InvalidInputError(code, f"{what}“{text}”无效，可用：{allowed}") from None


def parse_region(row: Row) -> Region:
    level = _enum(RegionLevel, row.get("level"), "region.bad_level", "级别")
    text = row.get("population").replace(",", "")
    if text and not text.isdigit():
        raise InvalidInputError("region.bad_population", f"人口“{text}”应为非负整数")
    return Region(row.get("code"), row.get("name"), level, row.get("parent_code") or None, int(text) if text else None)


def import_regions(rows: Sequence[Row], uow: OrgUnitOfWork, *, skip_invalid: bool = False) -> ImportReport:
    """Add or update regions; every parent must be in the file or already stored."""
    check_columns(rows, *REGION_COLUMNS[:4])  # population is optional
    parsed, errors = parse_rows(rows, parse_region)
    with uow:
        known = uow.regions.codes()
    in_file: dict[str, int] = {}
    for row, region in parsed:
        if region.code in in_file:
            errors.append(
                RowError(row.number, "region.duplicate", f"代码 {region.code} 与第 {in_file[region.code]} 行重复")
            )
        in_file.setdefault(region.code, row.number)
    valid = []
    for row, region in parsed:
        if in_file[region.code] != row.number:
            continue
        if region.parent_code and region.parent_code not in in_file and region.parent_code not in known:
            errors.append(RowError(row.number, "region.unknown_parent", f"上级区划 {region.parent_code} 不存在"))
            continue
        valid.append(region)
    skipped = settle(errors, skip_invalid)
    valid = drop_orphans(valid, known, lambda r: r.code, lambda r: r.parent_code)
    with uow:
        uow.regions.upsert(valid)
        uow.commit()
    return ImportReport(len(valid), skipped)


def export_regions(uow: OrgUnitOfWork) -> list[tuple[str, ...]]:
    with uow:
        return [(r.code, r.name, r.level.value, r.parent_code or "", "" if r.population is None else str(r.population))
                for r in uow.regions.all()]  # fmt: skip


def parse_organization(row: Row) -> Organization:
    return Organization(
        code=row.get("code").upper(),
        name=row.get("name"),
        kind=_enum(OrgKind, row.get("kind"), "org.bad_kind", "单位类型"),
        level=_enum(OrgLevel, row.get("level"), "org.bad_level", "单位级别"),
        region_code=row.get("region_code"),
        parent_code=row.get("parent_code").upper() or None,
        jurisdiction=tuple(_split(row.get("jurisdiction"))),
        classes=tuple(ClassSelector.parse(s) for s in _split(row.get("classes"))),
    )


def import_organizations(rows: Sequence[Row], uow: OrgUnitOfWork, *, skip_invalid: bool = False) -> ImportReport:
    """Add or update organisations by credit code, checking regions, parents and class selectors."""
    check_columns(rows, "code", "name", "kind", "level", "region_code")
    parsed, errors = parse_rows(rows, parse_organization)
    with uow:
        regions = uow.regions.codes()
        known_orgs = set(uow.organizations.ids_by_code())
        classes = {(c.kind, c.code) for c in uow.catalog.classes()}
    majors = {(kind, code[:2]) for kind, code in classes}
    in_file: dict[str, int] = {}
    valid: list[Organization] = []
    for row, org in parsed:
        problem = None
        if org.code in in_file:
            problem = ("org.duplicate", f"信用代码 {org.code} 与第 {in_file[org.code]} 行重复")
        elif unknown := [c for c in (org.region_code, *org.jurisdiction) if c not in regions]:
            problem = ("org.unknown_region", f"区划 {'、'.join(unknown)} 不存在")
        elif (
            org.parent_code and org.parent_code not in known_orgs and org.parent_code not in {o.code for _, o in parsed}
        ):
            problem = ("org.unknown_parent", f"上级单位 {org.parent_code} 不存在")
        elif bad := [
            str(s)
            for s in org.classes
            if (s.kind, s.code_prefix) not in (majors if len(s.code_prefix) == 2 else classes)
        ]:
            problem = ("org.unknown_class", f"类别 {'、'.join(bad)} 不在目录中")
        in_file.setdefault(org.code, row.number)
        if problem:
            errors.append(RowError(row.number, *problem))
        else:
            valid.append(org)
    skipped = settle(errors, skip_invalid)
    valid = drop_orphans(valid, known_orgs, lambda o: o.code, lambda o: o.parent_code)
    with uow:
        uow.organizations.upsert(valid)
        uow.commit()
    return ImportReport(len(valid), skipped)


def export_organizations(uow: OrgUnitOfWork) -> list[tuple[str, ...]]:
    with uow:
        return [
            (
                o.code,
                o.name,
                o.kind.value,
                o.level.value,
                o.parent_code or "",
                o.region_code,
                ";".join(o.jurisdiction),
                ";".join(str(s) for s in o.classes),
            )
            for o in uow.organizations.all()
        ]


def parse_staff(row: Row) -> Staff:
    scope = row.get("scope")
    region_scope = scope if re.fullmatch(r"[0-9]{6}|[0-9]{9}|[0-9]{12}", scope) else None
    active_text = row.get("active").lower()
    if active_text not in ("", "1", "true", "yes", "是", "0", "false", "no", "否"):
        raise InvalidInputError("staff.bad_active", f"启用状态“{row.get('active')}”无效，应为 是/否")
    return Staff(
        username=row.get("username"),
        name=row.get("name"),
        roles=frozenset(Role.parse(r) for r in _split(row.get("roles"))),
        organization_code=row.get("organization_code").upper() or None,
        scope_region_code=region_scope,
        scope_organization_code=None if region_scope else (scope.upper() or None),
        phone=row.get("phone") or None,
        active=active_text not in ("0", "false", "no", "否"),
    )


def import_staff(rows: Sequence[Row], uow: OrgUnitOfWork, *, skip_invalid: bool = False) -> ImportReport:
    """Add or update staff accounts by username; scope is a region code or an organisation's credit code.
    Raises LastAdminError when the rows would leave no active administrator."""
    check_columns(rows, "username", "name", "roles", "scope")
    parsed, errors = parse_rows(rows, parse_staff)
    with uow:
        regions = uow.regions.codes()
        orgs = set(uow.organizations.ids_by_code())
    in_file: dict[str, int] = {}
    valid: list[Staff] = []
    for row, account in parsed:
        problem = None
        if account.username in in_file:
            problem = ("staff.duplicate", f"用户名 {account.username} 与第 {in_file[account.username]} 行重复")
        elif account.scope_region_code and account.scope_region_code not in regions:
            problem = ("staff.unknown_region", f"管辖区划 {account.scope_region_code} 不存在")
        elif unknown := [
            c for c in (account.scope_organization_code, account.organization_code) if c and c not in orgs
        ]:
            problem = ("staff.unknown_org", f"单位 {'、'.join(unknown)} 不存在")
        in_file.setdefault(account.username, row.number)
        if problem:
            errors.append(RowError(row.number, *problem))
        else:
            valid.append(account)
    skipped = settle(errors, skip_invalid)
    with uow:
        with keeping_an_admin(uow):  # a row may demote or disable the last administrator: refused
            uow.staff.upsert(valid)
        uow.commit()
    return ImportReport(len(valid), skipped)


def export_staff(uow: OrgUnitOfWork) -> list[tuple[str, ...]]:
    with uow:
        return [
            (
                s.username,
                s.name,
                ";".join(r.label for r in sorted(s.roles)),
                s.organization_code or "",
                s.scope_region_code or s.scope_organization_code or "",
                s.phone or "",
                "是" if s.active else "否",
            )
            for s in uow.staff.all()
        ]
