"""Layers: definitions and their validation, Web Mercator tile maths, and MVT encoding of features."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon, box

from xiuhua.geo.adapters import tiles
from xiuhua.geo.domain.components import ComponentStatus
from xiuhua.geo.domain.layers import Layer, SourceFilter, SourceKind, maplibre_paint, parse_style, validate_style
from xiuhua.kernel.errors import InvalidInputError

mvt: Any = importlib.import_module("mapbox_vector_tile")

AREA_COLOURS = {"property": "area_class", "match": {"A": "#e31a1c", "B": "#ff7f00"}, "default": "#999999"}


def make_layer(**overrides: Any) -> Layer:
    values: dict[str, Any] = {
        "code": "grids",
        "name": "单元网格",
        "category": "基础网格",
        "source": SourceKind.UNIT_GRIDS,
        "style": {"fill-color": AREA_COLOURS, "fill-opacity": 0.25, "line-width": 0.5},
        "min_zoom": 12,
    }
    return Layer(**(values | overrides))


def decode(data: bytes) -> dict[str, Any]:
    decoded: dict[str, Any] = mvt.decode(data, default_options={"y_coord_down": True})
    return decoded


# ----- definitions -------------------------------------------------------------------------------
def test_a_valid_layer_keeps_its_style_and_paints_a_match_expression() -> None:
    layer = make_layer()
    assert layer.shows_at(12) and not layer.shows_at(11)
    assert layer.paint()["fill-color"] == [
        "match",
        ["to-string", ["get", "area_class"]],
        "A",
        "#e31a1c",
        "B",
        "#ff7f00",
        "#999999",
    ]
    assert maplibre_paint({"line-color": "#123abc"}) == {"line-color": "#123abc"}


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"code": "Grids"}, "layer.bad_code"),
        ({"code": "grids_2"}, "layer.bad_code"),
        ({"code": "a" * 41}, "layer.bad_code"),
        ({"name": " "}, "layer.bad_name"),
        ({"category": ""}, "layer.bad_category"),
        ({"style": {"fill-colour": "#ffffff"}}, "layer.bad_style"),
        ({"style": {"line-color": "red"}}, "layer.bad_style"),
        ({"style": {"line-color": "#fff"}}, "layer.bad_style"),
        ({"style": {"fill-opacity": 1.5}}, "layer.bad_style"),
        ({"style": {"line-width": "2"}}, "layer.bad_style"),
        ({"style": {"line-width": True}}, "layer.bad_style"),
        ({"style": {"fill-color": AREA_COLOURS | {"default": "grey"}}}, "layer.bad_style"),
        ({"style": {"fill-color": {"property": "area_class", "match": {}, "default": "#999999"}}}, "layer.bad_style"),
        ({"style": {"fill-color": {"property": "area_class"}}}, "layer.bad_style"),
        ({"min_zoom": 23}, "layer.bad_zoom"),
        ({"min_zoom": 14, "max_zoom": 13}, "layer.bad_zoom"),
        ({"geojson_min_zoom": -1}, "layer.bad_zoom"),
        ({"sort_order": 1.5}, "layer.bad_sort_order"),
        ({"source_filter": SourceFilter(class_prefix="01")}, "layer.bad_filter"),
        ({"source": SourceKind.COMPONENTS, "source_filter": SourceFilter(area_classes=("A",))}, "layer.bad_filter"),
    ],
)
def test_bad_definitions_are_rejected_with_a_layer_code(overrides: dict[str, Any], code: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        make_layer(**overrides)
    assert exc.value.code == code


def test_filters_parse_and_print_back() -> None:
    where = SourceFilter.parse("class=01; status=破损，丢失")
    assert where == SourceFilter("01", (ComponentStatus.DAMAGED, ComponentStatus.MISSING))
    assert SourceFilter.parse(where.text()) == where
    assert SourceFilter.parse("area_class=a,B").area_classes == ("A", "B")
    assert SourceFilter.parse("").empty and SourceFilter().text() == ""
    for bad in ("class=1", "colour=red", "class=01;class=02", "status=坏了", "area_class=D", "class"):
        with pytest.raises(InvalidInputError) as exc:
            SourceFilter.parse(bad)
        assert exc.value.code == "layer.bad_filter", bad


def test_sources_and_styles_parse_or_say_why() -> None:
    assert SourceKind.parse(" Unit_Grids ") is SourceKind.UNIT_GRIDS
    assert SourceKind.DISTRICTS.region_code_length == 6 and SourceKind.COMPONENTS.region_code_length is None
    with pytest.raises(InvalidInputError) as exc:
        SourceKind.parse("cameras")
    assert exc.value.code == "layer.bad_source"
    assert parse_style('{"circle-radius": 3}') == {"circle-radius": 3} and parse_style("") == {}
    for bad in ("{", "[1]", '{"circle-radius": 99}'):
        with pytest.raises(InvalidInputError) as exc:
            parse_style(bad)
        assert exc.value.code == "layer.bad_style", bad
    style = {"fill-color": AREA_COLOURS}
    copied = validate_style(style)
    copied["fill-color"]["match"]["A"] = "#000000"
    assert style["fill-color"]["match"]["A"] == "#e31a1c"  # the layer holds its own copy


# ----- tile maths --------------------------------------------------------------------------------
def test_world_coordinates_match_epsg_3857() -> None:
    to_3857 = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    half = 20037508.342789244
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(-179, 179, 500), rng.uniform(-85, 85, 500)
    mx, my = to_3857.transform(lon, lat)
    wx, wy = tiles.lonlat_to_world(lon, lat)
    np.testing.assert_allclose(wx, (mx + half) / (2 * half), atol=1e-12)
    np.testing.assert_allclose(wy, (half - my) / (2 * half), atol=1e-12)
    back_lon, back_lat = tiles.world_to_lonlat(wx, wy)
    np.testing.assert_allclose(back_lon, lon, atol=1e-9)
    np.testing.assert_allclose(back_lat, lat, atol=1e-9)


def test_lonlat_to_tile_to_pixel_and_back() -> None:
    assert tiles.tile_of(0.0, 0.0, 0) == (0, 0)
    assert tiles.tile_of(0.001, -0.001, 1) == (1, 1)
    assert tiles.tile_of(-180.0, 85.06, 3) == (0, 0) and tiles.tile_of(180.0, -85.06, 3) == (7, 7)
    lon, lat, z = 114.3488, 34.7972, 15  # 开封鼓楼
    x, y = tiles.tile_of(lon, lat, z)
    assert (x, y) == (26792, 13001)  # floor(2^15 · world x), floor(2^15 · world y)
    px, py = tiles.to_tile_units(lon, lat, z, x, y)
    assert 0 <= px < tiles.EXTENT and 0 <= py < tiles.EXTENT
    back = tiles.from_tile_units(px, py, z, x, y)
    assert back == pytest.approx((lon, lat), abs=1e-12)
    west, south, east, north = tiles.tile_bounds(z, x, y)
    assert west <= lon < east and south < lat <= north
    assert tiles.to_tile_units(west, north, z, x, y) == pytest.approx((0, 0), abs=1e-6)
    assert tiles.to_tile_units(east, south, z, x, y) == pytest.approx((tiles.EXTENT, tiles.EXTENT), abs=1e-6)
    grown = tiles.tile_bounds(z, x, y, tiles.BUFFER)
    assert tiles.to_tile_units(grown[0], grown[3], z, x, y) == pytest.approx((-tiles.BUFFER, -tiles.BUFFER), abs=1e-6)
    assert tiles.valid_tile(z, x, y, 22) and not tiles.valid_tile(z, 1 << z, y, 22)
    assert not tiles.valid_tile(23, 0, 0, 22) and not tiles.valid_tile(2, -1, 0, 22)


# ----- vector tiles ------------------------------------------------------------------------------
Z, X, Y = 15, 26792, 13001


def lonlat_at(px: float, py: float) -> tuple[float, float]:
    lon, lat = tiles.from_tile_units(px, py, Z, X, Y)
    return float(lon), float(lat)


def test_features_land_at_their_tile_positions() -> None:
    point = Point(lonlat_at(1000, 3000))
    line = LineString([lonlat_at(100, 100), lonlat_at(2000, 100), lonlat_at(2000, 900)])
    square = Polygon([lonlat_at(500, 500), lonlat_at(1500, 500), lonlat_at(1500, 1500), lonlat_at(500, 1500)])
    far = Point(lonlat_at(9000, 9000))  # in another tile
    props = [{"code": "p", "n": 1}, {"code": "l"}, {"code": "s", "note": None}, {"code": "far"}]
    features = tiles.shape_features([point, line, square, far], props, Z, X, Y)
    decoded = decode(tiles.encode({"grids": features}))
    assert decoded["grids"]["extent"] == tiles.EXTENT
    by_code = {f["properties"]["code"]: f for f in decoded["grids"]["features"]}
    assert set(by_code) == {"p", "l", "s"}
    assert by_code["p"]["geometry"] == {"type": "Point", "coordinates": [1000, 3000]}
    assert by_code["p"]["properties"] == {"code": "p", "n": 1}
    assert by_code["l"]["geometry"]["coordinates"] == [[100, 100], [2000, 100], [2000, 900]]
    assert by_code["s"]["properties"] == {"code": "s"}  # empty values are left out
    ring = by_code["s"]["geometry"]["coordinates"][0]
    assert Polygon(ring).equals(box(500, 500, 1500, 1500))
    # The exterior ring runs clockwise on screen (y down), as the MVT specification requires.
    assert shapely.is_ccw(shapely.LinearRing(ring))  # ccw in y-up maths = cw on a y-down screen


def test_our_ring_orientation_matches_the_encoders_own_check() -> None:
    clockwise = Polygon([lonlat_at(100, 100), lonlat_at(100, 900), lonlat_at(900, 900), lonlat_at(900, 100)])
    holed = Polygon(
        [lonlat_at(0, 0), lonlat_at(0, 2000), lonlat_at(2000, 2000), lonlat_at(2000, 0)],
        [[lonlat_at(500, 500), lonlat_at(1500, 500), lonlat_at(1500, 1500), lonlat_at(500, 1500)]],
    )
    ours = tiles.shape_features([clockwise, holed], [{"i": 0}, {"i": 1}], Z, X, Y)
    checked = mvt.encode(
        [
            {
                "name": "x",
                "features": [
                    {"geometry": g, "properties": p} for g, p in zip(ours.geometries, ours.properties, strict=True)
                ],
            }
        ],
        default_options={"extents": tiles.EXTENT, "y_coord_down": True, "check_winding_order": True},
    )
    assert decode(tiles.encode({"x": ours})) == decode(checked)


def test_features_are_clipped_to_the_tile_and_its_buffer() -> None:
    big = Polygon([lonlat_at(-5000, -5000), lonlat_at(9000, -5000), lonlat_at(9000, 9000), lonlat_at(-5000, 9000)])
    [feature] = decode(tiles.encode({"x": tiles.shape_features([big], [{}], Z, X, Y)}))["x"]["features"]
    xs = [x for x, _ in feature["geometry"]["coordinates"][0]]
    assert min(xs) == -tiles.BUFFER and max(xs) == tiles.EXTENT + tiles.BUFFER


def test_empty_tiles_are_empty_bytes() -> None:
    assert tiles.encode({}) == b""
    nothing = tiles.shape_features([], [], Z, X, Y)
    assert tiles.encode({"grids": nothing}) == b"" and decode(b"") == {}
    outside = tiles.shape_features([Point(lonlat_at(-3000, 100))], [{}], Z, X, Y)
    assert len(outside.geometries) == 0
    sliver = Polygon([lonlat_at(10, 10), lonlat_at(10.2, 10), lonlat_at(10.2, 10.2)])  # under one tile unit
    assert len(tiles.shape_features([sliver], [{}], Z, X, Y).geometries) == 0
    assert len(tiles.cluster_points(np.empty(0), np.empty(0), Z, X, Y).geometries) == 0


def test_a_z10_tile_of_a_city_of_points_is_clustered_and_small() -> None:
    """124,000 points over the city in one z10 tile: at most (4096/64)² cluster features, under 100 KB."""
    z = 10
    x, y = tiles.tile_of(114.35, 34.80, z)
    west, south, east, north = tiles.tile_bounds(z, x, y)
    rng = np.random.default_rng(7)
    lon = rng.uniform(114.28, 114.44, 124_000)
    lat = rng.uniform(34.74, 34.86, 124_000)
    inside = (lon >= west) & (lon < east) & (lat > south) & (lat <= north)
    clusters = tiles.cluster_points(lon, lat, z, x, y)
    assert len(clusters.geometries) <= (tiles.EXTENT // tiles.CLUSTER_CELL) ** 2
    assert sum(p["count"] for p in clusters.properties) == int(inside.sum())
    data = tiles.encode({"components": clusters})
    assert len(data) < 100_000
    features = decode(data)["components"]["features"]
    assert len(features) == len(clusters.geometries) and all(f["properties"]["cluster"] for f in features)
    for f in features:  # each cluster sits inside the tile, within its cell's bounds
        px, py = f["geometry"]["coordinates"]
        assert 0 <= px <= tiles.EXTENT and 0 <= py <= tiles.EXTENT
