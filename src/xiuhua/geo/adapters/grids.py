"""Unit grids generated for a city that has no survey of its own: ~100 m cells clipped to communities.

The lattice is aligned to longitude and latitude (0.0011° × 0.0009°, about 100 m × 100 m at Kaifeng's
latitude), so a cell is found by arithmetic. Each cell is clipped to the community it falls in; slivers
under a quarter of a cell join the neighbour in the same community they share most border with. Grids
are numbered west→east, north→south within their community (GB/T 30428.2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from xiuhua.geo.adapters.crs import to_metres
from xiuhua.geo.domain.geography import grid_code

DLON, DLAT = 0.0011, 0.0009
ORIGIN = (114.0, 34.5)
MIN_SHARE = 0.25


@dataclass(frozen=True, slots=True)
class Lattice:
    dlon: float = DLON
    dlat: float = DLAT
    lon0: float = ORIGIN[0]
    lat0: float = ORIGIN[1]

    def cell_range(self, bounds: tuple[float, float, float, float]) -> tuple[range, range]:
        minx, miny, maxx, maxy = bounds
        return range(self.column(minx), self.column(maxx) + 1), range(self.row(miny), self.row(maxy) + 1)

    # A point on a cell's edge belongs to the cell east (north) of it; the epsilon absorbs float error.
    def column(self, lon: float) -> int:
        return math.floor((lon - self.lon0) / self.dlon + 1e-9)

    def row(self, lat: float) -> int:
        return math.floor((lat - self.lat0) / self.dlat + 1e-9)


@dataclass(frozen=True, slots=True)
class GeneratedGrid:
    code: str
    community_code: str
    geometry: BaseGeometry
    area_m2: float


def area_m2(geometry: BaseGeometry) -> float:
    """Area in square metres (EPSG:4547)."""
    projected = shapely.transform(geometry, lambda xy: np.column_stack(to_metres(xy[:, 0], xy[:, 1])))
    return float(shapely.area(projected))


def generate_grids(
    communities: Sequence[tuple[str, BaseGeometry]], lattice: Lattice = Lattice()
) -> list[GeneratedGrid]:
    """Unit grids for each community polygon (WGS84), coded and numbered; raises InvalidInputError if a
    community would need more than 999 grids."""
    out: list[GeneratedGrid] = []
    for community_code, polygon in communities:
        cols, rows = lattice.cell_range(polygon.bounds)
        cells, keys = [], []
        for j in reversed(rows):  # north first
            for i in cols:  # then west to east
                # Each edge from one expression, so neighbouring cells share it to the last bit.
                west, east = lattice.lon0 + i * lattice.dlon, lattice.lon0 + (i + 1) * lattice.dlon
                south, north = lattice.lat0 + j * lattice.dlat, lattice.lat0 + (j + 1) * lattice.dlat
                cells.append(shapely.box(west, south, east, north))
                keys.append((j, i))
        pieces = shapely.intersection(np.array(cells, dtype=object), polygon)
        keep = [(k, g) for k, g in zip(keys, pieces, strict=True) if not g.is_empty and g.area > 0]
        merged = _absorb_slivers(keep, lattice.dlon * lattice.dlat * MIN_SHARE)
        merged.sort(key=lambda kg: (-kg[0][0], kg[0][1]))
        for serial, (_, geometry) in enumerate(merged, start=1):
            geometry = shapely.normalize(geometry)
            out.append(GeneratedGrid(grid_code(community_code, serial), community_code, geometry, area_m2(geometry)))
    return out


def _absorb_slivers(
    pieces: list[tuple[tuple[int, int], BaseGeometry]], min_area: float
) -> list[tuple[tuple[int, int], BaseGeometry]]:
    """Join each piece smaller than min_area, smallest first, to the piece it shares the longest border
    with; a sliver touching no other piece (an island) stays a grid of its own."""
    pieces = list(pieces)
    alive = np.ones(len(pieces), dtype=bool)
    for i in sorted((i for i, (_, g) in enumerate(pieces) if g.area < min_area), key=lambda i: pieces[i][1].area):
        if not alive[i] or pieces[i][1].area >= min_area:
            continue
        others = np.array([g.boundary for _, g in pieces], dtype=object)
        shared = shapely.length(shapely.intersection(pieces[i][1].boundary, others))
        shared[i] = 0.0
        shared[~alive] = 0.0
        best = int(np.argmax(shared))
        if shared[best] <= 0:
            continue
        pieces[best] = (pieces[best][0], shapely.union(pieces[best][1], pieces[i][1]))
        alive[i] = False
    return [p for p, keep in zip(pieces, alive, strict=True) if keep]
