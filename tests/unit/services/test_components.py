"""Geography's services on the in-memory fakes: the component register (register, change, remove, import,
history, census, nearest, export) and the stored geography (demo outlines and grids, survey layers)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
import shapely
from shapely.geometry import LineString, Point, box, mapping

from tests.fakes import FakeUnitOfWork
from tests.unit.services.conftest import seeded
from tests.unit.test_components import DEPT, ID, make_component
from xiuhua.geo.adapters.crs import Crs
from xiuhua.geo.domain.components import Component, ComponentFilter, ComponentStatus
from xiuhua.geo.ports import GeoUnitOfWork
from xiuhua.geo.services import components as svc
from xiuhua.geo.services.components import EXPORT_COLUMNS, RegisterComponent, RemoveComponent, UpdateComponent
from xiuhua.geo.services.geography import load_locator, locate, seed_demo_geometry
from xiuhua.geo.services.survey import LayerKind, import_layer, known_geography
from xiuhua.kernel.actor import Role
from xiuhua.kernel.clock import FakeClock
from xiuhua.kernel.errors import ConflictError, InvalidInputError, NotFoundError
from xiuhua.org.domain.model import ClassKind, Region, RegionLevel, Staff
from xiuhua.org.domain.standards import CaseClass
from xiuhua.org.services.calendar import TIMEZONE_KEY
from xiuhua.platform.importing import ImportRejectedError
from xiuhua.platform.tabular import Row

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
SECOND = "41020201001000002"
ROAD = "41020202001000001"
OTHER_DEPT = "12410202D92N8X1B21"


def geo(uow: FakeUnitOfWork) -> GeoUnitOfWork:
    """The fake unit of work as geography's services take it (they use no map layers here)."""
    return cast(GeoUnitOfWork, uow)


@pytest.fixture
def reg() -> FakeUnitOfWork:
    """The services' small city with three component classes in the catalog."""
    uow = seeded()
    uow.catalog.upsert_classes(
        [
            CaseClass(ClassKind.COMPONENT, "01002", "污水井盖", "公用设施"),
            CaseClass(ClassKind.COMPONENT, "02001", "道路", "道路交通"),
            CaseClass(ClassKind.MATTER, "01003", "非部件类", "市容环境"),
        ]
    )
    uow.commit()
    return uow


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


def at(lon: float, lat: float, **overrides: Any) -> Component:
    return make_component(geometry=Point(lon, lat), lon=lon, lat=lat, **overrides)


def register(uow: FakeUnitOfWork, clock: FakeClock, component: Component, actor: str = "clerk") -> Component:
    return svc.register_component(RegisterComponent(component, actor), geo(uow), clock)


def stored(uow: FakeUnitOfWork) -> tuple[int, int]:
    """(current components, versions) in the register."""
    with uow:
        everything = uow.components.find(ComponentFilter(include_removed=True, limit=None))
        return len(everything), sum(len(uow.components.versions(c.id)) for c in everything)


def table_row(number: int, c: Component, **changes: str) -> Row:
    values = dict(zip(EXPORT_COLUMNS, svc.export_row(c), strict=True))
    values.update(changes)
    return Row(number, values)


# ----- one component -----------------------------------------------------------------------------
def test_register_stores_version_one_and_refuses_a_known_id(reg: FakeUnitOfWork, clock: FakeClock) -> None:
    stored_one = register(reg, clock, make_component(version=5))
    assert stored_one.version == 1
    got = svc.get_component(geo(reg), ID)
    assert got.same_record(make_component()) and got.version == 1
    commits = reg.commits
    with pytest.raises(ConflictError) as exc:
        register(reg, clock, make_component(name="另一个"))
    assert exc.value.code == "component.duplicate" and reg.commits == commits
    assert svc.get_component(geo(reg), ID).name == "供水井盖" and stored(reg) == (1, 1)


