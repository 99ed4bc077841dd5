"""Thematic layers on SQLite and PostgreSQL: the registry, GeoJSON by extent and vector tiles of a small city."""

from __future__ import annotations

import dataclasses
import importlib
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, shape

from xiuhua.demo.city import build_demo
from xiuhua.demo.sources import demo_sources
from xiuhua.geo.adapters import tiles
from xiuhua.geo.adapters.crs import Crs, from_wgs84
from xiuhua.geo.domain.components import ComponentFilter
from xiuhua.geo.domain.layers import Layer, SourceFilter, SourceKind
from xiuhua.geo.services import layers as svc
from xiuhua.kernel.errors import InvalidInputError, NotFoundError
from xiuhua.org.adapters import holidays
from xiuhua.org.services import calendar as calendar_service
from xiuhua.platform import packagedata
from xiuhua.platform.importing import ImportRejectedError
from xiuhua.platform.tabular import Row, read_table, write_table
from xiuhua.unit_of_work import SqlUnitOfWork

mvt: Any = importlib.import_module("mapbox_vector_tile")
STREETS = ("410204001", "410204002")  # two streets of 鼓楼区 keep the city small


def decode(data: bytes) -> dict[str, Any]:
    decoded: dict[str, Any] = mvt.decode(data, default_options={"y_coord_down": True})
    return decoded


def layer_codes(uow: SqlUnitOfWork) -> list[str]:
    return [x.code for x in svc.list_layers(uow)]


@pytest.fixture
def city(uow: SqlUnitOfWork) -> SqlUnitOfWork:
    """The demo city cut down to two streets (every district outline), its census, and the default layers."""
    sources = demo_sources(census_scale=0.5)
    wanted = [
        f for f in sources.geometry if len(f["properties"]["code"]) == 6 or f["properties"]["code"][:9] in STREETS
    ]
    summary = build_demo(
        dataclasses.replace(sources, geometry=wanted),
        uow,
        calendar_service.load_calendar(uow, holidays.statutory_days),
    )
    assert summary.grids > 150 and summary.components > 500
    svc.seed_default_layers(uow)
    return uow


def grids_and_components(uow: SqlUnitOfWork) -> tuple[list[tuple[str, Any, str]], list[Any]]:
    with uow:
        grids = uow.geo.grids()
        components = uow.components.find(ComponentFilter(limit=None))
    return grids, components


# ----- the registry ------------------------------------------------------------------------------
def test_seeding_adds_the_defaults_once_and_keeps_an_edited_layer(uow: SqlUnitOfWork) -> None:
    majors = sorted(
        {r.get("major_code") for r in packagedata.read(packagedata.DIRECTORY) if r.get("kind") == "component"}
    )
    assert svc.seed_default_layers(uow) == 5 + len(majors)
    codes = layer_codes(uow)
    assert codes[:5] == ["districts", "streets", "communities", "grids", "responsibility-grids"]
    assert codes[5:] == [f"components-{m}" for m in majors]
    edited = dataclasses.replace(svc.get_layer(uow, "grids"), name="网格（本市）", visible=False)
    svc.put_layer(edited, uow)
    assert svc.seed_default_layers(uow) == 0
    assert svc.get_layer(uow, "grids") == edited
    component_01 = svc.get_layer(uow, "components-01")
    assert component_01.source is SourceKind.COMPONENTS and component_01.source_filter == SourceFilter("01")


