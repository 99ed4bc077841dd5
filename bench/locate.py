"""Benchmark: locating 1,000,000 points (grid, community, street, district) against a lattice floor.

The floor, measured in the same run on the same points: a bare numpy floor-division of each point onto
the unit-grid lattice. Goal (issue: geography): the locator costs at most 2× the floor. The locator
built from the demo city's generated grids; points uniform over the urban core. Run with `make bench`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import numpy as np
import shapely

from xiuhua.adapters import packagedata
from xiuhua.adapters.geo.grids import DLAT, DLON, ORIGIN, generate_grids
from xiuhua.adapters.geo.locator import Locator
from xiuhua.adapters.tabular import Row


def best_of(repeats: int, func: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=1_000_000)
    args = parser.parse_args()
    features = packagedata.read_features(packagedata.DEMO_GEOMETRY)
    regions: list[Row] = packagedata.read(packagedata.DIVISIONS)
    names = {r.get("code"): r.get("name") for r in regions}
    levels = {r.get("code"): r.get("level") for r in regions}
    shapes = [(f["properties"]["code"], shapely.geometry.shape(f["geometry"])) for f in features]
    started = time.perf_counter()
    grids = [(g.code, g.geometry, "B") for g in generate_grids([(c, g) for c, g in shapes if len(c) == 12])]
    locator = Locator(shapes, grids, names, levels)
    print(f"grids {len(grids):,} generated and indexed in {time.perf_counter() - started:.1f} s")

    rng = np.random.default_rng(1)
    lon = rng.uniform(114.29, 114.41, args.points)
    lat = rng.uniform(34.75, 34.85, args.points)

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