@pytest.mark.parametrize("component_id", ["41020201999000001", "41020201003000001"], ids=["unknown", "a matter"])
def test_register_refuses_a_class_that_is_no_component_class_of_the_catalog(
    reg: FakeUnitOfWork, clock: FakeClock, component_id: str
) -> None:
    with pytest.raises(InvalidInputError) as exc:
        register(reg, clock, make_component(id=component_id))
    assert exc.value.code == "component.unknown_class" and stored(reg) == (0, 0)


def test_an_unknown_component_is_not_found(reg: FakeUnitOfWork, clock: FakeClock) -> None:
    for call in (
        lambda: svc.get_component(geo(reg), ID),
        lambda: svc.update_component(UpdateComponent(make_component(), 1, "clerk"), geo(reg), clock),
        lambda: svc.remove_component(RemoveComponent(ID, 1, "clerk"), geo(reg), clock),
        lambda: svc.component_history(geo(reg), ID),
    ):
        with pytest.raises(NotFoundError) as exc:
            call()
        assert exc.value.code == "component.not_found"
    assert stored(reg) == (0, 0) and reg.commits == 1  # the fixture's own commit only


def test_an_update_fills_in_the_local_date_of_the_change(reg: FakeUnitOfWork, clock: FakeClock) -> None:
    v1 = register(reg, clock, make_component())
    clock.advance(days=10, hours=16)  # 2026-03-12 17:00 UTC is the 13th in Shanghai
    v2 = svc.update_component(
        UpdateComponent(dataclasses.replace(v1, status=ComponentStatus.DAMAGED), 1, "supervisor_1"), geo(reg), clock
    )
    assert (v2.version, v2.change_date, v2.status) == (2, date(2026, 3, 13), ComponentStatus.DAMAGED)
    reg.settings.set(TIMEZONE_KEY, "UTC")
    v3 = svc.update_component(UpdateComponent(dataclasses.replace(v2, name="改名"), 2, "x"), geo(reg), clock)
    assert (v3.version, v3.change_date) == (3, date(2026, 3, 12))  # the city's own time zone
    given = date(2026, 1, 5)
    v4 = svc.update_component(UpdateComponent(dataclasses.replace(v3, change_date=given), 3, "x"), geo(reg), clock)
    assert v4.change_date == given  # a date the editor gave is kept
    assert svc.get_component(geo(reg), ID).same_record(v4)


def test_a_change_date_is_never_before_the_initial_date(reg: FakeUnitOfWork, clock: FakeClock) -> None:
    v1 = register(reg, clock, make_component(initial_date=date(2027, 1, 1)))
    v2 = svc.update_component(UpdateComponent(dataclasses.replace(v1, name="改名"), 1, "x"), geo(reg), clock)
    assert v2.change_date == date(2027, 1, 1)


def test_an_identical_update_writes_no_version(reg: FakeUnitOfWork, clock: FakeClock) -> None:
    v1 = register(reg, clock, make_component())
    commits = reg.commits
    clock.advance(hours=1)
    assert svc.update_component(UpdateComponent(make_component(), 1, "clerk"), geo(reg), clock).version == 1
    assert stored(reg) == (1, 1) and reg.commits == commits and v1.version == 1


def test_a_stale_update_is_a_conflict_naming_the_stored_version(reg: FakeUnitOfWork, clock: FakeClock) -> None:
    v1 = register(reg, clock, make_component())
    svc.update_component(UpdateComponent(dataclasses.replace(v1, name="供水井盖（东）"), 1, "alice"), geo(reg), clock)
    for cmd in (
        UpdateComponent(dataclasses.replace(v1, status=ComponentStatus.MISSING), 1, "bob"),
        UpdateComponent(dataclasses.replace(v1, status=ComponentStatus.MISSING), 3, "bob"),  # from the future
    ):
        with pytest.raises(ConflictError) as exc:
            svc.update_component(cmd, geo(reg), clock)
        assert exc.value.code == "component.conflict" and exc.value.details["version"] == 2
    current = svc.get_component(geo(reg), ID)
    assert (current.version, current.name, current.status) == (2, "供水井盖（东）", ComponentStatus.INTACT)
    with pytest.raises(ConflictError):
        svc.remove_component(RemoveComponent(ID, 1, "bob"), geo(reg), clock)
    assert stored(reg) == (1, 2)