def test_put_get_remove_and_not_found(uow: SqlUnitOfWork) -> None:
    damaged = Layer(
        "components-damaged",
        "破损部件",
        "专项整治",
        SourceKind.COMPONENTS,
        SourceFilter.parse("status=破损,丢失"),
        {"circle-color": "#ff0000", "circle-radius": 4},
        sort_order=-1,
    )
    svc.put_layer(damaged, uow)
    svc.put_layer(Layer("districts", "区界", "行政区划", SourceKind.DISTRICTS), uow)
    assert svc.get_layer(uow, "components-damaged") == damaged
    assert layer_codes(uow) == ["components-damaged", "districts"]  # by sort order
    svc.remove_layer("components-damaged", uow)
    assert layer_codes(uow) == ["districts"]
    for call in (lambda: svc.remove_layer("components-damaged", uow), lambda: svc.get_layer(uow, "nope")):
        with pytest.raises(NotFoundError) as exc:
            call()
        assert exc.value.code == "layer.not_found"


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_import_round_trip(uow: SqlUnitOfWork, tmp_path: Path, suffix: str) -> None:
    svc.seed_default_layers(uow)
    before = svc.list_layers(uow)
    path = tmp_path / f"layers{suffix}"
    write_table(path, svc.LAYER_COLUMNS, svc.export_layers(uow))
    for x in before:
        svc.remove_layer(x.code, uow)
    report = svc.import_layers(read_table(path), uow)
    assert report.written == len(before) and report.skipped == []
    assert svc.list_layers(uow) == before


def test_a_bad_row_rejects_the_import_unless_skipped(uow: SqlUnitOfWork) -> None:
    def row(number: int, **values: str) -> Row:
        base = {"代码": "grids", "名称": "单元网格", "分类": "基础网格", "数据来源": "unit_grids", "样式": ""}
        return Row(number, base | values)

    rows = [
        row(2),
        row(3, 代码="bad code"),
        row(4, 代码="parks", 样式='{"fill-color": "green"}'),
        row(5, 代码="b", 最小级别="x"),
        row(6),
        row(7, 代码="c", 默认显示="也许"),
    ]
    with pytest.raises(ImportRejectedError) as exc:
        svc.import_layers(rows, uow)
    assert [(e.row, e.code) for e in exc.value.errors] == [
        (3, "layer.bad_code"),
        (4, "layer.bad_style"),
        (5, "layer.bad_zoom"),
        (6, "layer.duplicate"),
        (7, "layer.bad_visible"),
    ]
    assert layer_codes(uow) == []
    report = svc.import_layers(rows, uow, skip_invalid=True)
    assert report.written == 1 and len(report.skipped) == 5 and layer_codes(uow) == ["grids"]
    with pytest.raises(InvalidInputError) as missing:
        svc.import_layers([Row(2, {"code": "x", "name": "y"})], uow)
    assert missing.value.code == "table.missing_columns"


# ----- GeoJSON -----------------------------------------------------------------------------------
def test_geojson_of_grids_in_a_bbox_in_wgs84_and_gcj02(city: SqlUnitOfWork) -> None:
    grids, _ = grids_and_components(city)
    lons = [g.bounds[0] for _, g, _ in grids]
    lats = [g.bounds[1] for _, g, _ in grids]
    bbox = (float(np.median(lons)) - 0.004, float(np.median(lats)) - 0.003, float(np.median(lons)),
            float(np.median(lats)))  # fmt: skip
    expected = {code for code, g, _ in grids if g.intersects(shapely.box(*bbox))}
    assert 5 < len(expected) < 200

    wgs = svc.layer_geojson(city, "grids", bbox)
    assert wgs["type"] == "FeatureCollection" and wgs["crs"] == "wgs84"
    by_code = {f["properties"]["code"]: f for f in wgs["features"]}
    assert set(by_code) == expected
    stored = {code: (geom, area) for code, geom, area in grids}
    some = next(iter(by_code.values()))
    assert some["properties"]["area_class"] == stored[some["properties"]["code"]][1]
    assert some["properties"]["community_name"] and some["properties"]["responsibility_code"].endswith("R01")
    assert shape(some["geometry"]).equals_exact(stored[some["properties"]["code"]][0], 1e-7)

    gcj_lon, gcj_lat = from_wgs84(np.array(bbox[0::2]), np.array(bbox[1::2]), Crs.GCJ02)
    gcj_bbox = (gcj_lon[0], gcj_lat[0], gcj_lon[1], gcj_lat[1])  # the same place, as a GCJ-02 map names it
    gcj = svc.layer_geojson(city, "grids", gcj_bbox, Crs.GCJ02)
    assert gcj["crs"] == "gcj02"
    common = set(by_code) & {f["properties"]["code"] for f in gcj["features"]}
    assert len(common) >= 0.8 * len(expected)
    for f in gcj["features"]:
        code = f["properties"]["code"]
        if code not in common:
            continue
        got = np.array(shape(f["geometry"]).exterior.coords)
        wgs_ring = np.array(shape(by_code[code]["geometry"]).exterior.coords)
        lon, lat = from_wgs84(wgs_ring[:, 0], wgs_ring[:, 1], Crs.GCJ02)
        np.testing.assert_allclose(got, np.column_stack((lon, lat)), atol=2e-7)
        assert np.abs(got - wgs_ring).max() > 1e-4  # GCJ-02 is hundreds of metres off in China


