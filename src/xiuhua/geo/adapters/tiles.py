"""Web Mercator tiles (EPSG:3857 maths, XYZ scheme) and Mapbox vector tiles (MVT) of lon/lat features.

A tile (z, x, y) covers 1/2^z of the spherical-Mercator world square in each direction, x eastward from
180°W and y southward from 85.0511°N, as MapLibre GL requests them. Inside a tile, coordinates run from
0 to ``EXTENT`` (4096) with y pointing down. Stored lon/lat are WGS84/CGCS2000; GCJ-02 is never used
for tiles (MapLibre draws WGS84-based Web Mercator).

Rendering is vectorised with shapely: project and round every vertex at once onto the integer tile grid,
clip to the tile plus a buffer, simplify, drop what collapsed below one tile unit, orient polygon rings as
MVT wants them (exterior clockwise on screen), then encode with ``mapbox_vector_tile`` (its own per-feature
winding check off: the rings are already oriented, and the check costs more than the encoding).

Points below ``POINT_DETAIL_ZOOM`` are clustered on a
grid of ``CLUSTER_CELL`` units, one feature per occupied cell with its ``count``, so a tile holds at most
(EXTENT / CLUSTER_CELL)² points whatever the density.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

FloatArray = NDArray[np.float64]

# mapbox_vector_tile ships no type information; importlib keeps it typed as Any without an override.
mapbox_vector_tile: Any = importlib.import_module("mapbox_vector_tile")

EXTENT: Final = 4096
"""Tile units per tile side (the MVT default)."""

BUFFER: Final = 64
"""Tile units drawn beyond each edge, so lines and outlines join seamlessly across tiles."""

MAX_LAT: Final = 85.0511287798066
"""The latitude where the Web Mercator square ends."""

POINT_DETAIL_ZOOM: Final = 14
"""From this zoom up points are drawn one by one; below it they are clustered."""

CLUSTER_CELL: Final = 64
"""Cluster cell side in tile units (16 screen pixels on a 256-pixel tile)."""

SIMPLIFY_UNITS: Final = 1.0
"""Douglas-Peucker tolerance in tile units: below what a tile can hold anyway."""

ENCODE_OPTIONS: Final = {"extents": EXTENT, "y_coord_down": True, "check_winding_order": False}

Bounds = tuple[float, float, float, float]


# ----- Web Mercator ---------------------------------------------------------------------------------
def lonlat_to_world(lon: Any, lat: Any) -> tuple[Any, Any]:
    """lon/lat (degrees) → world coordinates in [0, 1), x east, y south (scalars or arrays)."""
    lat_c = np.clip(lat, -MAX_LAT, MAX_LAT)
    wx = (np.asarray(lon, dtype=np.float64) + 180.0) / 360.0
    sin = np.sin(np.radians(lat_c))
    wy = 0.5 - np.log((1.0 + sin) / (1.0 - sin)) / (4.0 * math.pi)
    if np.ndim(lon) == 0 and np.ndim(lat) == 0:
        return float(wx), float(wy)
    return wx, wy


def world_to_lonlat(wx: Any, wy: Any) -> tuple[Any, Any]:
    """World coordinates in [0, 1) → lon/lat in degrees (inverse of ``lonlat_to_world``)."""
    lon = np.asarray(wx, dtype=np.float64) * 360.0 - 180.0
    lat = np.degrees(np.arctan(np.sinh(math.pi * (1.0 - 2.0 * np.asarray(wy, dtype=np.float64)))))
    if np.ndim(wx) == 0 and np.ndim(wy) == 0:
        return float(lon), float(lat)
    return lon, lat


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The (x, y) of the zoom-z tile holding a lon/lat."""
    wx, wy = lonlat_to_world(lon, lat)
    n = 1 << z
    return min(n - 1, max(0, math.floor(wx * n))), min(n - 1, max(0, math.floor(wy * n)))


def tile_bounds(z: int, x: int, y: int, buffer_units: float = 0.0) -> Bounds:
    """(min lon, min lat, max lon, max lat) of a tile, grown by ``buffer_units`` tile units on each side."""
    n = 1 << z
    pad = buffer_units / EXTENT
    west, north = world_to_lonlat((x - pad) / n, (y - pad) / n)
    east, south = world_to_lonlat((x + 1 + pad) / n, (y + 1 + pad) / n)
    return max(-180.0, west), max(-MAX_LAT, south), min(180.0, east), min(MAX_LAT, north)


def to_tile_units(lon: Any, lat: Any, z: int, x: int, y: int) -> tuple[Any, Any]:
    """lon/lat → coordinates inside tile (z, x, y): 0..EXTENT, y down (floats, not rounded)."""
    wx, wy = lonlat_to_world(lon, lat)
    scale = EXTENT * (1 << z)
    return wx * scale - x * EXTENT, wy * scale - y * EXTENT


