"""Catalog, organisation and calendar use cases on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import shared
from xiuhua.demo.city import build_demo
from xiuhua.demo.sources import demo_sources
from xiuhua.kernel.actor import Role
from xiuhua.kernel.errors import InvalidInputError, NotFoundError
from xiuhua.org.adapters import holidays
from xiuhua.org.domain.calendar import Schedule, TimeLimit, WorkCalendar, parse_periods
from xiuhua.org.domain.model import ClassKind
from xiuhua.org.domain.standards import code_from_2013
from xiuhua.org.services import calendar as calendar_service
from xiuhua.org.services import catalog
from xiuhua.org.services import structure as org
from xiuhua.platform import packagedata
from xiuhua.platform.importing import ImportRejectedError
from xiuhua.platform.tabular import Row, read_table
from xiuhua.unit_of_work import SqlUnitOfWork

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar(day_overrides=holidays.statutory_days(), first_year=2025, last_year=2027)


def rows(*dicts: dict[str, str]) -> list[Row]:
    return [Row(i, d) for i, d in enumerate(dicts, start=2)]


def seed_catalog(uow: SqlUnitOfWork) -> None:
    catalog.import_classes(packagedata.read(packagedata.DIRECTORY), uow)


# ----- the demo city -----------------------------------------------------------------------------
def test_demo_build_seeds_everything_and_is_idempotent(uow: SqlUnitOfWork, cal: WorkCalendar) -> None:
    steps: list[str] = []
    summary = build_demo(demo_sources(geometry=False), uow, cal, lambda step, done, total: steps.append(step))
    with open(shared("geo", "kaifeng_divisions_nbs2023.csv"), encoding="utf-8") as handle:
        divisions = list(csv.DictReader(handle))
    expected_levels: dict[str, int] = {}
    for d in divisions:
        expected_levels[d["level"]] = expected_levels.get(d["level"], 0) + 1
    assert summary.regions == expected_levels
    assert summary.classes == {"component": 153, "matter": 250}
    departments = read_table(packagedata_path("org/kaifeng_departments.csv"))
    assert sum(summary.organizations.values()) == len(departments)
    assert summary.staff[Role.SUPERVISOR.value] > 0 and summary.staff[Role.HANDLER.value] > 0
    assert steps[0] == "行政区划" and steps[-1] == "完成"

    again = build_demo(demo_sources(geometry=False), uow, cal)
    assert again == summary


def packagedata_path(name: str):  # type: ignore[no-untyped-def]
    from importlib.resources import files

    return files("xiuhua").joinpath("data", name)


def test_demo_standards_cover_area_classes(uow: SqlUnitOfWork, cal: WorkCalendar) -> None:
    build_demo(demo_sources(geometry=False), uow, cal)
    with uow:
        standards = uow.catalog.standards()
    split = [s for s in standards if set(s.limits) == {"A", "B", "C"}]
    assert split, "the default sheet has standards with one limit per area class"
    for s in split:
        start = datetime(2026, 3, 3, 9, tzinfo=SH)
        a, c = (cal.deadline(start, s.limit_for(area)) for area in "AC")
        assert a < c


# ----- case standards ----------------------------------------------------------------------------
def yuncheng_rows() -> list[Row]:
    return read_table(shared("standards", "case_standards_yuncheng_2013.csv"))


def test_real_city_sheet_rejected_whole_with_row_numbered_errors(uow: SqlUnitOfWork, cal: WorkCalendar) -> None:
    seed_catalog(uow)
    with uow:
        known = {(c.kind, c.code) for c in uow.catalog.classes()}
    sheet = yuncheng_rows()
    unmappable = {
        r.number
        for r in sheet
        if (ClassKind.parse(r.get("kind")), code_from_2013(ClassKind.parse(r.get("kind")), r.get("code_2013")))
        not in known
    }
    assert unmappable  # the sheet has local extension codes that the national directory lacks
    with pytest.raises(ImportRejectedError) as info:
        catalog.import_standards(sheet, uow, cal)
    assert {e.row for e in info.value.errors} == unmappable
    assert {e.code for e in info.value.errors} == {"standard.unknown_class"}
    with uow:
        assert uow.catalog.count_standards() == 0  # nothing half-written


def test_real_city_sheet_with_skip_invalid(uow: SqlUnitOfWork, cal: WorkCalendar) -> None:
    seed_catalog(uow)
    sheet = yuncheng_rows()
    report = catalog.import_standards(sheet, uow, cal, skip_invalid=True)
    assert report.written + len(report.skipped) == len(sheet)
    with uow:
        stored = uow.catalog.standards()
    assert len(stored) == report.written
    first = next(s for s in stored if s.code == "01001" and s.kind is ClassKind.COMPONENT)
    assert first.filing_condition == sheet[0].get("filing_condition")
    assert first.limits == {"*": TimeLimit(Decimal("2"), "紧急工作时")}


def test_standard_rows_validated(uow: SqlUnitOfWork, cal: WorkCalendar) -> None:
    seed_catalog(uow)
    good = {
        "kind": "component",
        "code": "01001",
        "filing_condition": "井盖缺失",
        "time_limit": "2紧急工作时",
        "area_class": "",
        "closing_condition": "井盖已补齐",
    }
    sheet = rows(
        good,
        {**good, "code": "01999"},
        {**good, "filing_condition": "井盖破损", "time_limit": "两天"},
        {**good, "filing_condition": "井盖松动", "time_limit": "3周"},
        dict(good),
        {**good, "filing_condition": "井盖异响", "area_class": "D"},
    )
    with pytest.raises(ImportRejectedError) as info:
        catalog.import_standards(sheet, uow, cal)
    assert [(e.row, e.code) for e in info.value.errors] == [
        (3, "standard.unknown_class"),
        (4, "limit.unparseable"),
        (5, "limit.unknown_unit"),
        (6, "standard.duplicate"),
        (7, "standard.bad_area_class"),
    ]
    assert "第 6 行" in info.value.message and "第 2 行" in info.value.message


def test_area_class_rows_form_one_standard_and_round_trip(uow: SqlUnitOfWork, cal: WorkCalendar) -> None:
    seed_catalog(uow)
    base = {"kind": "matter", "code": "06015", "filing_condition": "垃圾裸露", "closing_condition": "已清运"}
    catalog.import_standards(
        rows({**base, "time_limit": "2小时", "area_class": "A"}, {**base, "time_limit": "8小时", "area_class": "c"}),
        uow,
        cal,
    )
    with uow:
        (standard,) = uow.catalog.standards()
    assert standard.limits == {"A": TimeLimit(Decimal(2), "小时"), "C": TimeLimit(Decimal(8), "小时")}
    exported = catalog.export_standards(uow)
    assert [(r[4], r[5]) for r in exported] == [("2小时", "A"), ("8小时", "C")]
    # Re-importing the export changes nothing.
    header = catalog.STANDARD_COLUMNS
    catalog.import_standards(rows(*(dict(zip(header, r, strict=True)) for r in exported)), uow, cal)
    assert catalog.export_standards(uow) == exported


# ----- organisation ------------------------------------------------------------------------------
def test_region_import_checks_parents_and_duplicates(uow: SqlUnitOfWork) -> None:
    sheet = rows(
        {"code": "410200", "name": "开封市", "level": "city", "parent_code": ""},
        {"code": "410202", "name": "龙亭区", "level": "district", "parent_code": "410200"},
        {"code": "410202001", "name": "北书店街道", "level": "street", "parent_code": "410202"},
        {"code": "410299001", "name": "无主街道", "level": "street", "parent_code": "410299"},
        {"code": "410202", "name": "龙亭区", "level": "district", "parent_code": "410200"},
        {"code": "41020200100", "name": "短码社区", "level": "community", "parent_code": "410202001"},
    )
    with pytest.raises(ImportRejectedError) as info:
        org.import_regions(sheet, uow)
    assert [(e.row, e.code) for e in info.value.errors] == [
        (5, "region.unknown_parent"),
        (6, "region.duplicate"),
        (7, "region.bad_code"),
    ]
    with uow:
        assert uow.regions.codes() == set()
    report = org.import_regions(sheet, uow, skip_invalid=True)
    assert report.written == 3
    with uow:
        assert uow.regions.codes() == {"410200", "410202", "410202001"}


def test_region_populations_are_optional_and_kept_by_a_list_without_them(uow: SqlUnitOfWork) -> None:
    city = {"code": "410200", "name": "开封市", "level": "city", "parent_code": ""}
    district = {"code": "410202", "name": "龙亭区", "level": "district", "parent_code": "410200"}
    org.import_regions(rows({**city, "population": "4,800,000"}, {**district, "population": "300000"}), uow)
    assert org.export_regions(uow) == [("410200", "开封市", "city", "", "4800000"),
                                       ("410202", "龙亭区", "district", "410200", "300000")]  # fmt: skip
    org.import_regions(rows(city, {**district, "name": "龙亭区（新）"}), uow)  # no population column
    assert [r[1:] for r in org.export_regions(uow)][1] == ("龙亭区（新）", "district", "410200", "300000")
    with pytest.raises(ImportRejectedError) as info:
        org.import_regions(rows({**city, "population": "-5"}), uow)
    assert [e.code for e in info.value.errors] == ["region.bad_population"]


def test_organization_and_staff_import_export_round_trip(uow: SqlUnitOfWork, cal: WorkCalendar, tmp_path) -> None:  # type: ignore[no-untyped-def]
    build_demo(demo_sources(geometry=False), uow, cal)
    for name, export, columns, importer in (
        ("orgs.xlsx", org.export_organizations, org.ORGANIZATION_COLUMNS, org.import_organizations),
        ("staff.csv", org.export_staff, org.STAFF_COLUMNS, org.import_staff),
        ("regions.csv", org.export_regions, org.REGION_COLUMNS, org.import_regions),
    ):
        from xiuhua.platform.tabular import write_table

        before = export(uow)
        write_table(tmp_path / name, columns, before)
        report = importer(read_table(tmp_path / name), uow)
        assert report.written == len(before)
        assert export(uow) == before


def test_organization_import_errors(uow: SqlUnitOfWork, cal: WorkCalendar) -> None:
    build_demo(demo_sources(geometry=False), uow, cal)
    valid = {
        "code": "11410202MA0000000X",
        "name": "测试局",
        "kind": "department",
        "level": "district",
        "parent_code": "",
        "region_code": "410202",
        "jurisdiction": "",
        "classes": "matter:06",
    }
    from xiuhua.org.domain.model import uscc_check_char

    code = "11410202MA000000T"
    valid["code"] = code + uscc_check_char(code)
    sheet = rows(
        valid,
        {**valid, "code": code + "0" if uscc_check_char(code) != "0" else code + "1"},
        {**valid, "code": valid["code"]},
        {**valid, "code": "11410202MA00000" + "1T" + uscc_check_char("11410202MA000001T"), "region_code": "419999"},
        {**valid, "code": "11410202MA00000" + "2T" + uscc_check_char("11410202MA000002T"), "classes": "matter:99"},
        {**valid, "code": "11410202MA00000" + "3T" + uscc_check_char("11410202MA000003T"), "kind": "bureau"},
    )
    with pytest.raises(ImportRejectedError) as info:
        org.import_organizations(sheet, uow)
    assert [(e.row, e.code) for e in info.value.errors] == [
        (3, "org.bad_credit_code"),
        (4, "org.duplicate"),
        (5, "org.unknown_region"),
        (6, "org.unknown_class"),
        (7, "org.bad_kind"),
    ]


def test_staff_import_errors(uow: SqlUnitOfWork, cal: WorkCalendar) -> None:
    build_demo(demo_sources(geometry=False), uow, cal)
    valid = {
        "username": "zhangsan",
        "name": "张三",
        "roles": "监督员;受理员",
        "organization_code": "",
        "scope": "410202001",
        "phone": "13800000000",
        "active": "是",
    }
    sheet = rows(
        valid,
        {**valid, "username": "lisi", "roles": "队长"},
        {**valid, "username": "wangwu", "scope": "410299001"},
        {**valid, "username": "zhaoliu", "scope": "11410202MA000000T0"},
        {**valid, "username": "x"},
    )
    with pytest.raises(ImportRejectedError) as info:
        org.import_staff(sheet, uow)
    assert [(e.row, e.code) for e in info.value.errors] == [
        (3, "staff.bad_role"),
        (4, "staff.unknown_region"),
        (5, "staff.unknown_org"),
        (6, "staff.bad_username"),
    ]
    org.import_staff(sheet[:1], uow)
    with uow:
        account = next(s for s in uow.staff.all() if s.username == "zhangsan")
    assert account.roles == {Role.SUPERVISOR, Role.ACCEPTOR}
    assert account.scope_region_code == "410202001"


# ----- calendar ----------------------------------------------------------------------------------
def test_local_day_override_moves_deadlines(uow: SqlUnitOfWork) -> None:
    start = datetime(2026, 3, 3, 17, tzinfo=SH)
    limit = TimeLimit.parse("2工作时")
    before = calendar_service.load_calendar(uow, holidays.statutory_days).deadline(start, limit)
    assert before == datetime(2026, 3, 4, 9, tzinfo=SH)
    calendar_service.set_day(calendar_service.SetDay(date(2026, 3, 4), False, "暴雪停工"), uow)
    after = calendar_service.load_calendar(uow, holidays.statutory_days).deadline(start, limit)
    assert after == datetime(2026, 3, 5, 9, tzinfo=SH)
    calendar_service.clear_day(date(2026, 3, 4), uow)
    assert calendar_service.load_calendar(uow, holidays.statutory_days).deadline(start, limit) == before
    with pytest.raises(NotFoundError):
        calendar_service.clear_day(date(2026, 3, 4), uow)
    with pytest.raises(InvalidInputError):
        calendar_service.set_day(calendar_service.SetDay(date(2026, 3, 4), False, " "), uow)


def test_seasonal_schedule_and_alias_are_stored(uow: SqlUnitOfWork) -> None:
    summer = Schedule(
        "夏季作息", parse_periods("08:00-12:00,15:00-18:30"), calendar_service.parse_season("06-01:09-30")
    )
    calendar_service.put_schedule(summer, uow)
    calendar_service.set_unit_alias("小时", "紧急工作时", uow)
    cal = calendar_service.load_calendar(uow, holidays.statutory_days)
    assert cal.deadline(datetime(2026, 7, 1, 11, tzinfo=SH), TimeLimit.parse("2工作时")) == datetime(
        2026, 7, 1, 16, tzinfo=SH
    )
    assert cal.deadline(datetime(2026, 7, 4, 11, tzinfo=SH), TimeLimit.parse("2小时")) == datetime(
        2026, 7, 4, 13, tzinfo=SH
    )
    with pytest.raises(InvalidInputError) as info:
        calendar_service.put_schedule(Schedule("另一全年", parse_periods("09:00-17:00")), uow)
    assert info.value.code == "calendar.no_default_schedule"
    with pytest.raises(InvalidInputError):
        calendar_service.parse_season("13-01:14-01")