def test_remove_is_a_new_version_and_the_history_names_each_change(reg: FakeUnitOfWork, clock: FakeClock) -> None:
    v1 = register(reg, clock, make_component(remark="旧备注"))
    clock.advance(days=10)
    svc.update_component(
        UpdateComponent(dataclasses.replace(v1, status=ComponentStatus.DAMAGED), 1, "supervisor_1"), geo(reg), clock
    )
    clock.advance(days=10)
    v3 = svc.remove_component(RemoveComponent(ID, 2, "admin", remark="道路改造拆除"), geo(reg), clock)
    assert (v3.version, v3.status, v3.remark) == (3, ComponentStatus.REMOVED, "道路改造拆除")
    history = svc.component_history(geo(reg), ID)
    assert [(h.component.version, h.valid_from, h.valid_to, h.changed_by) for h in history] == [
        (1, T0, T0 + timedelta(days=10), "clerk"),
        (2, T0 + timedelta(days=10), T0 + timedelta(days=20), "supervisor_1"),
        (3, T0 + timedelta(days=20), None, "admin"),
    ]
    assert [h.changes for h in history] == [
        (),
        (("状态", "完好", "破损"), ("变更日期", "", "2026-03-12")),
        (("状态", "破损", "移除"), ("变更日期", "2026-03-12", "2026-03-22"), ("备注", "旧备注", "道路改造拆除")),
    ]
    assert svc.find_components(geo(reg), ComponentFilter()) == []  # removed: left out of queries
    assert [c.version for c in svc.find_components(geo(reg), ComponentFilter(include_removed=True))] == [3]
    clock.advance(days=1)
    again = svc.remove_component(RemoveComponent(ID, 3, "admin"), geo(reg), clock)  # already removed, no remark
    assert (again.version, again.status, again.remark) == (4, ComponentStatus.REMOVED, "道路改造拆除")
    assert svc.component_history(geo(reg), ID)[-1].changes == (("变更日期", "2026-03-22", "2026-03-23"),)


# ----- the past ----------------------------------------------------------------------------------
def test_state_and_census_at_moments_between_versions(reg: FakeUnitOfWork, clock: FakeClock) -> None:
    v1 = register(reg, clock, at(114.30, 34.80, owner_code=DEPT, owner_name="甲"))
    register(reg, clock, at(114.40, 34.80, id=SECOND, grid_code="410202001009002"))
    clock.advance(days=10)
    svc.update_component(
        UpdateComponent(dataclasses.replace(v1, status=ComponentStatus.DAMAGED), 1, "s"), geo(reg), clock
    )
    clock.advance(days=10)
    svc.remove_component(RemoveComponent(SECOND, 1, "admin"), geo(reg), clock)

    def census(days: float, **where: Any) -> list[tuple[str, int]]:
        moment = T0 + timedelta(days=days)
        return [(c.id, c.version) for c in svc.component_census_at(geo(reg), moment, ComponentFilter(**where))]

    assert svc.component_state_at(geo(reg), ID, T0 - timedelta(seconds=1)) is None
    first = svc.component_state_at(geo(reg), ID, T0 + timedelta(days=5))
    second = svc.component_state_at(geo(reg), ID, T0 + timedelta(days=10))
    assert first is not None and (first.version, first.status) == (1, ComponentStatus.INTACT)
    assert second is not None and (second.version, second.status) == (2, ComponentStatus.DAMAGED)
    assert census(-1, include_removed=True) == []
    assert census(5) == [(ID, 1), (SECOND, 1)]
    assert census(15, status=ComponentStatus.DAMAGED) == [(ID, 2)]
    assert census(5, status=ComponentStatus.DAMAGED) == []
    assert census(25) == [(ID, 2)]
    assert census(25, include_removed=True) == [(ID, 2), (SECOND, 2)]
    assert census(25, grid_code="410202001009002", include_removed=True) == [(SECOND, 2)]
    assert census(15, owner_code=DEPT) == [(ID, 2)] and census(15, maintainer_code=DEPT) == []
    assert census(15, bbox=(114.35, 34.7, 114.45, 34.9)) == [(SECOND, 1)]
    assert census(15, limit=1) == [(ID, 2)]


