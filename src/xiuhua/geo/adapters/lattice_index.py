"""A look-up table over the unit grids, so that a million points are located by arithmetic.

The table is a fine raster: each lattice cell (about 100 m) is split into `sub` × `sub` pieces. A piece
inside one grid holds that grid; a piece touching none holds NONE. A piece that a border crosses holds a
reference to a straight dividing line and the grids either side of it: within a dozen metres a border
is one straight segment unless a polygon vertex lies in the piece. Such a piece is split once more the
same way. Only points in the few pieces left, or within a hair of a dividing line, are tested against
the polygons exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from xiuhua.geo.adapters.grids import Lattice

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
NONE, SHARED = -1, -2
_EPS = 1e-9  # the same edge rule as Lattice.column / Lattice.row
MAX_TABLE_CELLS = 16_000_000  # 32 MB of uint16: a fine raster for a megacity's urban area
_ON_LINE = 1e-13  # |cross product| in degrees² below which a point counts as on the dividing line
_SPLIT = 4  # a piece with a vertex inside is split into 4 × 4 smaller ones


def _owners(tree: shapely.STRtree, west: FloatArray, south: FloatArray, w: float, h: float) -> IntArray:
    """For each box: the grid it lies within, NONE if it touches no grid, else SHARED."""
    boxes = shapely.box(west, south, west + w, south + h)
    owner = np.full(len(boxes), NONE, dtype=np.int64)
    touching, _ = tree.query(boxes, predicate="intersects")
    owner[touching] = SHARED  # some only share an edge: the dividing-line step sorts them out
    box_i, grid_i = tree.query(boxes, predicate="within")
    owner[box_i] = grid_i
    return owner


class _CrossedPieces:
    """The pieces of one raster level that a border crosses.

    `entry` is each piece's table entry: the grid that fills it where the others only touch its edges
    (float error at the piece's corners does that), else -2 - k for the k-th dividing line. Line k has a
    point and a direction (`lines`), the grid `left` and `right` of it, and every grid touching
    its piece (`candidates`, for the exact test). A piece with a vertex inside keeps a zero direction
    and, while `depth` allows, a raster of its own."""

    def __init__(
        self, geoms: npt.NDArray[np.object_], tree: shapely.STRtree, west: FloatArray, south: FloatArray,
        w: float, h: float, depth: int,
    ) -> None:  # fmt: skip
        self.geoms, self.w, self.h = geoms, w, h
        boxes = shapely.box(west, south, west + w, south + h)
        box_i, grid_i = tree.query(boxes, predicate="intersects")
        order = np.lexsort((grid_i, box_i))  # each box's grids together, lowest-numbered first
        box_i, grid_i = box_i[order], grid_i[order]
        pieces = shapely.intersection(geoms[grid_i], boxes[box_i])
        area = shapely.area(pieces)
        divides = area > w * h * 1e-9  # grids that only touch an edge do not divide the piece
        count = np.bincount(box_i[divides], minlength=len(boxes))
        full = np.abs(np.bincount(box_i[divides], weights=area[divides], minlength=len(boxes)) - w * h) <= w * h * 1e-7
        filled = (count == 1) & full
        self.entry = np.full(len(boxes), NONE, dtype=np.int64)
        self.entry[box_i[divides & filled[box_i]]] = grid_i[divides & filled[box_i]]
        lined = np.flatnonzero(~filled)
        self.entry[lined] = -2 - np.arange(len(lined))
        # From here on only the pieces that keep a dividing line, numbered 0..n-1.
        keep = ~filled[box_i]
        box_i, grid_i, pieces, divides = -2 - self.entry[box_i[keep]], grid_i[keep], pieces[keep], divides[keep]
        boxes, count, full, n = boxes[lined], count[lined], full[lined], len(lined)
        self.origin = np.stack([west[lined], south[lined]])
        rank = np.arange(len(box_i)) - np.searchsorted(box_i, box_i)
        self.candidates = np.full((n, int(rank.max(initial=0)) + 1), NONE, dtype=np.int64)
        self.candidates[box_i, rank] = grid_i
        self.lines = np.zeros((4, n))  # x1, y1, dx, dy as rows: a gather by piece reads each row once
        self.left, self.right = np.full(n, NONE, dtype=np.int64), np.full(n, NONE, dtype=np.int64)
        box_i, grid_i, pieces = box_i[divides], grid_i[divides], pieces[divides]
        first = np.searchsorted(box_i, np.arange(n))
        split = np.flatnonzero(((count == 2) & full) | ((count == 1) & ~full))  # two grids, or one and outside
        k = first[split]
        border = shapely.difference(shapely.boundary(pieces[k]), shapely.boundary(boxes[split]))
        straight = (shapely.get_type_id(border) == 1) & (shapely.get_num_coordinates(border) == 2)
        split, k, border = split[straight], k[straight], border[straight]
        ends = shapely.get_coordinates(border).reshape(-1, 2, 2)
        self.lines[:, split] = np.column_stack([ends[:, 0], ends[:, 1] - ends[:, 0]]).T
        inside = shapely.get_coordinates(shapely.point_on_surface(pieces[k]))
        on_left = self._side(split, inside[:, 0], inside[:, 1]) > 0
        this, other = grid_i[k], np.where(count[split] == 2, grid_i[np.minimum(k + 1, len(grid_i) - 1)], NONE)
        self.left[split], self.right[split] = np.where(on_left, this, other), np.where(on_left, other, this)
        self._split_vertex_pieces(tree, np.flatnonzero((self.lines[2] == 0) & (self.lines[3] == 0)), depth)

    def _split_vertex_pieces(self, tree: shapely.STRtree, vertex: IntArray, depth: int) -> None:
        self.nested: _CrossedPieces | None = None
        self.nested_row = np.full(self.lines.shape[1], -1, dtype=np.int64)
        self.nested_table = np.empty((0, _SPLIT * _SPLIT), dtype=np.int64)
        if depth <= 0 or not vertex.size:
            return
        w, h = self.w / _SPLIT, self.h / _SPLIT
        sj, si = np.divmod(np.arange(_SPLIT * _SPLIT), _SPLIT)
        west = (self.origin[0, vertex][:, None] + si[None, :] * w).ravel()
        south = (self.origin[1, vertex][:, None] + sj[None, :] * h).ravel()
        owner = _owners(tree, west, south, w, h)
        crossed = np.flatnonzero(owner == SHARED)
        self.nested = _CrossedPieces(self.geoms, tree, west[crossed], south[crossed], w, h, depth - 1)
        owner[crossed] = self.nested.entry
        self.nested_table = owner.reshape(len(vertex), _SPLIT * _SPLIT)
        self.nested_row[vertex] = np.arange(len(vertex))

    def _side(self, k: IntArray, x: FloatArray, y: FloatArray) -> FloatArray:
        """Cross product of the dividing line's direction with the point: > 0 left, < 0 right."""
        x1, y1, dx, dy = self.lines[:, k]
        side: FloatArray = dx * (y - y1) - dy * (x - x1)
        return side

    def resolve(self, k: IntArray, x: FloatArray, y: FloatArray) -> IntArray:
        """The grid of each point (x, y) that lies in crossed piece k."""
        side = self._side(k, x, y)
        out: IntArray = np.where(side > 0, self.left[k], self.right[k])
        near = np.flatnonzero(np.abs(side) <= _ON_LINE)  # on a line, or in a piece with a vertex
        if near.size:
            out[near] = self._near(k[near], x[near], y[near])
        return out

    def _near(self, k: IntArray, x: FloatArray, y: FloatArray) -> IntArray:
        """Points on a dividing line, or in a piece with a vertex: its own raster if it has one, else exact."""
        row = self.nested_row[k]
        out = np.full(len(k), NONE, dtype=np.int64)
        flat = np.flatnonzero(row < 0)
        out[flat] = self._exact(k[flat], x[flat], y[flat])
        deeper = np.flatnonzero(row >= 0)
        if self.nested is None or not deeper.size:
            return out
        kd, xd, yd = k[deeper], x[deeper], y[deeper]
        i = np.clip(((xd - self.origin[0, kd]) * (_SPLIT / self.w) + _EPS).astype(np.int64), 0, _SPLIT - 1)
        j = np.clip(((yd - self.origin[1, kd]) * (_SPLIT / self.h) + _EPS).astype(np.int64), 0, _SPLIT - 1)
        found = self.nested_table[row[deeper], j * _SPLIT + i]
        lined = found <= SHARED
        found[lined] = self.nested.resolve(-2 - found[lined], xd[lined], yd[lined])
        out[deeper] = found
        return out

    def _exact(self, k: IntArray, x: FloatArray, y: FloatArray) -> IntArray:
        """Test points against the grids touching their piece, lowest-numbered first (it wins on a border)."""
        found = np.full(len(k), NONE, dtype=np.int64)
        for column in self.candidates[k].T:
            todo = np.flatnonzero((found == NONE) & (column != NONE))
            hit = shapely.intersects_xy(self.geoms[column[todo]], x[todo], y[todo])
            found[todo[hit]] = column[todo[hit]]
        return found


class LatticeIndex:
    def __init__(self, grids: Sequence[BaseGeometry], lattice: Lattice | None = None, sub: int = 8) -> None:
        lattice = lattice or Lattice()
        geoms = np.array(grids, dtype=object)
        shapely.prepare(geoms)
        tree = shapely.STRtree(geoms)
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        i0, j0 = lattice.column(minx), lattice.row(miny)
        ni, nj = lattice.column(maxx) - i0 + 1, lattice.row(maxy) - j0 + 1
        self.sub = sub = max(1, min(sub, math.isqrt(MAX_TABLE_CELLS // (ni * nj))))
        self.w, self.h = lattice.dlon / sub, lattice.dlat / sub
        # Table column c covers [west + (c - 1) w, west + c w): column 0 and the last are a NONE border.
        self.west, self.south = lattice.lon0 + i0 * lattice.dlon, lattice.lat0 + j0 * lattice.dlat
        self.cols, self.rows = ni * sub + 2, nj * sub + 2
        cells = np.arange(ni * nj)
        cell_west = np.asarray(self.west + cells % ni * lattice.dlon, dtype=np.float64)
        cell_south = np.asarray(self.south + cells // ni * lattice.dlat, dtype=np.float64)
        coarse = _owners(tree, cell_west, cell_south, lattice.dlon, lattice.dlat)
        fine = np.repeat(np.repeat(coarse.reshape(nj, ni), sub, axis=0), sub, axis=1)
        shared = np.flatnonzero(coarse == SHARED)
        corner = (shared // ni * sub)[:, None] * (ni * sub) + (shared % ni * sub)[:, None]
        offsets = (np.arange(sub)[:, None] * (ni * sub) + np.arange(sub)[None, :]).ravel()
        flat = (corner + offsets[None, :]).ravel()  # indexes into `fine` of every piece of a shared cell
        west, south = self.west + flat % (ni * sub) * self.w, self.south + flat // (ni * sub) * self.h
        owner = _owners(tree, west, south, self.w, self.h)
        crossed = np.flatnonzero(owner == SHARED)
        self.crossed = _CrossedPieces(geoms, tree, west[crossed], south[crossed], self.w, self.h, depth=1)
        owner[crossed] = self.crossed.entry
        fine.ravel()[flat] = owner
        # Stored shifted by one in the narrowest unsigned type that holds every entry: 0 is NONE, then the
        # grids, then the crossed pieces. A table that fits the processor's cache is read several times
        # faster, and reading it is most of the work.
        self.grids = len(geoms)
        top = self.grids + self.crossed.lines.shape[1]  # the largest value stored
        dtype = np.uint16 if top <= np.iinfo(np.uint16).max else np.uint32
        stored = np.where(fine >= NONE, fine + 1, self.grids - 1 - fine)  # crossed piece k (-2 - k): grids + 1 + k
        self.table = np.zeros((self.rows, self.cols), dtype=dtype)
        self.table[1:-1, 1:-1] = stored

    def lookup(self, lon: FloatArray, lat: FloatArray) -> IntArray:
        """Index of the grid containing each point, or NONE."""
        # Table column c covers [west + (c - 1) w, west + c w): the offset of one column is in the origin.
        c = self._index(lon, self.west - (1 + _EPS) * self.w, self.w, self.cols)
        r = self._index(lat, self.south - (1 + _EPS) * self.h, self.h, self.rows)
        r *= np.uint64(self.cols)
        r += c
        out: IntArray = self.table.ravel().take(r).astype(np.int64)
        out -= 1
        crossed = np.flatnonzero(out >= self.grids)
        if crossed.size:
            k = out[crossed] - self.grids
            out[crossed] = self.crossed.resolve(k, lon[crossed], lat[crossed])
        return out

    @staticmethod
    def _index(values: FloatArray, origin: float, step: float, size: int) -> npt.NDArray[np.uint64]:
        """Table row or column of each value, in place where numpy allows (a million points: every pass
        over fresh memory counts). Negative indexes become huge as unsigned and are clamped, with the
        rest beyond the table, onto its NONE border."""
        scaled = np.subtract(values, origin)
        scaled *= 1 / step
        index = scaled.astype(np.int64).view(np.uint64)
        np.minimum(index, np.uint64(size - 1), out=index)
        return index