def test_geojson_of_components_regions_and_responsibility_grids(city: SqlUnitOfWork) -> None:
    _, components = grids_and_components(city)
    lon = float(np.median([c.lon for c in components]))
    lat = float(np.median([c.lat for c in components]))
    bbox = (lon - 0.003, lat - 0.003, lon + 0.003, lat + 0.003)
    found = svc.layer_geojson(city, "components-01", bbox)["features"]
    expected = {
        c.id
        for c in components
        if c.class_code.startswith("01") and bbox[0] <= c.lon <= bbox[2] and bbox[1] <= c.lat <= bbox[3]
    }
    assert expected and {f["properties"]["id"] for f in found} == expected
    props = found[0]["properties"]
    assert set(props) >= {"id", "name", "class_code", "class_name", "status", "department_code", "department_name"}
    assert props["class_name"] and props["department_name"] and props["status"] in ("完好", "破损", "丢失")

    districts = svc.layer_geojson(city, "districts", bbox)["features"]
    assert [f["properties"]["code"] for f in districts] == ["410204"]
    assert districts[0]["properties"]["name"] == "鼓楼区" and districts[0]["properties"]["synthetic"] is True
    duty = svc.layer_geojson(city, "responsibility-grids", (113.0, 34.0, 115.0, 35.5))["features"]
    assert sorted(f["properties"]["code"] for f in duty) == [f"{s}R01" for s in STREETS]
    with city:
        street = {code: geom for code, geom in city.geo.region_shapes()}[STREETS[0]]
    whole = next(f for f in duty if f["properties"]["code"] == f"{STREETS[0]}R01")
    # The union of a street's unit grids is the street outline again (the grids tile it).
    assert abs(shape(whole["geometry"]).area - street.area) < 1e-3 * street.area


def test_an_extent_over_the_limit_asks_for_tiles(city: SqlUnitOfWork) -> None:
    with pytest.raises(InvalidInputError) as exc:
        svc.layer_geojson(city, "grids", (113.0, 34.0, 115.0, 35.5), limit=100)
    assert exc.value.code == "layer.extent_too_large" and exc.value.details["count"] > 100
    assert "/tiles/" in exc.value.message
    assert svc.layer_geojson(city, "grids", (10.0, 10.0, 10.1, 10.1))["features"] == []
    for bbox in ((1.0, 2.0, 0.5, 3.0), (0.0, 0.0, 200.0, 1.0), (0.0, 0.0, float("nan"), 1.0)):
        with pytest.raises(InvalidInputError) as bad:
            svc.layer_geojson(city, "grids", bbox)
        assert bad.value.code == "layer.bad_bbox"
    with pytest.raises(NotFoundError):
        svc.layer_geojson(city, "cameras", (113.0, 34.0, 115.0, 35.5))


