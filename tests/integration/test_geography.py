"""Demo outlines and unit grids stored and read back on SQLite and PostgreSQL, then located against."""

from __future__ import annotations

import json

import pytest

from tests.conftest import shared
from xiuhua.demo.sources import demo_sources
from xiuhua.geo.adapters.crs import Crs, from_wgs84
from xiuhua.geo.services.geography import load_locator, locate, seed_demo_geometry
from xiuhua.kernel.errors import InvalidInputError
from xiuhua.org.services import catalog
from xiuhua.org.services import structure as org
from xiuhua.platform import packagedata
from xiuhua.unit_of_work import SqlUnitOfWork

CORE = ("410202", "410203", "410204", "410205")


@pytest.fixture
def city(uow: SqlUnitOfWork) -> SqlUnitOfWork:
    sources = demo_sources(geometry=False)
    org.import_regions(sources.regions, uow)
    catalog.import_classes(sources.classes, uow)
    features = packagedata.read_features(packagedata.DEMO_GEOMETRY)
    # Two streets of 鼓楼区 with their communities keep the test quick; the districts come whole.
    wanted = [f for f in features if len(f["properties"]["code"]) == 6 or f["properties"]["code"][:9] in
              ("410204002", "410204001")]  # fmt: skip
    summary = seed_demo_geometry(wanted, uow)
    assert summary.grids > 100 and summary.shapes == len(wanted)
    return uow


def test_every_landmark_lies_in_its_true_district(city: SqlUnitOfWork) -> None:
    locator = load_locator(city)
    pois = json.loads(shared("geo", "kaifeng_pois_approx.geojson").read_text(encoding="utf-8"))
    for poi in pois["features"]:
        lon, lat = poi["geometry"]["coordinates"]
        assert locate(lon, lat, Crs.WGS84, locator).district_name == poi["properties"]["district"], poi


def test_locate_names_the_grid_and_its_prefixes(city: SqlUnitOfWork) -> None:
    place = locate(114.3405, 34.79, Crs.WGS84, load_locator(city))
    assert place.district_name == "鼓楼区"
    assert place.grid_code is not None and place.street_code and place.community_code
    assert place.grid_code.startswith(place.community_code) and place.community_code.startswith(place.street_code)
    assert place.street_code.startswith(place.district_code) and place.area_class in ("A", "B", "C")


def test_gcj02_input_lands_in_the_same_grid(city: SqlUnitOfWork) -> None:
    locator = load_locator(city)
    gcj_lon, gcj_lat = from_wgs84(114.3405, 34.79, Crs.GCJ02)
    assert (
        locate(gcj_lon, gcj_lat, Crs.GCJ02, locator).grid_code == locate(114.3405, 34.79, Crs.WGS84, locator).grid_code
    )


def test_outside_and_bad_input(city: SqlUnitOfWork) -> None:
    locator = load_locator(city)
    with pytest.raises(InvalidInputError) as info:
        locate(121.47, 31.23, Crs.WGS84, locator)  # Shanghai
    assert info.value.code == "geo.outside"
    with pytest.raises(InvalidInputError) as info:
        locate(200.0, 34.8, Crs.WGS84, locator)
    assert info.value.code == "geo.bad_coordinates"


def test_grids_are_stored_with_codes_and_responsibility(city: SqlUnitOfWork) -> None:
    with city:
        grids = city.geo.grids()
        rows = city.connection.exec_driver_sql(
            "select count(*), count(distinct responsibility_code), min(area_m2), max(area_m2) from unit_grids"
        ).one()
    codes = [code for code, _, _ in grids]
    assert len(codes) == len(set(codes)) == rows[0]
    assert all(len(c) == 15 and c[:9] in ("410204001", "410204002") for c in codes)
    assert rows[1] == 2  # one responsibility grid per street, each its supervisor's
    assert rows[2] > 2_000 and rows[3] < 40_000  # slivers merged; no grid much over a few cells
