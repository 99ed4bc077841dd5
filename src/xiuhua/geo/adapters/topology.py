"""Topology checks of a polygon layer in WGS84, measured in square metres (EPSG:4547): overlaps, parts
outside a container, and gaps a set of pieces leaves inside its container. Vectorised over the layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from xiuhua.geo.adapters.crs import to_metres

__all__ = ["Gap", "Overlap", "area_m2", "area_outside", "gap_inside", "overlaps", "to_metric"]

GeometryArray = np.ndarray[Any, Any]


@dataclass(frozen=True, slots=True)
class Overlap:
    """Pieces ``first`` < ``second`` (positions in the layer) share ``area_m2`` square metres."""

    first: int
    second: int
    area_m2: float


@dataclass(frozen=True, slots=True)
class Gap:
    """Area of a container no piece covers, and a WGS84 lon/lat inside its largest part."""

    area_m2: float
    lon: float
    lat: float


def to_metric(geometries: Sequence[BaseGeometry] | GeometryArray) -> GeometryArray:
    """WGS84 lon/lat geometries → EPSG:4547 metres, all coordinates in one transform."""
    array = np.asarray(geometries, dtype=object)
    return shapely.transform(array, lambda xy: np.column_stack(to_metres(xy[:, 0], xy[:, 1])))


def area_m2(geometries: Sequence[BaseGeometry] | GeometryArray) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Square metres of each geometry (EPSG:4547); a missing one counts 0."""
    array = np.asarray(geometries, dtype=object)
    out = np.zeros(len(array), dtype=np.float64)
    present = ~shapely.is_missing(array)
    if present.any():
        out[present] = shapely.area(to_metric(array[present]))
    return out


# Relations are computed on the lon/lat geometries as stored and only the resulting pieces are measured
# in metres. Projecting first would bend nothing but the vertices: a point on a long straight lon/lat
# edge lands centimetres off the projected chord, and over a kilometre-long community boundary that
# alone makes square metres of false gap or overlap.


def overlaps(geometries: GeometryArray, tolerance_m2: float) -> list[Overlap]:
    """Pairs of pieces (WGS84) sharing more than ``tolerance_m2``; neighbours sharing an edge do not."""
    if len(geometries) < 2:
        return []
    left, right = shapely.STRtree(geometries).query(geometries, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    areas = area_m2(shapely.intersection(geometries[left], geometries[right]))
    over = areas > tolerance_m2
    return [Overlap(int(i), int(j), float(a)) for i, j, a in zip(left[over], right[over], areas[over], strict=True)]


def area_outside(geometries: GeometryArray, containers: GeometryArray) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Square metres of each piece outside its container (WGS84, same positions; no container gives 0)."""
    out = np.zeros(len(geometries), dtype=np.float64)
    has = ~shapely.is_missing(containers)
    if has.any():
        out[has] = area_m2(shapely.difference(geometries[has], containers[has]))
    return out


def gap_inside(container: BaseGeometry, pieces: GeometryArray, tolerance_m2: float) -> Gap | None:
    """What of ``container`` the pieces leave uncovered (all WGS84), if more than ``tolerance_m2``."""
    covered = shapely.union_all(pieces) if len(pieces) else shapely.Polygon()
    parts = shapely.get_parts(shapely.difference(container, covered))
    if not len(parts):
        return None
    areas = area_m2(parts)
    if float(areas.sum()) <= tolerance_m2:
        return None
    point = parts[int(np.argmax(areas))].representative_point()
    return Gap(float(areas.sum()), float(point.x), float(point.y))
