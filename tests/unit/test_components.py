"""Tests of the component record: ids, the 2013 id mapping, table-2 validation and import-row parsing."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import numpy as np
import pytest
from shapely.geometry import LineString, MultiPoint, Point, Polygon

from xiuhua.geo.domain.components import (
    AccuracyClass,
    Component,
    ComponentFilter,
    ComponentStatus,
    DataSource,
    class_of,
    component_id_from_2013,
    division_of,
    representative_lonlat,
    validate_component_id,
)
from xiuhua.geo.services.components import EXPORT_COLUMNS, _canonical, export_row, haversine_m, parse_component
from xiuhua.kernel.errors import InvalidInputError
from xiuhua.platform.tabular import Row

DEPT = "1141020292C3N93C5N"  # 开封市城市管理局, from the bundled department list
ID = "41020201001000001"


def make_component(**overrides: Any) -> Component:
    values: dict[str, Any] = {
        "id": ID,
        "name": "供水井盖",
        "department_code": DEPT,
        "department_name": "开封市城市管理局",
        "grid_code": "410202001009001",
        "status": ComponentStatus.INTACT,
        "initial_date": date(2020, 5, 1),
        "geometry": Point(114.3455, 34.807),
        "lon": 114.3455,
        "lat": 34.807,
    }
    values.update(overrides)
    return Component(**values)


def error_code(exc: pytest.ExceptionInfo[InvalidInputError]) -> str:
    return exc.value.code


# ----- ids ---------------------------------------------------------------------------------------
def test_valid_id_splits_into_division_class_and_serial() -> None:
    assert validate_component_id(ID) == ID
    assert (division_of(ID), class_of(ID), ID[11:]) == ("410202", "01001", "000001")


@pytest.mark.parametrize(
    "bad",
    [
        "4102020100100000",  # 16 digits: a 2013 id is not a 2026 one
        "410202010010000011",  # 18 digits
        "41020201001A00001",
        "４１０２０２０１００１０００００１",  # full-width digits: \d would accept them
        "41020201001000001\n",
        "",
    ],
)
def test_malformed_ids_are_rejected(bad: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        validate_component_id(bad)
    assert error_code(exc) == "component.bad_id"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("4102020101000123", "41020201001000123"),  # AABB → AA0BB
        ("4102030215999999", "41020302015999999"),
        ("4102020506000001", "41020201069000001"),  # water components moved to major 01
        ("4102020508000002", "41020201071000002"),
    ],
)
def test_2013_ids_map_to_2026_ids(old: str, new: str) -> None:
    assert component_id_from_2013(old) == new
    assert validate_component_id(component_id_from_2013(old)) == new


@pytest.mark.parametrize("old", ["4102020504000001", "4102020169000001"])
def test_2013_ids_without_a_successor_class_are_unmapped(old: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        component_id_from_2013(old)
    assert error_code(exc) == "component.unmapped_2013_id"


@pytest.mark.parametrize("bad", ["41020201010001", ID, "41020201a1000123", "４１０２０２０１０１０００１２３"])
def test_malformed_2013_ids_are_bad_ids(bad: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        component_id_from_2013(bad)
    assert error_code(exc) == "component.bad_id"


# ----- the record --------------------------------------------------------------------------------
def test_a_complete_record_is_accepted() -> None:
    c = make_component(
        owner_code=DEPT,
        owner_name="权属",
        maintainer_code="12410202D92N8X1B21",
        maintainer_name="养护",
        change_date=date(2021, 1, 1),
        data_source=DataSource.SURVEYED,
        accuracy=AccuracyClass.A,
        street_code="410202001",
        community_code="410202001009",
    )
    assert c.class_code == "01001" and c.division_code == "410202" and not c.removed
    assert c.same_record(dataclasses.replace(c, version=7))
    assert not c.same_record(dataclasses.replace(c, remark="x"))


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"id": "123"}, "component.bad_id"),
        ({"name": "  "}, "component.no_name"),
        ({"department_code": "1141020292C3N93C5X"}, "org.bad_credit_code"),  # check character wrong
        ({"department_name": ""}, "component.no_department"),
        ({"owner_code": "123"}, "org.bad_credit_code"),
        ({"maintainer_code": "1141020292C3N93C5I"}, "org.bad_credit_code"),
        ({"grid_code": "41020200100900"}, "component.bad_grid"),  # the old 14-digit form
        ({"street_code": "4102020"}, "component.bad_street"),
        ({"community_code": "410202001"}, "component.bad_community"),
        ({"change_date": date(2019, 1, 1)}, "component.bad_date"),
        ({"geometry": MultiPoint([(114.3, 34.8), (114.4, 34.8)])}, "component.bad_geometry"),
        ({"geometry": Point()}, "component.bad_geometry"),
        ({"geometry": Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])}, "component.bad_geometry"),  # bow tie
        ({"geometry": Point(114.3, 34.8)}, "component.bad_location"),  # not the given lon/lat
        ({"geometry": Point(200, 34.8), "lon": 200}, "component.bad_location"),
    ],
)
def test_invalid_records_are_rejected_with_their_code(overrides: dict[str, Any], code: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        make_component(**overrides)
    assert error_code(exc) == code


def test_lines_and_polygons_carry_a_representative_point_on_them() -> None:
    line = LineString([(114.30, 34.80), (114.31, 34.80)])
    lon, lat = representative_lonlat(line)
    assert line.distance(Point(lon, lat)) < 1e-12
    square = Polygon([(114.3, 34.8), (114.31, 34.8), (114.31, 34.81), (114.3, 34.81)])
    lon, lat = representative_lonlat(square)
    assert square.contains(Point(lon, lat))
    assert make_component(geometry=square, lon=lon, lat=lat).geometry is square


def test_status_source_and_accuracy_parse_from_chinese_words() -> None:
    assert ComponentStatus.parse(" 破损 ") is ComponentStatus.DAMAGED
    assert DataSource.parse("地形图") is DataSource.TOPOGRAPHIC_MAP
    assert AccuracyClass.parse("b") is AccuracyClass.B
    assert [a.tolerance_m for a in AccuracyClass] == [0.5, 1.0, 10.0]
    for parse, text, code in (
        (ComponentStatus.parse, "坏了", "component.bad_status"),
        (DataSource.parse, "网上", "component.bad_data_source"),
        (AccuracyClass.parse, "D", "component.bad_accuracy"),
    ):
        with pytest.raises(InvalidInputError) as exc:
            parse(text)
        assert error_code(exc) == code


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"limit": 0}, "component.bad_limit"),
        ({"bbox": (114.4, 34.8, 114.3, 34.9)}, "component.bad_bbox"),
        ({"bbox": (114.3, 34.8, 114.4, 95.0)}, "component.bad_location"),
    ],
)
def test_bad_filters_are_rejected(kwargs: dict[str, Any], code: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        ComponentFilter(**kwargs)
    assert error_code(exc) == code


# ----- rows --------------------------------------------------------------------------------------
def chinese_row(**changes: str) -> Row:
    values = dict(zip(EXPORT_COLUMNS, export_row(make_component()), strict=True))
    values.update(changes)
    return _canonical(Row(2, values))


def test_export_row_parses_back_to_the_same_record() -> None:
    c = make_component(remark="东门", accuracy=AccuracyClass.B, change_date=date(2024, 2, 29))
    row = _canonical(Row(2, dict(zip(EXPORT_COLUMNS, export_row(c), strict=True))))
    assert parse_component(row).same_record(c)


def test_a_2013_id_in_a_row_is_mapped() -> None:
    assert parse_component(chinese_row(标识码="4102020101000001")).id == ID


@pytest.mark.parametrize("text", ["2020-05-01", "2020/5/1", "20200501", "2020-05-01 00:00:00"])
def test_dates_in_the_usual_spellings_parse(text: str) -> None:
    assert parse_component(chinese_row(初始日期=text)).initial_date == date(2020, 5, 1)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"初始日期": "2020-13-01"}, "component.bad_date"),
        ({"初始日期": ""}, "component.bad_date"),
        ({"变更日期": "yesterday"}, "component.bad_date"),
        ({"状态": ""}, "component.bad_status"),
        ({"经度": "", "纬度": ""}, "component.bad_location"),
        ({"经度": "east"}, "component.bad_location"),
        ({"纬度": "nan"}, "component.bad_location"),
        ({"几何": "LINESTRING (114.3"}, "component.bad_geometry"),
        ({"几何": "POINT EMPTY", "经度": "", "纬度": ""}, "component.bad_geometry"),
    ],
)
def test_bad_row_values_raise_their_code(changes: dict[str, str], code: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        parse_component(chinese_row(**changes))
    assert error_code(exc) == code


def test_haversine_matches_a_known_distance() -> None:
    # one minute of latitude is close to one nautical mile (1852 m)
    d = haversine_m(114.35, 34.8, np.array([114.35, 114.35]), np.array([34.8, 34.8 + 1 / 60]))
    assert d[0] == 0.0
    assert 1849 < d[1] < 1855