# ----- tiles -------------------------------------------------------------------------------------
def test_a_grid_tile_holds_the_grids_of_its_extent_at_their_positions(city: SqlUnitOfWork) -> None:
    grids, _ = grids_and_components(city)
    z = 15
    (x, y), _ = Counter(tiles.tile_of(g.centroid.x, g.centroid.y, z) for _, g, _ in grids).most_common(1)[0]
    decoded = decode(svc.layer_tile(city, "grids", z, x, y))["grids"]
    by_code = {f["properties"]["code"]: f for f in decoded["features"]}
    area_of = {code: area for code, _, area in grids}
    tile_box = shapely.box(*tiles.tile_bounds(z, x, y))
    inside = {code for code, g, _ in grids if g.intersection(tile_box).area > 1e-9}
    assert inside and inside <= set(by_code)  # the buffer may add neighbours' edges
    whole = 0
    for code in inside:
        geom = next(g for c, g, _ in grids if c == code)
        assert by_code[code]["properties"]["area_class"] == area_of[code]
        if geom.within(tile_box):  # not clipped: the drawn centre is the grid's centre, to a tile unit or two
            px, py = tiles.to_tile_units(geom.centroid.x, geom.centroid.y, z, x, y)
            drawn = shapely.Polygon(by_code[code]["geometry"]["coordinates"][0])
            assert drawn.centroid.distance(Point(px, py)) < 2
            whole += 1
    assert whole > 0


def test_component_tiles_show_points_up_close_and_clusters_further_out(city: SqlUnitOfWork) -> None:
    _, components = grids_and_components(city)
    ones = [c for c in components if c.class_code.startswith("01")]
    probe = ones[len(ones) // 2]
    z = 15
    x, y = tiles.tile_of(probe.lon, probe.lat, z)
    near = decode(svc.layer_tile(city, "components-01", z, x, y))["components-01"]["features"]
    by_id = {f["properties"]["id"]: f for f in near}
    px, py = tiles.to_tile_units(probe.lon, probe.lat, z, x, y)
    assert by_id[probe.id]["geometry"]["coordinates"] == [round(px), round(py)]
    assert all(f["properties"]["class_code"].startswith("01") for f in near)

    z = 11
    x, y = tiles.tile_of(probe.lon, probe.lat, z)
    west, south, east, north = tiles.tile_bounds(z, x, y)
    far = decode(svc.layer_tile(city, "components-01", z, x, y))["components-01"]["features"]
    in_tile = [c for c in ones if west <= c.lon < east and south < c.lat <= north]
    assert all(f["properties"]["cluster"] for f in far)
    assert sum(f["properties"]["count"] for f in far) == len(in_tile) and len(far) < len(in_tile)


def test_region_and_responsibility_tiles(city: SqlUnitOfWork) -> None:
    x, y = tiles.tile_of(114.35, 34.79, 12)
    districts = decode(svc.layer_tile(city, "districts", 12, x, y))["districts"]["features"]
    assert "410204" in {f["properties"]["code"] for f in districts}
    with city:
        street = {code: geom for code, geom in city.geo.region_shapes()}[STREETS[0]]
    x, y = tiles.tile_of(street.centroid.x, street.centroid.y, 13)
    duty = decode(svc.layer_tile(city, "responsibility-grids", 13, x, y))["responsibility-grids"]["features"]
    assert f"{STREETS[0]}R01" in {f["properties"]["code"] for f in duty}


def test_empty_out_of_range_and_unknown_tiles(city: SqlUnitOfWork) -> None:
    assert svc.layer_tile(city, "grids", 15, 0, 0) == b""  # nothing of the city up there
    x, y = tiles.tile_of(114.35, 34.79, 8)
    assert svc.layer_tile(city, "grids", 8, x, y) == b""  # below the layer's min zoom
    for z, tx, ty in ((23, 0, 0), (3, 8, 0), (3, 0, -1), (-1, 0, 0)):
        with pytest.raises(InvalidInputError) as exc:
            svc.layer_tile(city, "grids", z, tx, ty)
        assert exc.value.code == "layer.bad_tile"
    with pytest.raises(NotFoundError) as missing:
        svc.layer_tile(city, "cameras", 12, x, y)
    assert missing.value.code == "layer.not_found"