def test_a_naive_moment_is_refused(reg: FakeUnitOfWork, clock: FakeClock) -> None:
    register(reg, clock, make_component())
    naive = datetime(2026, 3, 5, 9, 0)
    for call in (
        lambda: svc.component_state_at(geo(reg), ID, naive),
        lambda: svc.component_census_at(geo(reg), naive, ComponentFilter()),
    ):
        with pytest.raises(InvalidInputError) as exc:
            call()
        assert exc.value.code == "time.naive"


# ----- imports -----------------------------------------------------------------------------------
GOOD = make_component()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        pytest.param({"标识码": "4102020100100000X"}, "component.bad_id", id="bad id"),
        pytest.param({"标识码": "41020201999000009"}, "component.unknown_class", id="unknown class"),
        pytest.param({"标识码": "41020201003000009"}, "component.unknown_class", id="a matter class"),
        pytest.param({"状态": "坏了"}, "component.bad_status", id="bad status"),
        pytest.param({"状态": ""}, "component.bad_status", id="no status"),
        pytest.param({"初始日期": "2020-02-30"}, "component.bad_date", id="bad date"),
        pytest.param({"变更日期": "2019-01-01"}, "component.bad_date", id="change before initial"),
        pytest.param({"几何": "POLYGON ((0 0, 1 1"}, "component.bad_geometry", id="bad geometry"),
        pytest.param({"经度": "", "纬度": ""}, "component.bad_location", id="missing lon-lat"),
        pytest.param({"经度": "nan"}, "component.bad_location", id="nan"),
        pytest.param({"所在单元网格标识码": "41020200100900"}, "component.bad_grid", id="short grid code"),
        pytest.param({"名称": " "}, "component.no_name", id="blank name"),
        pytest.param({"标识码": GOOD.id}, "component.duplicate", id="duplicate id"),
    ],
)
def test_an_import_defect_rejects_the_file_and_writes_nothing(
    reg: FakeUnitOfWork, clock: FakeClock, changes: dict[str, str], code: str
) -> None:
    register(reg, clock, make_component(id="41020201001000009", name="已有"))
    commits = reg.commits
    rows = [
        table_row(2, GOOD),
        table_row(3, dataclasses.replace(GOOD, id=SECOND), **changes),
        table_row(4, make_component(id="41020201001000009", name="改名")),  # a change that must not land either
    ]
    with pytest.raises(ImportRejectedError) as exc:
        svc.import_components(rows, geo(reg), clock)
    assert [(e.row, e.code) for e in exc.value.errors] == [(3, code)]
    assert stored(reg) == (1, 1) and reg.commits == commits
    assert svc.get_component(geo(reg), "41020201001000009").name == "已有"


def test_every_defect_of_a_file_is_reported_by_row(reg: FakeUnitOfWork, clock: FakeClock) -> None:
    rows = [table_row(2, GOOD, 状态="坏了"), table_row(3, GOOD, 初始日期="x"), table_row(4, GOOD), table_row(5, GOOD)]
    with pytest.raises(ImportRejectedError) as exc:
        svc.import_components(rows, geo(reg), clock)
    assert [(e.row, e.code) for e in exc.value.errors] == [
        (2, "component.bad_status"),
        (3, "component.bad_date"),
        (5, "component.duplicate"),
    ]
    assert stored(reg) == (0, 0)


