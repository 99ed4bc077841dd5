"""Survey layers (GeoJSON, Shapefile in EPSG:4547, GeoPackage) checked and imported on SQLite and PostgreSQL."""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
import pytest
import shapely
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from xiuhua.geo.adapters.crs import Crs, from_wgs84, to_metres
from xiuhua.geo.services.geography import load_locator, locate
from xiuhua.geo.services.survey import LayerKind, import_layer
from xiuhua.kernel.errors import InvalidInputError
from xiuhua.org.services import structure as org
from xiuhua.platform.importing import ImportRejectedError
from xiuhua.platform.tabular import Row
from xiuhua.unit_of_work import SqlUnitOfWork

CITY, DISTRICT, STREET = "410200", "410204", "410204001"
WEST, EAST = "410204001001", "410204001002"
D = 0.001  # a grid is 0.001° square, about 91 m × 111 m
X0, Y0 = 114.300, 34.790


def cell(col: int, row: int) -> Polygon:
    return box(X0 + col * D, Y0 + row * D, X0 + (col + 1) * D, Y0 + (row + 1) * D)


def community_outline(code: str) -> Polygon:
    col = 0 if code == WEST else 2
    return box(X0 + col * D, Y0, X0 + (col + 2) * D, Y0 + 2 * D)


def grid_features(code: str) -> list[tuple[dict[str, Any], BaseGeometry]]:
    """Four grids (2 × 2) tiling the community, numbered north-west first."""
    col0 = 0 if code == WEST else 2
    cells = [(col0, 1), (col0 + 1, 1), (col0, 0), (col0 + 1, 0)]
    return [({"code": f"{code}{n:03d}"}, cell(c, r)) for n, (c, r) in enumerate(cells, start=1)]


def write(path: Path, features: Sequence[tuple[dict[str, Any], BaseGeometry]], crs: str | None = "EPSG:4326") -> Path:
    """Write features (WGS84 geometry) with pyogrio; EPSG:4547 projects them to metres first."""
    geoms = np.array([g for _, g in features], dtype=object)
    if crs == "EPSG:4547":
        geoms = shapely.transform(geoms, lambda xy: np.column_stack(to_metres(xy[:, 0], xy[:, 1])))
    names = sorted({k for props, _ in features for k in props})
    data = [np.array([props.get(k) for props, _ in features], dtype=object) for k in names]
    driver = {".geojson": "GeoJSON", ".shp": "ESRI Shapefile", ".gpkg": "GPKG"}[path.suffix]
    kind = "Polygon" if driver == "ESRI Shapefile" else "Unknown"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the warning that a file declares no CRS: wanted here
        pyogrio.raw.write(path, shapely.to_wkb(geoms), data, names, driver=driver, geometry_type=kind, crs=crs)
    return path


@pytest.fixture
def city(uow: SqlUnitOfWork, tmp_path: Path) -> SqlUnitOfWork:
    """Regions in the table, and their outlines imported from three formats."""
    regions = [
        (CITY, "开封市", "city", ""),
        (DISTRICT, "鼓楼区", "district", CITY),
        (STREET, "相国寺街道", "street", DISTRICT),
        (WEST, "西社区", "community", STREET),
        (EAST, "东社区", "community", STREET),
        ("410204001003", "无界社区", "community", STREET),
    ]
    org.import_regions(
        [Row(i, dict(zip(org.REGION_COLUMNS, r, strict=False))) for i, r in enumerate(regions, start=2)], uow
    )
    district = write(tmp_path / "districts.geojson", [({"code": DISTRICT}, box(114.29, 34.78, 114.32, 34.80))])
    street = write(tmp_path / "streets.gpkg", [({"code": STREET}, box(X0, Y0, X0 + 4 * D, Y0 + 2 * D))])
    communities = write(
        tmp_path / "communities.shp",
        [({"code": code}, community_outline(code)) for code in (WEST, EAST)],
        crs="EPSG:4547",
    )
    assert import_layer(district, LayerKind.DISTRICTS, uow).written == 1
    assert import_layer(street, LayerKind.STREETS, uow).written == 1
    summary = import_layer(communities, LayerKind.COMMUNITIES, uow)
    assert (summary.written, summary.source_crs) == (2, "EPSG:4547")
    return uow


def stored(uow: SqlUnitOfWork) -> tuple[int, list[str]]:
    with uow:
        return uow.geo.count_grids(), [code for code, _ in uow.geo.region_shapes()]


def rejected(path: Path, kind: LayerKind, uow: SqlUnitOfWork, **kw: Any) -> list[tuple[int, str, str]]:
    before = stored(uow)
    with pytest.raises(ImportRejectedError) as info:
        import_layer(path, kind, uow, **kw)
    assert stored(uow) == before  # nothing written
    return [(e.row, e.code, e.message) for e in info.value.errors]


