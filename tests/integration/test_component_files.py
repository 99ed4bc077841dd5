"""The component register exchanged as GeoPackage, GeoJSON and Shapefile, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely
from shapely.geometry import Point

from tests.integration.test_components import at, table_row, varied_components
from tests.unit.test_components import DEPT, make_component
from xiuhua.demo.sources import demo_sources
from xiuhua.geo.adapters.crs import to_metres
from xiuhua.geo.adapters.vector_files import read_layer, write_layer
from xiuhua.geo.domain.components import ComponentFilter, ComponentStatus
from xiuhua.geo.services import components as svc
from xiuhua.kernel.clock import FakeClock
from xiuhua.org.services import catalog
from xiuhua.platform.importing import ImportRejectedError
from xiuhua.unit_of_work import SqlUnitOfWork

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def reg(uow: SqlUnitOfWork) -> SqlUnitOfWork:
    catalog.import_classes(demo_sources(geometry=False).classes, uow)
    return uow


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
def test_export_then_import_round_trip_is_unchanged(reg: SqlUnitOfWork, tmp_path: Path, suffix: str) -> None:
    clock = FakeClock(T0)
    originals = varied_components()
    svc.import_components([table_row(i, c) for i, c in enumerate(originals, start=2)], reg, clock)
    path = tmp_path / f"components{suffix}"
    assert write_layer(path, svc.LAYER_COLUMNS, svc.export_component_layer(reg)) == 4
    layer = read_layer(path)
    assert [f.fid for f in layer.features] == [1, 2, 3, 4]
    assert list(layer.features[0].properties) == list(svc.LAYER_COLUMNS)
    clock.advance(days=1)
    report = svc.import_component_layer(layer, reg, clock)
    assert (report.added, report.changed, report.unchanged) == (0, 0, 4)
    for original in originals:
        stored = svc.get_component(reg, original.id)
        assert stored.same_record(original) and stored.version == 1


def test_filtered_export_holds_only_the_matching_components(reg: SqlUnitOfWork, tmp_path: Path) -> None:
    clock = FakeClock(T0)
    rows = [at(114.30, 34.80), at(114.31, 34.80, id="41020201001000002", status=ComponentStatus.DAMAGED)]
    svc.import_components([table_row(i, c) for i, c in enumerate(rows, start=2)], reg, clock)
    path = tmp_path / "damaged.gpkg"
    write_layer(
        path, svc.LAYER_COLUMNS, svc.export_component_layer(reg, ComponentFilter(status=ComponentStatus.DAMAGED))
    )
    [feature] = read_layer(path).features
    assert feature.properties["标识码"] == "41020201001000002" and feature.geometry == Point(114.31, 34.80)


def write_shapefile(path: Path, rows: list[dict[str, str]], points: list[tuple[float, float]]) -> Path:
    """Points given in lon/lat, written projected to EPSG:4547 with short (pinyin) field names."""
    x, y = to_metres(np.array([p[0] for p in points]), np.array([p[1] for p in points]))
    wkb = shapely.to_wkb(shapely.points(np.column_stack((x, y))))
    names = list(rows[0])
    data = [np.array([r[n] for r in rows], dtype=object) for n in names]
    pyogrio.raw.write(path, wkb, data, names, driver="ESRI Shapefile", geometry_type="Point", crs="EPSG:4547")
    return path


SHP_ROW = {
    "BSM": "41020201001000001",
    "BJMC": "供水井盖",
    "ZGBMDM": DEPT,
    "ZGBMMC": "开封市城市管理局",
    "DYWGBSM": "410202001009001",
    "ZT": "完好",
    "CSRQ": "2020-05-01",
}


def test_a_projected_shapefile_imports_in_lon_lat(reg: SqlUnitOfWork, tmp_path: Path) -> None:
    second = SHP_ROW | {"BSM": "41020201001000002", "ZT": "破损"}
    path = write_shapefile(tmp_path / "manholes.shp", [SHP_ROW, second], [(114.3455, 34.807), (114.35, 34.81)])
    report = svc.import_component_layer(read_layer(path), reg, FakeClock(T0))
    assert report.added == 2
    stored = svc.get_component(reg, "41020201001000002")
    assert stored.status is ComponentStatus.DAMAGED and stored.name == "供水井盖"
    # EPSG:4547 and back: within 1e-8° (about a millimetre)
    assert (stored.lon, stored.lat) == pytest.approx((114.35, 34.81), abs=1e-8)
    assert isinstance(stored.geometry, Point) and (stored.geometry.x, stored.geometry.y) == (stored.lon, stored.lat)


def test_a_defective_feature_rejects_the_shapefile_by_its_feature_number(reg: SqlUnitOfWork, tmp_path: Path) -> None:
    rows = [SHP_ROW, SHP_ROW | {"BSM": "41020201001000002", "ZT": "坏了"}, SHP_ROW | {"BSM": "41020201001000003"}]
    path = write_shapefile(tmp_path / "bad.shp", rows, [(114.30, 34.80), (114.31, 34.80), (114.32, 34.80)])
    with pytest.raises(ImportRejectedError) as info:
        svc.import_component_layer(read_layer(path), reg, FakeClock(T0))
    assert [(e.row, e.code) for e in info.value.errors] == [(2, "component.bad_status")]
    assert svc.find_components(reg, ComponentFilter(include_removed=True)) == []
    report = svc.import_component_layer(read_layer(path), reg, FakeClock(T0), skip_invalid=True)
    assert report.added == 2 and [e.row for e in report.skipped] == [2]


def test_history_lists_who_changed_which_field(reg: SqlUnitOfWork) -> None:
    clock = FakeClock(T0)
    v1 = svc.register_component(svc.RegisterComponent(make_component(), "clerk"), reg, clock)
    clock.advance(days=3)
    svc.remove_component(svc.RemoveComponent(v1.id, 1, "admin", remark="拆除"), reg, clock)
    first, second = svc.component_history(reg, v1.id)
    assert (first.changed_by, first.changes, first.valid_to) == ("clerk", (), second.valid_from)
    assert second.changed_by == "admin" and second.valid_to is None
    assert dict((f, (o, n)) for f, o, n in second.changes) == {
        "状态": ("完好", "移除"),
        "变更日期": ("", "2026-03-05"),
        "备注": ("", "拆除"),
    }