def test_an_import_without_rows_or_with_a_missing_column(reg: FakeUnitOfWork, clock: FakeClock) -> None:
    report = svc.import_components([], geo(reg), clock)
    assert (report.added, report.changed, report.unchanged, report.written) == (0, 0, 0, 0)
    row = table_row(2, GOOD)
    del row.values["状态"]
    with pytest.raises(InvalidInputError) as exc:
        svc.import_components([row], geo(reg), clock)
    assert exc.value.code == "table.missing_columns" and stored(reg) == (0, 0)


def test_skip_invalid_writes_the_good_rows_and_reports_the_rest(reg: FakeUnitOfWork, clock: FakeClock) -> None:
    rows = [table_row(2, GOOD, 状态="坏了"), table_row(3, dataclasses.replace(GOOD, id=SECOND))]
    report = svc.import_components(rows, geo(reg), clock, skip_invalid=True, actor="importer")
    assert (report.added, report.written) == (1, 1)
    assert [(e.row, e.code) for e in report.skipped] == [(2, "component.bad_status")]
    assert stored(reg) == (1, 1)
    with reg:
        [(_, valid_from, _, actor)] = reg.components.versions(SECOND)
    assert (valid_from, actor) == (T0, "importer")


def test_reimport_changes_only_the_changed_rows(reg: FakeUnitOfWork, clock: FakeClock) -> None:
    second = dataclasses.replace(GOOD, id=SECOND)
    svc.import_components([table_row(2, GOOD), table_row(3, second)], geo(reg), clock)
    clock.advance(days=1)
    third = make_component(id="41020201001000003")
    rows = [table_row(2, GOOD), table_row(3, second, 状态="丢失"), table_row(4, third)]
    report = svc.import_components(rows, geo(reg), clock)
    assert (report.added, report.changed, report.unchanged, report.written) == (1, 1, 1, 2)
    assert [svc.get_component(geo(reg), i).version for i in (GOOD.id, SECOND, third.id)] == [1, 2, 1]
    before = svc.component_state_at(geo(reg), SECOND, T0 + timedelta(hours=1))
    assert before is not None and before.status is ComponentStatus.INTACT
    assert stored(reg) == (3, 4)


def test_english_headers_and_2013_ids_import(reg: FakeUnitOfWork, clock: FakeClock) -> None:
    values = dict(zip(svc.FIELDS, svc.export_row(GOOD), strict=True)) | {"id": "4102020101000001"}
    report = svc.import_components([Row(2, values)], geo(reg), clock, actor="importer")
    assert report.added == 1
    assert svc.get_component(geo(reg), GOOD.id).same_record(GOOD)