def test_region_outlines_are_stored_reprojected_from_epsg_4547(city: SqlUnitOfWork) -> None:
    with city:
        shapes = dict(city.geo.region_shapes())
    assert sorted(shapes) == sorted([DISTRICT, STREET, WEST, EAST])
    # EPSG:4547 → lon/lat brings the corners back to within a millimetre (1e-8° ≈ 1 mm)
    assert shapely.equals_exact(shapely.normalize(shapes[WEST]), shapely.normalize(community_outline(WEST)), 1e-8)


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp"])
def test_grids_import_and_a_point_is_located_in_them(city: SqlUnitOfWork, tmp_path: Path, suffix: str) -> None:
    features = grid_features(WEST) + grid_features(EAST)
    features[0][0].update(area_class="a")
    path = write(tmp_path / f"grids{suffix}", features, crs="EPSG:4547" if suffix == ".shp" else "EPSG:4326")
    summary = import_layer(path, LayerKind.GRIDS, city)
    assert (summary.written, summary.communities, summary.skipped) == (8, (WEST, EAST), [])
    place = locate(X0 + 0.5 * D, Y0 + 0.5 * D, Crs.WGS84, load_locator(city))  # the south-west cell
    assert (place.grid_code, place.community_code, place.street_code) == (f"{WEST}003", WEST, STREET)
    place = locate(X0 + 0.5 * D, Y0 + 1.5 * D, Crs.WGS84, load_locator(city))
    assert (place.grid_code, place.area_class) == (f"{WEST}001", "A")
    with city:
        row = city.connection.exec_driver_sql(
            f"select area_m2, area_class from unit_grids where code = '{EAST}004'"
        ).one()
    assert row[0] == pytest.approx(91.4 * 111.0, rel=0.01) and row[1] in ("A", "B", "C")


def test_a_zipped_shapefile_imports(city: SqlUnitOfWork, tmp_path: Path) -> None:
    write(tmp_path / "grids.shp", grid_features(EAST), crs="EPSG:4547")
    archive = tmp_path / "grids.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in ("shp", "shx", "dbf", "prj"):
            z.write(tmp_path / f"grids.{part}", f"grids.{part}")
    summary = import_layer(archive, LayerKind.GRIDS, city)
    assert (summary.written, summary.source_crs, summary.communities) == (4, "EPSG:4547", (EAST,))


def test_reimport_replaces_the_grids_of_the_communities_in_the_file(city: SqlUnitOfWork, tmp_path: Path) -> None:
    import_layer(write(tmp_path / "all.geojson", grid_features(WEST) + grid_features(EAST)), LayerKind.GRIDS, city)
    merged = [({"code": f"{WEST}001"}, community_outline(WEST))]  # the west community as one grid
    assert import_layer(write(tmp_path / "west.geojson", merged), LayerKind.GRIDS, city).written == 1
    with city:
        codes = [code for code, _, _ in city.geo.grids()]
    assert codes == [f"{WEST}001", *(f"{EAST}{n:03d}" for n in range(1, 5))]


def test_gcj02_declared_by_the_user(city: SqlUnitOfWork, tmp_path: Path) -> None:
    shifted = [
        (props, shapely.transform(g, lambda xy: np.column_stack(from_wgs84(xy[:, 0], xy[:, 1], Crs.GCJ02))))
        for props, g in grid_features(WEST)
    ]
    path = write(tmp_path / "gcj.geojson", shifted)
    assert rejected(path, LayerKind.GRIDS, city)  # read as WGS84 they lie hundreds of metres off
    summary = import_layer(path, LayerKind.GRIDS, city, crs="gcj02")
    assert (summary.written, summary.source_crs) == (4, "gcj02")


# ----- one test per defect -----------------------------------------------------------------------
def bowtie() -> Polygon:
    return Polygon([(X0, Y0 + D), (X0 + D, Y0 + 2 * D), (X0 + D, Y0 + D), (X0, Y0 + 2 * D)])


