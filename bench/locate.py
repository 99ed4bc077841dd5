"""Benchmark: locating 1,000,000 points (grid, community, street, district) against a lattice floor.

The floor, measured in the same run on the same points: a bare numpy floor-division of each point onto
the unit-grid lattice. Goal (issue: geography): the locator costs at most 2× the floor. The locator
built from the demo city's generated grids; points uniform over the urban core. `--scale` does the same
on a synthetic city of Shanghai's grid count (about 40,000). Run with `make bench`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from xiuhua.geo.adapters.grids import DLAT, DLON, ORIGIN, generate_grids
from xiuhua.geo.adapters.locator import Locator
from xiuhua.platform import packagedata
from xiuhua.platform.tabular import Row


def best_of(repeats: int, func: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return min(times)


def kaifeng() -> tuple[list[tuple[str, BaseGeometry]], dict[str, str], dict[str, str], tuple[float, ...]]:
    """The demo city's outlines (districts, streets, communities) and the window over its urban core."""
    features = packagedata.read_features(packagedata.DEMO_GEOMETRY)
    regions: list[Row] = packagedata.read(packagedata.DIVISIONS)
    names = {r.get("code"): r.get("name") for r in regions}
    levels = {r.get("code"): r.get("level") for r in regions}
    shapes = [(f["properties"]["code"], shapely.geometry.shape(f["geometry"])) for f in features]
    return shapes, names, levels, (114.29, 34.75, 114.41, 34.85)


def megacity() -> tuple[list[tuple[str, BaseGeometry]], dict[str, str], dict[str, str], tuple[float, ...]]:
    """A synthetic city of Shanghai's grid count: one district, 10 streets, about 1,200 Voronoi
    communities over some 430 km², which the generator cuts into about 40,000 unit grids."""
    window = (120.0, 31.0, 120.0 + 0.0011 * 220, 31.0 + 0.0009 * 190)
    rng = np.random.default_rng(2)
    seeds = shapely.multipoints(np.column_stack([rng.uniform(window[0], window[2], 1200),
                                                 rng.uniform(window[1], window[3], 1200)]))  # fmt: skip
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=shapely.box(*window)))
    cells = shapely.intersection(cells, shapely.box(*window))
    cells = sorted(cells, key=lambda g: (g.centroid.x, g.centroid.y))
    district = "310101"
    shapes: list[tuple[str, BaseGeometry]] = [(district, shapely.box(*window))]
    names, levels = {district: "合成区"}, {district: "district"}
    for street_no, part in enumerate(np.array_split(np.arange(len(cells)), 10), start=1):
        street = f"{district}{street_no:03d}"
        shapes.append((street, shapely.union_all([cells[i] for i in part])))
        names[street], levels[street] = f"合成街道{street_no}", "street"
        for community_no, i in enumerate(part, start=1):
            code = f"{street}{community_no:03d}"
            shapes.append((code, cells[i]))
            names[code], levels[code] = f"合成社区{street_no}-{community_no}", "community"
    return shapes, names, levels, window


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--scale", action="store_true", help="a synthetic city of Shanghai's size (~40,000 grids)")
    args = parser.parse_args()
    shapes, names, levels, window = megacity() if args.scale else kaifeng()
    started = time.perf_counter()
    grids = [(g.code, g.geometry, "B") for g in generate_grids([(c, g) for c, g in shapes if len(c) == 12])]
    locator = Locator(shapes, grids, names, levels)
    print(f"grids {len(grids):,} generated and indexed in {time.perf_counter() - started:.1f} s")

    rng = np.random.default_rng(1)
    lon = rng.uniform(window[0], window[2], args.points)
    lat = rng.uniform(window[1], window[3], args.points)

    started = time.perf_counter()
    locator.locate_many(lon[:60_000], lat[:60_000])  # builds the lattice table once
    print(f"lattice table built in {time.perf_counter() - started:.1f} s")

    def lattice_floor() -> object:
        i = np.floor((lon - ORIGIN[0]) / DLON).astype(np.int64)
        j = np.floor((lat - ORIGIN[1]) / DLAT).astype(np.int64)
        return j * 1_000_000 + i

    floor_s = best_of(5, lattice_floor)
    locate_s = best_of(5, lambda: locator.locate_many(lon, lat))
    index = locator._lattice
    assert index is not None
    lookup_s = best_of(5, lambda: index.lookup(lon, lat))
    found = locator.locate_many(lon, lat)
    cells = len(np.unique(np.floor((lon - ORIGIN[0]) / DLON) * 1e6 + np.floor((lat - ORIGIN[1]) / DLAT)))
    inside = int((found["grid"] >= 0).sum())
    ratio = locate_s / floor_s
    print(f"points                {args.points:,} ({inside:,} inside a grid; {cells:,} lattice cells)")
    print(f"floor: lattice index  {floor_s * 1000:9.1f} ms")
    print(f"grid look-up alone    {lookup_s * 1000:9.1f} ms   ratio {lookup_s / floor_s:.2f}")
    print(f"locator (four levels) {locate_s * 1000:9.1f} ms   ratio {ratio:.2f} (goal <= 2.0)")
    return 0 if ratio <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