def test_geojson_features_import_with_feature_numbers(reg: FakeUnitOfWork, clock: FakeClock) -> None:
    road = LineString([(114.30, 34.80), (114.31, 34.80)])
    props = dict(zip(svc.FIELDS, svc.export_row(GOOD), strict=True))
    for key in ("lon", "lat", "geometry"):
        del props[key]
    features: list[dict[str, Any]] = [
        {"type": "Feature", "geometry": mapping(road), "properties": props | {"id": ROAD}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": "x"}, "properties": props},
        {"type": "Feature", "geometry": None, "properties": props | {"id": "41020202001000003"}},
    ]
    with pytest.raises(ImportRejectedError) as exc:
        svc.import_component_features(features, geo(reg), clock)
    assert [(e.row, e.code) for e in exc.value.errors] == [(2, "component.bad_geometry"), (3, "component.bad_location")]
    assert stored(reg) == (0, 0)
    assert svc.import_component_features(features[:1], geo(reg), clock).added == 1
    got = svc.get_component(geo(reg), ROAD)
    assert shapely.equals_exact(got.geometry, road, tolerance=0) and road.distance(Point(got.lon, got.lat)) < 1e-9


def test_export_then_import_is_unchanged(reg: FakeUnitOfWork, clock: FakeClock) -> None:
    originals = [
        make_component(owner_code=DEPT, owner_name="权属", remark="逗号, 换行\n", community_code="410202001009"),
        make_component(id=ROAD, geometry=LineString([(114.123456789012345, 34.98765432101234), (114.2, 34.3)]),
                       lon=114.15, lat=34.7),
        at(114.3, 34.1, id=SECOND, status=ComponentStatus.REMOVED),
    ]  # fmt: skip
    svc.import_components([table_row(i, c) for i, c in enumerate(originals, start=2)], geo(reg), clock)
    exported = svc.export_components(geo(reg))
    assert [r[0] for r in exported] == [ID, SECOND, ROAD]  # every one, removed too, by id
    clock.advance(days=1)
    rows = [Row(i, dict(zip(EXPORT_COLUMNS, r, strict=True))) for i, r in enumerate(exported, start=2)]
    report = svc.import_components(rows, geo(reg), clock)
    assert (report.added, report.changed, report.unchanged) == (0, 0, 3)
    layer = svc.export_component_layer(geo(reg), ComponentFilter(class_code="02001"))
    assert len(layer) == 1 and shapely.equals_exact(layer[0][1], originals[1].geometry, tolerance=0)
    assert svc.export_components(geo(reg), ComponentFilter(status=ComponentStatus.REMOVED)) == [exported[1]]


# ----- queries -----------------------------------------------------------------------------------
def seed_points(reg: FakeUnitOfWork, clock: FakeClock) -> None:
    rows = [
        at(114.3000, 34.8000, id="41020201001000001"),
        at(114.3010, 34.8000, id="41020201001000002", status=ComponentStatus.DAMAGED, department_code=OTHER_DEPT),
        at(114.3100, 34.8000, id="41020201001000003", maintainer_code=OTHER_DEPT, maintainer_name="养护"),
        at(114.3002, 34.8000, id="41020201002000001", community_code="410202001009"),  # another class
        at(114.3001, 34.8000, id="41020201001000004", status=ComponentStatus.REMOVED),
    ]
    svc.import_components([table_row(i, c) for i, c in enumerate(rows, start=2)], geo(reg), clock)


def test_find_by_bbox_class_status_and_department(reg: FakeUnitOfWork, clock: FakeClock) -> None:
    seed_points(reg, clock)

    def ids(**kw: Any) -> list[str]:
        return [c.id for c in svc.find_components(geo(reg), ComponentFilter(**kw))]

    assert ids(bbox=(114.2999, 34.79, 114.3011, 34.81)) == [
        "41020201001000001",
        "41020201001000002",
        "41020201002000001",
    ]
    assert ids(class_code="01002") == ["41020201002000001"]
    assert ids(status=ComponentStatus.REMOVED) == ["41020201001000004"]
    assert ids(department_code=OTHER_DEPT) == ["41020201001000002"]
    assert ids(maintainer_code=OTHER_DEPT) == ["41020201001000003"]
    assert ids(grid_code="410202001009001", class_code="01001", limit=2) == ["41020201001000001", "41020201001000002"]
    assert ids(owner_code=DEPT) == []


def test_nearest_finds_the_closest_live_component_of_a_class_within_the_radius(
    reg: FakeUnitOfWork, clock: FakeClock
) -> None:
    seed_points(reg, clock)
    found = svc.nearest_component(geo(reg), "01001", 114.30015, 34.8, 100)
    assert found is not None and found.component.id == "41020201001000001"  # not the removed …004
    assert found.distance_m == pytest.approx(13.7, abs=0.2)
    far = svc.nearest_component(geo(reg), "01001", 114.3055, 34.8, 1000)
    assert far is not None and far.component.id == "41020201001000002"  # 410 m west beats 415 m east
    assert svc.nearest_component(geo(reg), "01001", 114.3055, 34.8, 400) is None
    assert svc.nearest_component(geo(reg), "02001", 114.3, 34.8, 1000) is None
    for lon, lat, metres, code in ((114.3, 34.8, 0, "component.bad_radius"), (181, 34.8, 10, "component.bad_location")):
        with pytest.raises(InvalidInputError) as exc:
            svc.nearest_component(geo(reg), "01001", lon, lat, metres)
        assert exc.value.code == code


def test_a_tie_goes_to_the_smaller_id(reg: FakeUnitOfWork, clock: FakeClock) -> None:
    svc.import_components(
        [table_row(2, at(114.301, 34.8, id=SECOND)), table_row(3, at(114.301, 34.8))], geo(reg), clock
    )
    found = svc.nearest_component(geo(reg), "01001", 114.3, 34.8, 500)
    assert found is not None and found.component.id == ID


# ----- the stored geography ----------------------------------------------------------------------
CITY, DISTRICT, STREET = "410200", "410204", "410204001"
WEST, EAST = "410204001001", "410204001002"
D = 0.001
X0, Y0 = 114.300, 34.790


def regions(uow: FakeUnitOfWork) -> None:
    uow.regions.upsert(
        [
            Region(CITY, "开封市", RegionLevel.CITY),
            Region(DISTRICT, "鼓楼区", RegionLevel.DISTRICT, CITY),
            Region(STREET, "相国寺街道", RegionLevel.STREET, DISTRICT),
            Region(WEST, "西社区", RegionLevel.COMMUNITY, STREET),
            Region(EAST, "东社区", RegionLevel.COMMUNITY, STREET),
        ]
    )
    uow.commit()


def feature(code: str, geometry: Any, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"code": code, **props}, "geometry": mapping(geometry)}


