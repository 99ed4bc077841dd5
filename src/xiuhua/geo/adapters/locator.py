"""Point → unit grid, community, street and district, for one point or a million (shapely STRtree)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from xiuhua.geo.adapters.lattice_index import LatticeIndex
from xiuhua.geo.domain.geography import Place
from xiuhua.kernel.errors import InvalidInputError

IntArray = npt.NDArray[np.int64]
BATCH_FOR_LATTICE = 50_000


class Locator:
    """Built once from the stored shapes; answers with indexes into its own lists (-1: not found)."""

    def __init__(
        self,
        regions: Sequence[tuple[str, BaseGeometry]],
        grids: Sequence[tuple[str, BaseGeometry, str]],
        names: Mapping[str, str],
        levels: Mapping[str, str],
    ) -> None:
        """regions: (code, polygon) of districts, streets and communities; grids: (code, polygon, area class)."""
        self.names = names
        self.region_codes = {
            level: [c for c, _ in regions if levels[c] == level] for level in ("district", "street", "community")
        }
        shapes = dict(regions)
        self.trees = {level: shapely.STRtree([shapes[c] for c in codes]) for level, codes in self.region_codes.items()}
        self.grid_codes = [code for code, _, _ in grids]
        self.grid_classes = [area for _, _, area in grids]
        self.grid_geoms = [g for _, g, _ in grids]
        self.grid_tree = shapely.STRtree(self.grid_geoms)
        self._lattice: LatticeIndex | None = None
        # A grid's code carries its community, street and district: index them once.
        position = {level: {c: k for k, c in enumerate(codes)} for level, codes in self.region_codes.items()}
        # Grids tile the regions they belong to, so a point outside every grid can only lie in a region
        # of a level where some region has no grids (a district with rural towns, say).
        gridded = {code[:n] for code in self.grid_codes for n in (6, 9, 12)}
        self.beyond_grids = {level for level, codes in self.region_codes.items() if set(codes) - gridded}
        # One extra -1 at the end: a grid index of -1 (no grid) looks that up and gets no region.
        self.grid_regions = {
            level: np.array([position[level].get(code[:n], -1) for code in self.grid_codes] + [-1], dtype=np.int64)
            for level, n in (("community", 12), ("street", 9), ("district", 6))
        }

    @staticmethod
    def _first_hit(tree: shapely.STRtree, points: npt.NDArray[np.object_]) -> IntArray:
        point_i, shape_i = tree.query(points, predicate="intersects")
        out = np.full(len(points), -1, dtype=np.int64)
        # The lowest-numbered shape wins on a shared border: the tree answers in no particular order, so
        # sort by point and shape and assign in reverse, leaving each point's first.
        order = np.lexsort((shape_i, point_i))[::-1]
        out[point_i[order]] = shape_i[order]
        return out

    def locate_many(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> dict[str, IntArray]:
        """Indexes of the grid, community, street and district of each point (-1 where none)."""
        xs, ys = np.atleast_1d(np.asarray(lon, dtype=float)), np.atleast_1d(np.asarray(lat, dtype=float))
        grid = self._grids_of(xs, ys)
        found = {"grid": grid}
        rest = np.flatnonzero(grid < 0) if self.beyond_grids else np.empty(0, dtype=np.int64)
        points: npt.NDArray[np.object_] = shapely.points(xs[rest], ys[rest])  # type: ignore[assignment]
        for level, tree in self.trees.items():
            index = self.grid_regions[level].take(grid)
            if rest.size and level in self.beyond_grids:  # outside every grid: ask the outlines themselves
                index[rest] = self._first_hit(tree, points)
            found[level] = index
        return found

    def _grids_of(self, xs: npt.NDArray[np.float64], ys: npt.NDArray[np.float64]) -> IntArray:
        """Large batches go through the lattice table (built on first use, a few seconds for a city);
        small ones ask the tree of grid polygons directly."""
        if len(xs) >= BATCH_FOR_LATTICE and self.grid_geoms:
            if self._lattice is None:
                self._lattice = LatticeIndex(self.grid_geoms)
            return self._lattice.lookup(xs, ys)
        points: npt.NDArray[np.object_] = shapely.points(xs, ys)  # type: ignore[assignment]
        return self._first_hit(self.grid_tree, points)

    def locate(self, lon: float, lat: float) -> Place:
        """Where one point lies; raises InvalidInputError ("geo.outside") outside every district."""
        hit = {level: int(index[0]) for level, index in self.locate_many([lon], [lat]).items()}
        if hit["district"] < 0:
            raise InvalidInputError("geo.outside", f"坐标 ({lon}, {lat}) 不在本市范围内", lon=lon, lat=lat)
        code = {level: self.region_codes[level][i] if i >= 0 else None for level, i in hit.items() if level != "grid"}
        grid = hit["grid"]
        return Place(
            lon=lon,
            lat=lat,
            district_code=str(code["district"]),
            district_name=self.names[str(code["district"])],
            street_code=code["street"],
            street_name=self.names.get(code["street"] or ""),
            community_code=code["community"],
            community_name=self.names.get(code["community"] or ""),
            grid_code=self.grid_codes[grid] if grid >= 0 else None,
            area_class=self.grid_classes[grid] if grid >= 0 else None,
        )
