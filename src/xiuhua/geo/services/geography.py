"""Use cases of the city's geography: store region outlines, generate unit grids, locate points."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import shapely

from xiuhua.geo.adapters.crs import Crs, to_wgs84, validate_lonlat
from xiuhua.geo.adapters.grids import generate_grids
from xiuhua.geo.adapters.locator import Locator
from xiuhua.geo.domain.geography import Location, Place
from xiuhua.geo.ports import GeoUnitOfWork
from xiuhua.kernel.errors import InvalidInputError
from xiuhua.kernel.ports import Progress, no_progress

# Synthetic area classes for the demo: the old town is A, the ring around it B, the rest C.
CENTRE = (114.350, 34.800)
A_RADIUS_M, B_RADIUS_M = 2_500.0, 5_000.0


@dataclass(frozen=True, slots=True)
class GeographySummary:
    shapes: int
    grids: int
    responsibility_grids: int


def area_class_by_distance(lon: float, lat: float) -> str:
    dx = (lon - CENTRE[0]) * 111_320 * math.cos(math.radians(CENTRE[1]))
    dy = (lat - CENTRE[1]) * 110_574
    metres = math.hypot(dx, dy)
    return "A" if metres <= A_RADIUS_M else "B" if metres <= B_RADIUS_M else "C"


def seed_demo_geometry(
    features: Sequence[Mapping[str, Any]], uow: GeoUnitOfWork, progress: Progress = no_progress
) -> GeographySummary:
    """Store the demo outlines of known regions, generate unit grids for every community that has an
    outline, and give each street's grids to that street's supervisor (one responsibility grid each)."""
    with uow:
        known = uow.regions.codes()
        usernames = {s.username for s in uow.staff.all()}
    shapes = [
        (f["properties"]["code"], shapely.geometry.shape(f["geometry"]), bool(f["properties"].get("synthetic")),
         "demo")
        for f in features
        if f["properties"]["code"] in known
    ]  # fmt: skip
    communities = [(code, geom) for code, geom, _, _ in shapes if len(code) == 12]
    grids = []
    for done, (code, geom) in enumerate(communities):
        if done % 25 == 0:
            progress("生成单元网格", done, len(communities))
        grids += generate_grids([(code, geom)])
    progress("生成单元网格", len(communities), len(communities))
    streets = sorted({code[:9] for code, _ in communities})
    responsibility = [
        (f"{street}R01", f"{street} 监督网格", f"supervisor_{street}" if f"supervisor_{street}" in usernames else None)
        for street in streets
    ]
    rows = []
    for g in grids:
        centroid = g.geometry.centroid
        rows.append(
            (g.code, g.community_code, g.geometry, g.area_m2, area_class_by_distance(centroid.x, centroid.y),
             f"{g.community_code[:9]}R01")
        )  # fmt: skip
    with uow:
        uow.geo.put_region_shapes(shapes)
        uow.geo.put_responsibility_grids(responsibility)
        uow.geo.replace_grids([code for code, _ in communities], rows)
        uow.regions.set_populations(demo_populations([(g[1], g[3], g[4]) for g in rows]))
        uow.commit()
    return GeographySummary(len(shapes), len(rows), len(responsibility))


DEMO_DENSITY = {"A": 20_000, "B": 9_000, "C": 2_500}
"""Residents per km² by area class: the demo's synthetic populations (not census figures)."""


def demo_populations(grids: Sequence[tuple[str, float, str]]) -> dict[str, int]:
    """Synthetic residents per community (area × density of its grids' class), summed up to streets and
    districts, so that the demo can show case volume per 10,000 people."""
    people: dict[str, float] = {}
    for community, area_m2, area_class in grids:
        people[community] = people.get(community, 0.0) + area_m2 / 1e6 * DEMO_DENSITY.get(area_class, 0)
    out: dict[str, int] = {}
    for community, n in people.items():
        for code in (community, community[:9], community[:6]):
            out[code] = out.get(code, 0) + round(n)
    return out


def load_locator(uow: GeoUnitOfWork) -> Locator:
    with uow:
        regions = uow.regions.all()
        shapes = uow.geo.region_shapes()
        grids = uow.geo.grids()
    names = {r.code: r.name for r in regions}
    levels = {r.code: r.level.value for r in regions}
    return Locator(shapes, grids, names, levels)


def locate(lon: float, lat: float, crs: Crs, locator: Locator) -> Place:
    """Where a point given in any accepted CRS lies (the answer carries WGS84 lon/lat)."""
    validate_lonlat(lon, lat)
    wgs_lon, wgs_lat = to_wgs84(lon, lat, crs)
    return locator.locate(float(wgs_lon), float(wgs_lat))


def place_report(
    lon: float,
    lat: float,
    crs: Crs,
    address: str,
    community_code: str | None,
    area_class: str | None,
    locator: Locator,
) -> Location:
    """Where a report is, found from its coordinates alone (WGS84 in the answer).

    A community the reporter names must be the one the point lies in; where the city has no outline of
    its communities yet, a named community is taken if it lies in the located district (and street).
    Raises InvalidInputError: geo.bad_coordinates, geo.no_outlines (nothing to locate against),
    geo.outside (beyond the city), case.community_mismatch, case.unknown_community, case.no_community.
    """
    if not locator.region_codes["district"]:
        raise InvalidInputError(
            "geo.no_outlines", "本市尚未导入区划边界，无法按坐标确定位置；请先用 xiuhua import-layer 导入"
        )
    place = locate(lon, lat, crs, locator)
    if community_code and community_code != place.community_code:
        if len(community_code) != 12 or community_code not in locator.names:  # 12 digits: a community
            raise InvalidInputError("case.unknown_community", f"社区代码 {community_code} 不存在", code=community_code)
        enclosing = place.street_code or place.district_code
        if place.community_code is not None or not community_code.startswith(enclosing):
            found = place.community_code or enclosing
            raise InvalidInputError(
                "case.community_mismatch",
                f"坐标位于{locator.names.get(found, found)}（{found}），不在所填社区 {community_code} 内；"
                "请核对位置，或不填社区代码由系统按坐标确定",
                community_code=community_code,
                located_code=found,
            )
    community = place.community_code or community_code
    if community is None:
        raise InvalidInputError(
            "case.no_community", "该坐标所在处本市尚无社区边界，请提供 community_code", lon=place.lon, lat=place.lat
        )
    grid = place.grid_code if community == place.community_code else None
    return Location(place.lon, place.lat, address, community[:6], community[:9], community, grid,
                    area_class or (place.area_class if grid else None))  # fmt: skip