def test_demo_geometry_stores_outlines_grids_and_responsibility_and_locates(reg: FakeUnitOfWork) -> None:
    regions(reg)
    reg.staff.upsert([Staff(f"supervisor_{STREET}", "监督员", frozenset({Role.SUPERVISOR}), None, STREET)])
    features = [
        feature(DISTRICT, box(X0 - 0.01, Y0 - 0.01, X0 + 0.02, Y0 + 0.02), synthetic=True),
        feature(STREET, box(X0, Y0, X0 + 8 * D, Y0 + 4 * D)),
        feature(WEST, box(X0, Y0, X0 + 4 * D, Y0 + 4 * D)),
        feature(EAST, box(X0 + 4 * D, Y0, X0 + 8 * D, Y0 + 4 * D)),
        feature("410204001099", box(X0, Y0, X0 + D, Y0 + D)),  # no such region: left out
    ]
    summary = seed_demo_geometry(features, geo(reg))
    assert (summary.shapes, summary.responsibility_grids) == (4, 1) and summary.grids > 2
    with reg:
        assert [code for code, _ in reg.geo.region_shapes()] == [DISTRICT, STREET, WEST, EAST]
        assert reg.geo.responsibility_codes() == {f"{STREET}R01"} and reg.geo.count_grids() == summary.grids
        codes = [code for code, _, _ in reg.geo.grids()]
    assert reg.geo.responsibility[f"{STREET}R01"] == (f"{STREET} 监督网格", f"supervisor_{STREET}")
    assert all(code[:12] in (WEST, EAST) for code in codes) and len(set(codes)) == len(codes)
    populations = reg.regions.populations()
    assert populations[STREET] == populations[WEST] + populations[EAST] > 0
    place = locate(X0 + 0.5 * D, Y0 + 0.5 * D, Crs.WGS84, load_locator(geo(reg)))
    assert (place.district_code, place.street_code, place.community_code) == (DISTRICT, STREET, WEST)
    assert place.grid_code is not None and place.grid_code.startswith(WEST) and place.grid_code in codes
    again = seed_demo_geometry(features, geo(reg))  # a second seeding replaces, never doubles
    assert again.grids == summary.grids and reg.geo.count_grids() == summary.grids


