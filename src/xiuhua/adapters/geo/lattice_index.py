"""A lattice look-up table over the unit grids, so that most points are located by arithmetic.

Each lattice cell (about 100 m) records the one grid that covers it whole; a cell shared by several
grids (or half outside the city) is split into sub-cells that do the same; a point in a sub-cell that is
still shared is tested against the candidate polygons exactly. For grids generated on the lattice,
almost every point is answered by two array look-ups.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from xiuhua.adapters.geo.grids import Lattice

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
NONE, SHARED = -1, -2
_EPS = 1e-9  # the same edge rule as Lattice.column / Lattice.row


class LatticeIndex:
    def __init__(self, grids: Sequence[BaseGeometry], lattice: Lattice | None = None, sub: int = 16) -> None:
        lattice = lattice or Lattice()
        self.lattice, self.sub = lattice, sub
        self.geoms = np.array(grids, dtype=object)
        self.tree = shapely.STRtree(self.geoms)
        minx, miny, maxx, maxy = shapely.total_bounds(self.geoms)
        self.i0, self.j0 = lattice.column(minx), lattice.row(miny)
        self.ni, self.nj = lattice.column(maxx) - self.i0 + 1, lattice.row(maxy) - self.j0 + 1
        jj, ii = np.meshgrid(np.arange(self.nj), np.arange(self.ni), indexing="ij")
        west = np.asarray(lattice.lon0 + (ii.ravel() + self.i0) * lattice.dlon, dtype=np.float64)
        south = np.asarray(lattice.lat0 + (jj.ravel() + self.j0) * lattice.dlat, dtype=np.float64)
        owner = self._owners(west, south, lattice.dlon, lattice.dlat)
        self.cells = owner.reshape(self.nj, self.ni)
        shared = np.flatnonzero(owner == SHARED)
        shared_id = np.full(owner.shape, -1, dtype=np.int64)
        shared_id[shared] = np.arange(len(shared))
        self.shared_id = shared_id.reshape(self.nj, self.ni)
        sw, ss = lattice.dlon / sub, lattice.dlat / sub
        sj, si = np.meshgrid(np.arange(sub), np.arange(sub), indexing="ij")
        sub_west = (west[shared][:, None] + si.ravel()[None, :] * sw).ravel()
        sub_south = (south[shared][:, None] + sj.ravel()[None, :] * ss).ravel()
        self.subcells = self._owners(sub_west, sub_south, sw, sh=ss).reshape(len(shared), sub, sub)

    def _owners(self, west: FloatArray, south: FloatArray, w: float, sh: float | None = None) -> IntArray:
        """For each box: the grid it lies within, NONE if it touches no grid, else SHARED (tested later)."""
        h = self.lattice.dlat if sh is None else sh
        boxes = shapely.box(west, south, west + w, south + h)
        owner = np.full(len(boxes), NONE, dtype=np.int64)
        touching, _ = self.tree.query(boxes, predicate="intersects")
        owner[touching] = SHARED  # some only share an edge: the exact test sorts them out
        box_i, grid_i = self.tree.query(boxes, predicate="within")
        owner[box_i] = grid_i
        return owner

    def lookup(self, lon: FloatArray, lat: FloatArray) -> IntArray:
        """Index of the grid containing each point, or NONE."""
        lt = self.lattice
        fi = (lon - lt.lon0) / lt.dlon + _EPS
        fj = (lat - lt.lat0) / lt.dlat + _EPS
        i, j = np.floor(fi).astype(np.int64) - self.i0, np.floor(fj).astype(np.int64) - self.j0
        inside = (i >= 0) & (i < self.ni) & (j >= 0) & (j < self.nj)
        out = np.full(len(lon), NONE, dtype=np.int64)
        out[inside] = self.cells[j[inside], i[inside]]
        shared = np.flatnonzero(out == SHARED)
        if shared.size:
            m = self.shared_id[j[shared], i[shared]]
            si = np.minimum(((fi[shared] - np.floor(fi[shared])) * self.sub).astype(np.int64), self.sub - 1)
            sj = np.minimum(((fj[shared] - np.floor(fj[shared])) * self.sub).astype(np.int64), self.sub - 1)
            out[shared] = self.subcells[m, sj, si]
        exact = np.flatnonzero(out == SHARED)
        if exact.size:
            points = shapely.points(lon[exact], lat[exact])
            hits = self.tree.query(points, predicate="intersects")
            out[exact] = NONE
            out[exact[hits[0][::-1]]] = hits[1][::-1]  # the lowest-numbered grid wins on a border
        return out