def from_tile_units(px: Any, py: Any, z: int, x: int, y: int) -> tuple[Any, Any]:
    """Coordinates inside tile (z, x, y) → lon/lat (inverse of ``to_tile_units``)."""
    scale = EXTENT * (1 << z)
    return world_to_lonlat((np.asarray(px) + x * EXTENT) / scale, (np.asarray(py) + y * EXTENT) / scale)


def valid_tile(z: int, x: int, y: int, max_zoom: int) -> bool:
    return 0 <= z <= max_zoom and 0 <= x < (1 << z) and 0 <= y < (1 << z)


# ----- features in tile space -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TileFeatures:
    """Features ready for encoding: shapely geometries in tile units and their properties."""

    geometries: NDArray[np.object_]
    properties: Sequence[Mapping[str, Any]]


def project(geometries: Sequence[BaseGeometry] | NDArray[np.object_], z: int, x: int, y: int) -> NDArray[np.object_]:
    """lon/lat geometries → whole tile units, every vertex in one vectorised pass."""
    scale = EXTENT * (1 << z)

    def to_units(coords: FloatArray) -> FloatArray:
        wx, wy = lonlat_to_world(coords[:, 0], coords[:, 1])
        return np.round(np.column_stack((wx * scale - x * EXTENT, wy * scale - y * EXTENT)))

    return shapely.transform(np.asarray(geometries, dtype=object), to_units)


def shape_features(
    geometries: Sequence[BaseGeometry] | NDArray[np.object_],
    properties: Sequence[Mapping[str, Any]],
    z: int,
    x: int,
    y: int,
) -> TileFeatures:
    """Lon/lat geometries → clipped, simplified, integer tile geometries; those that collapse are dropped."""
    if len(geometries) == 0:
        return TileFeatures(np.empty(0, dtype=object), [])
    geoms = project(geometries, z, x, y)
    low, high = -BUFFER, EXTENT + BUFFER
    bounds = shapely.bounds(geoms)
    crossing = (bounds[:, 0] < low) | (bounds[:, 1] < low) | (bounds[:, 2] > high) | (bounds[:, 3] > high)
    # Clipping costs as much for a shape well inside as for one across the edge: clip only the latter.
    geoms[crossing] = shapely.clip_by_rect(geoms[crossing], low, low, high, high)
    kind = shapely.get_dimensions(geoms)  # 0 points, 1 lines, 2 polygons; -1 empty or missing
    shaped = kind > 0
    # Douglas-Peucker keeps a subset of the (already whole) vertices, so nothing leaves the grid.
    geoms[shaped] = shapely.simplify(geoms[shaped], SIMPLIFY_UNITS, preserve_topology=False)
    polygons = kind == 2
    geoms[polygons] = shapely.orient_polygons(geoms[polygons], exterior_cw=False)
    keep = (kind == 0) & ~shapely.is_empty(geoms)
    keep |= (kind == 1) & (shapely.length(geoms) > 0)
    keep |= polygons & (shapely.area(geoms) >= 1.0)
    return TileFeatures(geoms[keep], [properties[int(i)] for i in np.flatnonzero(keep)])


def cluster_points(lon: FloatArray, lat: FloatArray, z: int, x: int, y: int) -> TileFeatures:
    """Points (lon/lat arrays) → one point per occupied ``CLUSTER_CELL`` cell at the members' mean position,
    with the member ``count``; cells are taken inside the tile only (neighbours draw their own)."""
    px, py = to_tile_units(lon, lat, z, x, y)
    inside = (px >= 0) & (px < EXTENT) & (py >= 0) & (py < EXTENT)
    px, py = px[inside], py[inside]
    if px.size == 0:
        return TileFeatures(np.empty(0, dtype=object), [])
    per_side = EXTENT // CLUSTER_CELL
    cell = (py // CLUSTER_CELL).astype(np.int64) * per_side + (px // CLUSTER_CELL).astype(np.int64)
    cells, inverse, counts = np.unique(cell, return_inverse=True, return_counts=True)
    mean_x = np.bincount(inverse, weights=px, minlength=cells.size) / counts
    mean_y = np.bincount(inverse, weights=py, minlength=cells.size) / counts
    points = np.asarray(shapely.points(np.round(mean_x), np.round(mean_y)), dtype=object)
    return TileFeatures(points, [{"count": int(n), "cluster": True} for n in counts])


def encode(layers: Mapping[str, TileFeatures]) -> bytes:
    """An MVT of these layers (extent 4096, y down); empty bytes when no layer has a feature."""
    payload = [
        {
            "name": name,
            "features": [
                {"geometry": geom, "properties": {k: v for k, v in props.items() if v is not None}}
                for geom, props in zip(features.geometries, features.properties, strict=True)
            ],
        }
        for name, features in layers.items()
        if len(features.geometries)
    ]
    if not payload:
        return b""
    encoded: bytes = mapbox_vector_tile.encode(payload, default_options=ENCODE_OPTIONS)
    return encoded