def write(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def cell(col: int, row: int) -> Any:
    return box(X0 + col * D, Y0 + row * D, X0 + (col + 1) * D, Y0 + (row + 1) * D)


def outlines(uow: FakeUnitOfWork, tmp_path: Path) -> None:
    regions(uow)
    layers = [
        (LayerKind.DISTRICTS, [feature(DISTRICT, box(114.29, 34.78, 114.32, 34.80))]),
        (LayerKind.STREETS, [feature(STREET, box(X0, Y0, X0 + 4 * D, Y0 + 2 * D))]),
        (LayerKind.COMMUNITIES, [feature(WEST, box(X0, Y0, X0 + 2 * D, Y0 + 2 * D)),
                                 feature(EAST, box(X0 + 2 * D, Y0, X0 + 4 * D, Y0 + 2 * D))]),
    ]  # fmt: skip
    for kind, features in layers:
        summary = import_layer(write(tmp_path / f"{kind.value}.geojson", features), kind, geo(uow))
        assert summary.written == len(features)


def grid_features(code: str, area_class: str | None = None) -> list[dict[str, Any]]:
    col0 = 0 if code == WEST else 2
    cells = [(col0, 1), (col0 + 1, 1), (col0, 0), (col0 + 1, 0)]
    extra = {"area_class": area_class} if area_class else {}
    return [feature(f"{code}{n:03d}", cell(c, r), **extra) for n, (c, r) in enumerate(cells, start=1)]


def test_survey_layers_import_outlines_then_grids_and_replace_a_community(reg: FakeUnitOfWork, tmp_path: Path) -> None:
    outlines(reg, tmp_path)
    known = known_geography(geo(reg))
    assert sorted(known.outlines) == [DISTRICT, STREET, WEST, EAST] and known.responsibility_codes == frozenset()
    summary = import_layer(write(tmp_path / "g.geojson", grid_features(WEST, "A") + grid_features(EAST)),
                           LayerKind.GRIDS, geo(reg))  # fmt: skip
    assert (summary.written, summary.communities, summary.skipped) == (8, (WEST, EAST), [])
    place = locate(X0 + 0.5 * D, Y0 + 1.5 * D, Crs.WGS84, load_locator(geo(reg)))
    assert (place.grid_code, place.area_class) == (f"{WEST}001", "A")
    merged = [feature(f"{WEST}001", box(X0, Y0, X0 + 2 * D, Y0 + 2 * D), area_class="C")]
    assert import_layer(write(tmp_path / "west.geojson", merged), LayerKind.GRIDS, geo(reg)).written == 1
    with reg:
        assert [(code, area) for code, _, area in reg.geo.grids()][:2] == [(f"{WEST}001", "C"), (f"{EAST}001", "B")]
        assert reg.geo.count_grids() == 5


def test_a_defective_grid_layer_writes_nothing(reg: FakeUnitOfWork, tmp_path: Path) -> None:
    outlines(reg, tmp_path)
    import_layer(write(tmp_path / "east.geojson", grid_features(EAST)), LayerKind.GRIDS, geo(reg))
    commits = reg.commits
    features = grid_features(WEST)
    features[1]["properties"]["responsibility_code"] = "410204001R99"  # no such responsibility grid
    with pytest.raises(ImportRejectedError) as exc:
        import_layer(write(tmp_path / "west.geojson", features), LayerKind.GRIDS, geo(reg))
    assert [(e.row, e.code) for e in exc.value.errors] == [(2, "layer.unknown_responsibility")]
    assert reg.commits == commits and reg.geo.count_grids() == 4
    summary = import_layer(write(tmp_path / "w.geojson", features), LayerKind.GRIDS, geo(reg), skip_invalid=True)
    assert summary.written == 0 and {e.code for e in summary.skipped} == {
        "layer.unknown_responsibility",
        "layer.community_skipped",
    }
    assert reg.geo.count_grids() == 4  # the community with a defective grid is skipped whole
