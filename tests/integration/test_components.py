"""The component register on SQLite and PostgreSQL: imports, history, queries, nearest and conflicts."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, mapping

from tests.unit.test_components import DEPT, make_component
from xiuhua.demo.sources import demo_sources
from xiuhua.geo.domain.components import AccuracyClass, Component, ComponentFilter, ComponentStatus, DataSource
from xiuhua.geo.services import components as svc
from xiuhua.geo.services.components import EXPORT_COLUMNS, RegisterComponent, RemoveComponent, UpdateComponent
from xiuhua.kernel.clock import FakeClock
from xiuhua.kernel.errors import ConflictError, InvalidInputError, NotFoundError
from xiuhua.org.services import catalog
from xiuhua.platform.importing import ImportRejectedError
from xiuhua.platform.tabular import Row, read_table, write_table
from xiuhua.unit_of_work import SqlUnitOfWork

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
OTHER_DEPT = "12410202D92N8X1B21"


@pytest.fixture
def reg(uow: SqlUnitOfWork) -> SqlUnitOfWork:
    """A unit of work over a database holding the component classes of the national directory."""
    catalog.import_classes(demo_sources(geometry=False).classes, uow)
    return uow


def at(lon: float, lat: float, **overrides: Any) -> Component:
    return make_component(geometry=Point(lon, lat), lon=lon, lat=lat, **overrides)


def count(uow: SqlUnitOfWork) -> tuple[int, int]:
    with uow:
        current = uow.components.count(ComponentFilter(include_removed=True))
        versions = sum(len(uow.components.versions(c.id)) for c in uow.components.find(ComponentFilter(limit=None)))
    return current, versions


def table_row(number: int, c: Component, **changes: str) -> Row:
    values = dict(zip(EXPORT_COLUMNS, svc.export_row(c), strict=True))
    values.update(changes)
    return Row(number, values)


# ----- one component -----------------------------------------------------------------------------
def test_register_stores_version_one_and_rejects_a_second_registration(reg: SqlUnitOfWork) -> None:
    clock = FakeClock(T0)
    stored = svc.register_component(RegisterComponent(make_component(), "clerk"), reg, clock)
    assert stored.version == 1
    got = svc.get_component(reg, stored.id)
    assert got.same_record(stored) and got.version == 1
    with reg:
        [(record, valid_from, valid_to, actor)] = reg.components.versions(stored.id)
    assert (valid_from, valid_to, actor) == (T0, None, "clerk") and record.same_record(stored)
    with pytest.raises(ConflictError) as exc:
        svc.register_component(RegisterComponent(make_component(), "clerk"), reg, clock)
    assert exc.value.code == "component.duplicate"


def test_register_rejects_a_class_missing_from_the_catalog(reg: SqlUnitOfWork) -> None:
    with pytest.raises(InvalidInputError) as exc:
        svc.register_component(RegisterComponent(make_component(id="41020201999000001"), "clerk"), reg, FakeClock(T0))
    assert exc.value.code == "component.unknown_class"
    assert count(reg) == (0, 0)


def test_unknown_component_is_not_found(reg: SqlUnitOfWork) -> None:
    with pytest.raises(NotFoundError):
        svc.get_component(reg, "41020201001999999")
    with pytest.raises(NotFoundError):
        svc.update_component(UpdateComponent(make_component(), 1, "clerk"), reg, FakeClock(T0))
    with pytest.raises(NotFoundError):
        svc.remove_component(RemoveComponent(make_component().id, 1, "clerk"), reg, FakeClock(T0))


# ----- history -----------------------------------------------------------------------------------
def test_history_reads_the_state_at_three_past_moments(reg: SqlUnitOfWork) -> None:
    clock = FakeClock(T0)
    v1 = svc.register_component(RegisterComponent(make_component(), "clerk"), reg, clock)
    clock.advance(days=10)
    v2 = svc.update_component(
        UpdateComponent(dataclasses.replace(v1, status=ComponentStatus.DAMAGED), 1, "supervisor_1"), reg, clock
    )
    assert v2.version == 2 and v2.change_date == date(2026, 3, 12)  # local date of the change, filled in
    clock.advance(days=10)
    v3 = svc.remove_component(RemoveComponent(v1.id, 2, "admin", remark="道路改造拆除"), reg, clock)
    assert v3.version == 3 and v3.status is ComponentStatus.REMOVED

    assert svc.component_state_at(reg, v1.id, T0 - timedelta(seconds=1)) is None
    first = svc.component_state_at(reg, v1.id, T0 + timedelta(days=5))
    second = svc.component_state_at(reg, v1.id, T0 + timedelta(days=10))  # valid_from is inclusive
    third = svc.component_state_at(reg, v1.id, T0 + timedelta(days=25))
    assert first is not None and first.version == 1 and first.status is ComponentStatus.INTACT
    assert second is not None and second.version == 2 and second.status is ComponentStatus.DAMAGED
    assert third is not None and third.version == 3 and third.remark == "道路改造拆除"

    # the row is kept: removing is a status, and the census of the past still counts it
    with reg:
        versions = reg.components.versions(v1.id)
        assert reg.components.count(ComponentFilter(include_removed=True)) == 1
    assert [(v.version, frm, to, who) for v, frm, to, who in versions] == [
        (1, T0, T0 + timedelta(days=10), "clerk"),
        (2, T0 + timedelta(days=10), T0 + timedelta(days=20), "supervisor_1"),
        (3, T0 + timedelta(days=20), None, "admin"),
    ]
    assert svc.find_components(reg, ComponentFilter()) == []
    damaged = ComponentFilter(status=ComponentStatus.DAMAGED)
    assert [c.id for c in svc.component_census_at(reg, T0 + timedelta(days=15), damaged)] == [v1.id]
    assert svc.component_census_at(reg, T0 + timedelta(days=5), damaged) == []
    assert svc.component_census_at(reg, T0 + timedelta(days=25), ComponentFilter()) == []
    assert len(svc.component_census_at(reg, T0 + timedelta(days=25), ComponentFilter(include_removed=True))) == 1


def test_an_identical_update_writes_no_version(reg: SqlUnitOfWork) -> None:
    clock = FakeClock(T0)
    v1 = svc.register_component(RegisterComponent(make_component(), "clerk"), reg, clock)
    clock.advance(hours=1)
    assert svc.update_component(UpdateComponent(v1, 1, "clerk"), reg, clock).version == 1
    assert count(reg) == (1, 1)


def test_census_filters_by_grid_owner_and_bbox(reg: SqlUnitOfWork) -> None:
    clock = FakeClock(T0)
    svc.register_component(RegisterComponent(at(114.30, 34.80, owner_code=DEPT, owner_name="甲"), "c"), reg, clock)
    svc.register_component(
        RegisterComponent(at(114.40, 34.80, id="41020201001000002", grid_code="410202001009002"), "c"), reg, clock
    )
    moment = T0 + timedelta(minutes=1)
    ids = lambda **kw: [c.id for c in svc.component_census_at(reg, moment, ComponentFilter(**kw))]  # noqa: E731
    assert ids() == ["41020201001000001", "41020201001000002"]
    assert ids(grid_code="410202001009002") == ["41020201001000002"]
    assert ids(owner_code=DEPT) == ["41020201001000001"]
    assert ids(maintainer_code=DEPT) == []
    assert ids(bbox=(114.35, 34.7, 114.45, 34.9)) == ["41020201001000002"]
    assert ids(limit=1) == ["41020201001000001"]


# ----- concurrency -------------------------------------------------------------------------------
def test_a_stale_update_is_a_conflict(reg: SqlUnitOfWork) -> None:
    clock = FakeClock(T0)
    v1 = svc.register_component(RegisterComponent(make_component(), "clerk"), reg, clock)
    alice = svc.get_component(reg, v1.id)  # both editors read version 1
    bob = svc.get_component(reg, v1.id)
    svc.update_component(
        UpdateComponent(dataclasses.replace(alice, name="供水井盖（东）"), alice.version, "alice"), reg, clock
    )
    with pytest.raises(ConflictError) as exc:
        svc.update_component(
            UpdateComponent(dataclasses.replace(bob, status=ComponentStatus.MISSING), bob.version, "bob"), reg, clock
        )
    assert exc.value.code == "component.conflict"
    current = svc.get_component(reg, v1.id)
    assert (current.version, current.name, current.status) == (2, "供水井盖（东）", ComponentStatus.INTACT)


def test_the_update_statement_itself_refuses_a_stale_version(reg: SqlUnitOfWork) -> None:
    """The guard in SQL: a writer whose read went stale between its check and its write still fails."""
    clock = FakeClock(T0)
    v1 = svc.register_component(RegisterComponent(make_component(), "clerk"), reg, clock)
    svc.update_component(UpdateComponent(dataclasses.replace(v1, name="改名"), 1, "alice"), reg, clock)
    with reg, pytest.raises(ConflictError) as exc:
        reg.components.change([dataclasses.replace(v1, remark="x")], clock.now(), "bob")
    assert exc.value.code == "component.conflict"
    assert count(reg) == (1, 2)


# ----- queries -----------------------------------------------------------------------------------
def seed_points(reg: SqlUnitOfWork) -> None:
    clock = FakeClock(T0)
    rows = [
        at(114.3000, 34.8000, id="41020201001000001"),
        at(114.3010, 34.8000, id="41020201001000002", status=ComponentStatus.DAMAGED, department_code=OTHER_DEPT),
        at(114.3100, 34.8000, id="41020201001000003", maintainer_code=OTHER_DEPT, maintainer_name="养护"),
        at(114.3002, 34.8000, id="41020201002000001", community_code="410202001009"),  # another class
        at(114.3001, 34.8000, id="41020201001000004", status=ComponentStatus.REMOVED),
    ]
    svc.import_components([table_row(i, c) for i, c in enumerate(rows, start=2)], reg, clock)


def test_queries_by_bbox_class_status_and_department(reg: SqlUnitOfWork) -> None:
    seed_points(reg)

    def ids(**kw: Any) -> list[str]:
        return [c.id for c in svc.find_components(reg, ComponentFilter(**kw))]

    assert ids(bbox=(114.2999, 34.79, 114.3011, 34.81)) == [
        "41020201001000001",
        "41020201001000002",
        "41020201002000001",
    ]
    assert ids(class_code="01002") == ["41020201002000001"]
    assert ids(status=ComponentStatus.DAMAGED) == ["41020201001000002"]
    assert ids(status=ComponentStatus.REMOVED) == ["41020201001000004"]
    assert ids(department_code=OTHER_DEPT) == ["41020201001000002"]
    assert ids(maintainer_code=OTHER_DEPT) == ["41020201001000003"]
    assert ids(community_code="410202001009") == ["41020201002000001"]
    assert ids(grid_code="410202001009001", class_code="01001", limit=2) == ["41020201001000001", "41020201001000002"]
    assert ids(owner_code=DEPT) == []


def test_nearest_finds_the_closest_current_component_of_a_class_within_the_radius(reg: SqlUnitOfWork) -> None:
    seed_points(reg)
    # 114.3001 is the removed one, 114.3002 another class: the nearest live 01001 is 114.3000
    found = svc.nearest_component(reg, "01001", 114.30015, 34.8, 100)
    assert found is not None and found.component.id == "41020201001000001"
    assert found.distance_m == pytest.approx(13.7, abs=0.2)  # 0.00015° of longitude at 34.8° N
    far = svc.nearest_component(reg, "01001", 114.3055, 34.8, 1000)
    assert far is not None and far.component.id == "41020201001000002"  # 410 m west beats 415 m east
    assert svc.nearest_component(reg, "01001", 114.3055, 34.8, 400) is None  # both lie just outside
    assert svc.nearest_component(reg, "01003", 114.3, 34.8, 1000) is None
    with pytest.raises(InvalidInputError):
        svc.nearest_component(reg, "01001", 114.3, 34.8, 0)


# ----- imports -----------------------------------------------------------------------------------
GOOD = make_component()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        pytest.param({"标识码": "4102020100100000X"}, "component.bad_id", id="bad id"),
        pytest.param({"标识码": "41020201999000009"}, "component.unknown_class", id="unknown class"),
        pytest.param({"标识码": "4102020504000009"}, "component.unmapped_2013_id", id="unmapped 2013 id"),
        pytest.param({"主管部门代码": "1141020292C3N93C5M"}, "org.bad_credit_code", id="bad credit code"),
        pytest.param({"权属单位代码": "ABC"}, "org.bad_credit_code", id="bad owner credit code"),
        pytest.param({"状态": "坏了"}, "component.bad_status", id="bad status"),
        pytest.param({"初始日期": "2020-02-30"}, "component.bad_date", id="bad date"),
        pytest.param({"几何": "POLYGON ((0 0, 1 1"}, "component.bad_geometry", id="bad geometry"),
        pytest.param({"经度": "", "纬度": ""}, "component.bad_location", id="missing lon-lat"),
        pytest.param({"纬度": "91"}, "component.bad_location", id="lat out of range"),
        pytest.param({"标识码": GOOD.id}, "component.duplicate", id="duplicate id"),
    ],
)
def test_an_import_defect_rejects_the_file_with_its_row_number(
    reg: SqlUnitOfWork, changes: dict[str, str], code: str
) -> None:
    second = dataclasses.replace(GOOD, id="41020201001000002")
    rows = [
        table_row(2, GOOD),
        table_row(3, second, **changes),
        table_row(4, dataclasses.replace(GOOD, id="41020201001000003")),
    ]
    with pytest.raises(ImportRejectedError) as exc:
        svc.import_components(rows, reg, FakeClock(T0))
    assert [(e.row, e.code) for e in exc.value.errors] == [(3, code)]
    assert count(reg) == (0, 0)  # nothing written


def test_skip_invalid_writes_the_good_rows_and_reports_the_rest(reg: SqlUnitOfWork) -> None:
    rows = [table_row(2, GOOD, 状态="坏了"), table_row(3, dataclasses.replace(GOOD, id="41020201001000002"))]
    report = svc.import_components(rows, reg, FakeClock(T0), skip_invalid=True)
    assert (report.added, report.written) == (1, 1)
    assert [(e.row, e.code) for e in report.skipped] == [(2, "component.bad_status")]
    assert count(reg) == (1, 1)


def test_a_table_missing_a_mandatory_column_is_rejected(reg: SqlUnitOfWork) -> None:
    row = table_row(2, GOOD)
    del row.values["状态"]
    with pytest.raises(InvalidInputError) as exc:
        svc.import_components([row], reg, FakeClock(T0))
    assert exc.value.code == "table.missing_columns"


def test_english_headers_and_2013_ids_import(reg: SqlUnitOfWork) -> None:
    values = dict(zip(svc.FIELDS, svc.export_row(GOOD), strict=True)) | {"id": "4102020101000001"}
    report = svc.import_components([Row(2, values)], reg, FakeClock(T0), actor="importer")
    assert report.added == 1
    assert svc.get_component(reg, GOOD.id).same_record(GOOD)


def test_reimport_changes_only_the_changed_rows_as_new_versions(reg: SqlUnitOfWork) -> None:
    clock = FakeClock(T0)
    second = dataclasses.replace(GOOD, id="41020201001000002")
    svc.import_components([table_row(2, GOOD), table_row(3, second)], reg, clock)
    clock.advance(days=1)
    report = svc.import_components([table_row(2, GOOD), table_row(3, second, 状态="丢失")], reg, clock)
    assert (report.added, report.changed, report.unchanged) == (0, 1, 1)
    assert svc.get_component(reg, second.id).version == 2
    assert svc.get_component(reg, GOOD.id).version == 1
    before = svc.component_state_at(reg, second.id, T0 + timedelta(hours=1))
    assert before is not None and before.status is ComponentStatus.INTACT


def test_geojson_features_import_with_feature_numbers(reg: SqlUnitOfWork) -> None:
    road = LineString([(114.30, 34.80), (114.31, 34.80)])
    props = dict(zip(svc.FIELDS, svc.export_row(GOOD), strict=True))
    for key in ("lon", "lat", "geometry"):
        del props[key]
    features: list[dict[str, Any]] = [
        {"type": "Feature", "geometry": mapping(road), "properties": props | {"id": "41020202001000001"}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": "x"}, "properties": props},
        {"type": "Feature", "geometry": None, "properties": props | {"id": "41020202001000003"}},
    ]
    with pytest.raises(ImportRejectedError) as exc:
        svc.import_component_features(features, reg, FakeClock(T0))
    assert [(e.row, e.code) for e in exc.value.errors] == [(2, "component.bad_geometry"), (3, "component.bad_location")]
    assert count(reg) == (0, 0)
    report = svc.import_component_features(features[:1], reg, FakeClock(T0))
    assert report.added == 1
    stored = svc.get_component(reg, "41020202001000001")
    assert (
        shapely.equals_exact(stored.geometry, road, tolerance=0) and road.distance(Point(stored.lon, stored.lat)) < 1e-9
    )


def varied_components() -> list[Component]:
    """Four records using every optional field, a polygon, a line with full-precision coordinates and a
    removed one: what an export and re-import must carry through unchanged."""
    square = Polygon([(114.3, 34.8), (114.3003, 34.8), (114.3003, 34.8002), (114.3, 34.8002)])
    road = LineString([(114.123456789012345, 34.98765432101234), (114.2, 34.3)])
    return [
        make_component(
            owner_code=DEPT, owner_name="权属单位", maintainer_code=OTHER_DEPT, maintainer_name="养护单位",
            change_date=date(2024, 2, 29), data_source=DataSource.SURVEYED, remark="备注, 含逗号\n和换行",
            street_code="410202001", street_name="北书店街街道", community_code="410202001009",
            community_name="某社区", accuracy=AccuracyClass.A,
        ),
        make_component(id="41020202001000002", geometry=square, lon=114.30015, lat=34.8001, accuracy=AccuracyClass.C,
                       status=ComponentStatus.ABANDONED),
        make_component(id="41020202001000001", geometry=road, lon=114.15, lat=34.7, data_source=DataSource.OTHER),
        at(114.1 + 0.2, 34.1 + 0.2, id="41020201001000002", status=ComponentStatus.REMOVED),
    ]  # fmt: skip


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_import_round_trip_is_unchanged(reg: SqlUnitOfWork, tmp_path: Path, suffix: str) -> None:
    clock = FakeClock(T0)
    originals = varied_components()
    svc.import_components([table_row(i, c) for i, c in enumerate(originals, start=2)], reg, clock)
    path = tmp_path / f"components{suffix}"
    write_table(path, EXPORT_COLUMNS, svc.export_components(reg))
    rows = read_table(path)
    assert list(rows[0].values) == list(EXPORT_COLUMNS)
    clock.advance(days=1)
    report = svc.import_components(rows, reg, clock)
    assert (report.added, report.changed, report.unchanged) == (0, 0, 4)
    exported_again = svc.export_components(reg)
    assert len(exported_again) == 4
    for original in originals:
        stored = svc.get_component(reg, original.id)
        assert stored.same_record(original) and stored.version == 1
