"""Unit grids generated from community outlines, and locating points on them."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from xiuhua.geo.adapters.grids import DLAT, DLON, ORIGIN, Lattice, area_m2, generate_grids
from xiuhua.geo.adapters.locator import Locator
from xiuhua.geo.domain.geography import grid_code, validate_grid_code
from xiuhua.kernel.errors import InvalidInputError

X0, Y0 = ORIGIN[0] + 300 * DLON, ORIGIN[1] + 300 * DLAT  # on the lattice
EAST = box(X0, Y0, X0 + 4 * DLON, Y0 + 3 * DLAT)  # exactly 4 × 3 cells
WEST = box(X0 - 2.5 * DLON, Y0, X0, Y0 + 3 * DLAT)  # 2.5 cells wide: a column of half cells


def test_codes_are_community_plus_serial() -> None:
    assert grid_code("410204001003", 7) == "410204001003007"
    assert validate_grid_code("410204001003007") == "410204001003007"
    for bad in ("41020400100300", "410204001003000", "41020400100300A"):
        with pytest.raises(InvalidInputError):
            validate_grid_code(bad)
    with pytest.raises(InvalidInputError) as info:
        grid_code("410204001003", 1000)
    assert info.value.code == "grid.too_many"


def test_grids_tile_the_community_numbered_west_to_east_north_to_south() -> None:
    grids = generate_grids([("410204001003", EAST)])
    assert [g.code[-3:] for g in grids] == [f"{i:03d}" for i in range(1, 13)]
    assert all(g.code.startswith("410204001003") for g in grids)
    centroids = [g.geometry.centroid for g in grids]
    # First row (north) first, west to east within a row.
    assert centroids[0].y > centroids[4].y > centroids[8].y
    assert centroids[0].x < centroids[1].x < centroids[2].x < centroids[3].x
    union = shapely.union_all([g.geometry for g in grids])
    assert shapely.symmetric_difference(union, EAST).area < 1e-12
    assert 9_000 < grids[0].area_m2 < 11_500  # about 100 m × 100 m
    assert abs(sum(g.area_m2 for g in grids) - area_m2(EAST)) < 1.0


def test_slivers_join_a_neighbour_in_the_same_community() -> None:
    thin = box(X0, Y0, X0 + 2.1 * DLON, Y0 + DLAT)  # two cells and a 10 % sliver
    grids = generate_grids([("410204001004", thin)])
    assert len(grids) == 2
    assert shapely.symmetric_difference(shapely.union_all([g.geometry for g in grids]), thin).area < 1e-12


def test_a_community_too_large_for_three_digits_is_refused() -> None:
    huge = box(X0, Y0, X0 + 40 * DLON, Y0 + 30 * DLAT)  # 1,200 cells
    with pytest.raises(InvalidInputError) as info:
        generate_grids([("410204001005", huge)])
    assert info.value.code == "grid.too_many"


def test_lattice_cell_range() -> None:
    cols, rows = Lattice().cell_range(EAST.bounds)
    assert (cols.start, rows.start) == (300, 300)


@pytest.fixture(scope="module")
def locator() -> Locator:
    district = box(X0 - 2.5 * DLON, Y0, X0 + 4 * DLON, Y0 + 3 * DLAT)
    regions = [
        ("410204", district),
        ("410204001", district),
        ("410204001003", EAST),
        ("410204001004", WEST),
    ]
    grids = [(g.code, g.geometry, "A") for g in generate_grids([("410204001003", EAST), ("410204001004", WEST)])]
    names = {"410204": "鼓楼区", "410204001": "某街道", "410204001003": "东社区", "410204001004": "西社区"}
    levels = {"410204": "district", "410204001": "street", "410204001003": "community", "410204001004": "community"}
    return Locator(regions, grids, names, levels)


def test_locate_names_all_four_levels(locator: Locator) -> None:
    place = locator.locate(X0 + 0.5 * DLON, Y0 + 2.5 * DLAT)
    assert (place.district_name, place.street_name, place.community_name) == ("鼓楼区", "某街道", "东社区")
    assert place.grid_code == "410204001003001"  # the north-west cell of the east community
    assert place.grid_code.startswith(place.community_code or "x")
    west = locator.locate(X0 - 0.1 * DLON, Y0 + 0.5 * DLAT)
    assert west.community_code == "410204001004" and west.grid_code is not None
    assert west.grid_code.startswith("410204001004")


def test_locate_on_a_shared_border_is_deterministic(locator: Locator) -> None:
    first = locator.locate(X0, Y0 + 1.5 * DLAT)
    again = locator.locate(X0, Y0 + 1.5 * DLAT)
    assert first == again and first.community_code in ("410204001003", "410204001004")


def test_outside_the_city_is_a_clear_error(locator: Locator) -> None:
    with pytest.raises(InvalidInputError) as info:
        locator.locate(X0 + 10 * DLON, Y0)
    assert info.value.code == "geo.outside" and "不在本市范围内" in info.value.message


def test_locate_many_matches_locate_one_by_one(locator: Locator) -> None:
    rng = np.random.default_rng(5)
    lon = rng.uniform(X0 - 3 * DLON, X0 + 4.5 * DLON, 500)
    lat = rng.uniform(Y0 - 0.5 * DLAT, Y0 + 3.5 * DLAT, 500)
    found = locator.locate_many(lon, lat)
    for i in range(500):
        inside = shapely.contains_xy(Polygon(box(X0 - 2.5 * DLON, Y0, X0 + 4 * DLON, Y0 + 3 * DLAT)), lon[i], lat[i])
        if found["district"][i] < 0:
            assert not inside
            continue
        place = locator.locate(float(lon[i]), float(lat[i]))
        assert place.grid_code == locator.grid_codes[found["grid"][i]]


def test_the_lattice_table_agrees_with_the_polygons() -> None:
    from xiuhua.geo.adapters.lattice_index import NONE, LatticeIndex

    wedge = Polygon([(X0, Y0), (X0 + 4 * DLON, Y0), (X0, Y0 + 3 * DLAT)])  # a diagonal edge cuts cells
    grids = generate_grids([("410204001006", wedge), ("410204001007", EAST.difference(wedge))])
    index = LatticeIndex([g.geometry for g in grids], sub=4)
    rng = np.random.default_rng(11)
    lon = rng.uniform(X0 - DLON, X0 + 5 * DLON, 20_000)
    lat = rng.uniform(Y0 - DLAT, Y0 + 4 * DLAT, 20_000)
    found = index.lookup(lon, lat)
    tree = shapely.STRtree([g.geometry for g in grids])
    for k in rng.choice(20_000, 2_000, replace=False):
        hits = tree.query(shapely.Point(lon[k], lat[k]), predicate="intersects")
        assert (found[k] in hits) if len(hits) else found[k] == NONE, (lon[k], lat[k])


def test_the_lattice_table_agrees_with_the_polygons_along_a_wiggly_border() -> None:
    """A border with vertices inside table pieces (and three communities meeting): every point of a
    dense sample gets the grid the polygons give, lowest-numbered on a border, NONE outside."""
    from xiuhua.geo.adapters.lattice_index import NONE, LatticeIndex

    rng = np.random.default_rng(3)
    xs = X0 + np.linspace(0, 4 * DLON, 40)
    ys = Y0 + 1.5 * DLAT + rng.uniform(-0.6, 0.6, 40) * DLAT  # a zigzag with a vertex every ~11 m
    north = Polygon([(X0, Y0 + 3 * DLAT), *zip(xs, ys, strict=True), (X0 + 4 * DLON, Y0 + 3 * DLAT)])
    south_west = shapely.difference(box(X0, Y0, X0 + 2.3 * DLON, Y0 + 3 * DLAT), north)
    south_east = shapely.difference(box(X0 + 2.3 * DLON, Y0, X0 + 4 * DLON, Y0 + 3 * DLAT), north)
    communities = [("410204001006", north), ("410204001007", south_west), ("410204001008", south_east)]
    grids = [g.geometry for g in generate_grids(communities)]
    index = LatticeIndex(grids, sub=4)
    lon = rng.uniform(X0 - DLON, X0 + 5 * DLON, 200_000)
    lat = rng.uniform(Y0 - DLAT, Y0 + 4 * DLAT, 200_000)
    lon[:40], lat[:40] = xs, ys  # the vertices themselves lie on borders
    found = index.lookup(lon, lat)
    point_i, grid_i = shapely.STRtree(grids).query(shapely.points(lon, lat), predicate="intersects")
    expected = np.full(len(lon), len(grids))
    np.minimum.at(expected, point_i, grid_i)
    expected[expected == len(grids)] = NONE
    assert np.array_equal(found, expected)
    assert index.crossed.nested is not None  # the vertices did send pieces to the finer raster
