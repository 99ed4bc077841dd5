"""A generated census of components for the demo city: covers, lamps, bins, trees… in every unit grid.

Densities are per unit grid (about one hectare of built-up city) and deterministic for a seed. Each
component is registered to the department the routing rules give for its class and place, so a case
about it is dispatched to its owner.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import numpy as np
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from xiuhua.geo.domain.components import AccuracyClass, Component, ComponentStatus, DataSource
from xiuhua.org.domain.model import ClassKind
from xiuhua.org.domain.routing import Router

# class code → (mean count per unit grid, positional accuracy class)
DENSITY: dict[str, tuple[float, AccuracyClass]] = {
    "01001": (0.8, AccuracyClass.A),  # 供水井盖
    "01002": (0.8, AccuracyClass.A),  # 污水井盖
    "01003": (0.8, AccuracyClass.A),  # 雨水井盖
    "01004": (0.9, AccuracyClass.A),  # 雨水箅子
    "01005": (0.4, AccuracyClass.A),  # 电力井盖
    "01007": (0.5, AccuracyClass.A),  # 通信井盖
    "01011": (0.3, AccuracyClass.A),  # 燃气井盖
    "01030": (0.2, AccuracyClass.A),  # 电力立杆
    "01037": (1.0, AccuracyClass.A),  # 路灯
    "02004": (0.05, AccuracyClass.B),  # 公交站设施
    "02014": (0.05, AccuracyClass.A),  # 交通信号灯
    "03005": (0.5, AccuracyClass.B),  # 垃圾箱
    "03006": (0.2, AccuracyClass.B),  # 户外广告
    "04002": (1.0, AccuracyClass.B),  # 行道树
    "04007": (0.1, AccuracyClass.B),  # 街头座椅
}
STATUS_WEIGHTS = {ComponentStatus.INTACT: 95.0, ComponentStatus.DAMAGED: 4.0, ComponentStatus.MISSING: 1.0}


def generate_census(
    grids: Sequence[tuple[str, BaseGeometry, str]],
    router: Router,
    organization_names: Mapping[str, str],
    region_names: Mapping[str, str],
    class_names: Mapping[str, str],
    *,
    scale: float = 1.0,
    seed: int = 1,
) -> list[Component]:
    """Components for each unit grid (code, polygon, area class); ``scale`` multiplies every density."""
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    serials: dict[tuple[str, str], int] = {}
    owners: dict[tuple[str, str], str | None] = {}
    out: list[Component] = []
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    for grid_code, polygon, _ in grids:
        community, street, district = grid_code[:12], grid_code[:9], grid_code[:6]
        places = (district[:4] + "00", district, street, community)
        for code, (mean, accuracy) in DENSITY.items():
            if code not in class_names:
                continue
            count = int(nprng.poisson(mean * scale))
            if not count:
                continue
            key = (code, street)
            if key not in owners:
                owners[key] = router.suggest(ClassKind.COMPONENT, code, places)
            department = owners[key]
            if department is None:
                continue
            for point in _points_in(polygon, count, rng):
                serial = serials[(district, code)] = serials.get((district, code), 0) + 1
                out.append(
                    Component(
                        id=f"{district}{code}{serial:06d}",
                        name=f"{class_names[code]}{serial:06d}",
                        department_code=department,
                        department_name=organization_names[department],
                        grid_code=grid_code,
                        status=rng.choices(statuses, weights)[0],
                        initial_date=date(2016, 1, 1) + timedelta(days=rng.randrange(3_600)),
                        geometry=point,
                        lon=point.x,
                        lat=point.y,
                        accuracy=accuracy,
                        data_source=DataSource.SURVEYED,
                        street_code=street,
                        street_name=region_names.get(street),
                        community_code=community,
                        community_name=region_names.get(community),
                    )
                )
    return out


def _points_in(polygon: BaseGeometry, count: int, rng: random.Random) -> list[Point]:
    minx, miny, maxx, maxy = polygon.bounds
    points: list[Point] = []
    while len(points) < count:
        lon, lat = round(rng.uniform(minx, maxx), 7), round(rng.uniform(miny, maxy), 7)
        if shapely.contains_xy(polygon, lon, lat):
            points.append(Point(lon, lat))
    return points