@pytest.mark.parametrize(
    ("change", "fid", "code", "words"),
    [
        pytest.param(lambda f: f.__setitem__(0, (f[0][0], bowtie())), 1, "layer.invalid_geometry",
                     "自相交", id="self-intersecting"),
        pytest.param(lambda f: f.__setitem__(1, (f[1][0], cell(0, 1).union(cell(1, 1)))), 2, "layer.overlap",
                     f"与要素 1（{WEST}001）重叠", id="overlap"),
        pytest.param(lambda f: f.pop(3), 1, "layer.gap", f"社区 {WEST} 有", id="gap"),
        pytest.param(lambda f: f.__setitem__(1, (f[1][0], box(X0 + D, Y0 + D, X0 + 2.2 * D, Y0 + 2 * D))), 2,
                     "layer.outside_community", f"在社区 {WEST} 之外", id="crossing the boundary"),
        pytest.param(lambda f: f[1][0].update(code=f"{WEST}001"), 2, "layer.duplicate_code", "与要素 1 重复",
                     id="duplicate code"),
        pytest.param(lambda f: f[1][0].update(code="41020400100102"), 2, "layer.bad_code", "15 位数字",
                     id="malformed code"),
        pytest.param(lambda f: f[1][0].update(code="410204001009002"), 2, "layer.unknown_community", "410204001009",
                     id="unknown community"),
        pytest.param(lambda f: f[1][0].update(area_class="D"), 2, "layer.bad_area_class", "应为 A、B 或 C",
                     id="bad area class"),
        pytest.param(lambda f: f[1][0].update(responsibility_code="410204001R99"), 2,
                     "layer.unknown_responsibility", "未登记", id="unknown responsibility grid"),
        pytest.param(lambda f: f[1][0].pop("code"), 2, "layer.no_code", "缺少代码", id="missing code"),
    ],
)  # fmt: skip
def test_a_defective_grid_rejects_the_layer_naming_the_feature(
    city: SqlUnitOfWork, tmp_path: Path, change: Any, fid: int, code: str, words: str
) -> None:
    features = grid_features(WEST)
    change(features)
    errors = rejected(write(tmp_path / "grids.geojson", features), LayerKind.GRIDS, city)
    matching = [(row, message) for row, c, message in errors if c == code]
    assert matching and matching[0][0] == fid, errors
    assert words in matching[0][1], errors
    assert code == "layer.gap" or f"要素 {fid}" in matching[0][1]


def test_skip_invalid_writes_the_sound_communities_and_lists_the_rest(city: SqlUnitOfWork, tmp_path: Path) -> None:
    features = grid_features(WEST) + grid_features(EAST)
    features[1] = (features[1][0], bowtie())
    summary = import_layer(write(tmp_path / "g.gpkg", features), LayerKind.GRIDS, city, skip_invalid=True)
    assert (summary.written, summary.communities) == (4, (EAST,))
    assert [(e.row, e.code) for e in summary.skipped] == [
        (1, "layer.community_skipped"),
        (2, "layer.invalid_geometry"),
        (3, "layer.community_skipped"),
        (4, "layer.community_skipped"),
    ]
    with city:
        assert sorted(code[:12] for code, _, _ in city.geo.grids()) == [EAST] * 4


def test_overlapping_communities_and_unknown_regions_are_rejected(city: SqlUnitOfWork, tmp_path: Path) -> None:
    features = [
        ({"code": WEST}, community_outline(WEST)),
        ({"code": EAST}, box(X0 + 1.5 * D, Y0, X0 + 4 * D, Y0 + 2 * D)),
        ({"code": "410204001099"}, community_outline(EAST)),
        ({"code": "410204002001"}, community_outline(EAST)),
    ]
    errors = rejected(write(tmp_path / "c.geojson", features), LayerKind.COMMUNITIES, city)
    assert [(row, code) for row, code, _ in errors] == [
        (2, "layer.overlap"),
        (3, "layer.unknown_region"),
        (4, "layer.unknown_parent"),
    ]
    assert f"要素 2（{EAST}）与要素 1（{WEST}）重叠" in errors[0][2]


def test_a_community_outside_its_street_is_rejected(city: SqlUnitOfWork, tmp_path: Path) -> None:
    outside = [({"code": "410204001003"}, box(X0 + 4 * D, Y0, X0 + 5 * D, Y0 + D))]
    errors = rejected(write(tmp_path / "c.gpkg", outside), LayerKind.COMMUNITIES, city)
    assert [(row, code) for row, code, _ in errors] == [(1, "layer.outside_parent")]
    assert f"在上级区划 {STREET} 之外" in errors[0][2]


def test_a_file_without_a_crs_needs_one_named(city: SqlUnitOfWork, tmp_path: Path) -> None:
    path = write(tmp_path / "grids.shp", grid_features(WEST), crs=None)
    with pytest.raises(InvalidInputError) as info:
        import_layer(path, LayerKind.GRIDS, city)
    assert info.value.code == "layer.no_crs" and stored(city)[0] == 0
    assert import_layer(path, LayerKind.GRIDS, city, crs="EPSG:4326").written == 4


def test_metres_read_as_degrees_are_out_of_range(city: SqlUnitOfWork, tmp_path: Path) -> None:
    path = write(tmp_path / "grids.shp", grid_features(WEST), crs="EPSG:4547")
    errors = rejected(path, LayerKind.GRIDS, city, crs="wgs84")  # the wrong CRS named by hand
    assert [(row, code) for row, code, _ in errors] == [(n, "layer.bad_coordinates") for n in range(1, 5)]


@pytest.mark.parametrize(("name", "content", "code"), [
    ("broken.gpkg", b"not a geopackage", "layer.unreadable"),
    ("broken.geojson", b'{"type": "FeatureCollection", "features": [', "layer.unreadable"),
    ("grids.kml", b"", "layer.bad_format"),
])  # fmt: skip
def test_an_unreadable_file_is_an_invalid_input(
    city: SqlUnitOfWork, tmp_path: Path, name: str, content: bytes, code: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InvalidInputError) as info:
        import_layer(path, LayerKind.GRIDS, city)
    assert info.value.code == code and stored(city)[0] == 0
