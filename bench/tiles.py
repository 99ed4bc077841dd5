"""Benchmark: every vector tile of the demo city at z12 and z14, for unit grids and for all components.

The floor, measured in the same run on the same tiles: ``mapbox_vector_tile.encode`` alone over the very
features each tile holds, already read, decoded, projected and clustered (what encoding costs with nothing
else). A tile costs the database read, WKB decoding, projection, clipping, simplification or clustering,
then that encoding. The city: the full demo (census scale 1.0, about 16,000 unit grids and 124,000
components) in a SQLite file under /tmp, built on the first run (about a minute).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from xiuhua.bootstrap import bootstrap
from xiuhua.demo.city import build_demo
from xiuhua.demo.sources import demo_sources
from xiuhua.geo.adapters import tiles
from xiuhua.geo.domain.layers import Layer, SourceKind
from xiuhua.geo.services import layers
from xiuhua.org.adapters import holidays
from xiuhua.org.services import calendar as calendar_service

ALL_COMPONENTS = Layer("components", "全部部件", "城市部件", SourceKind.COMPONENTS, min_zoom=10)
CITY = (114.282, 34.741, 114.440, 34.860)  # the demo grids' extent


def city_tiles(z: int) -> list[tuple[int, int]]:
    x0, y0 = tiles.tile_of(CITY[0], CITY[3], z)
    x1, y1 = tiles.tile_of(CITY[2], CITY[1], z)
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="/tmp/xiuhua_bench_tiles.db")
    parser.add_argument("--zooms", default="12,14")
    args = parser.parse_args()
    path = Path(args.database)
    fresh = not path.exists()
    rt = bootstrap(f"sqlite:///{path}")
    if fresh:
        started = time.perf_counter()
        build_demo(demo_sources(), rt.uow(), calendar_service.load_calendar(rt.uow(), holidays.statutory_days))
        print(f"demo city built in {time.perf_counter() - started:.0f} s: {path}")
    layers.seed_default_layers(rt.uow())
    layers.put_layer(ALL_COMPONENTS, rt.uow())
    with rt.uow() as uow:
        print(f"city: {uow.geo.count_grids():,} unit grids, {uow.components.count():,} components")

    print(f"{'layer':<11}{'z':>3}{'tiles':>7}{'tiles/s':>10}{'p95 ms':>9}{'max ms':>9}{'KB total':>10}"
          f"{'KB max':>8}{'floor tiles/s':>15}{'floor p95':>11}{'ratio':>7}")  # fmt: skip
    for code in ("grids", "components"):
        for z in (int(v) for v in args.zooms.split(",")):
            coords = city_tiles(z)
            layers.layer_tile(rt.uow(), code, z, *coords[0])  # warm the connection pool and caches
            ours: list[float] = []
            sizes: list[int] = []
            for x, y in coords:
                started = time.perf_counter()
                data = layers.layer_tile(rt.uow(), code, z, x, y)
                ours.append(time.perf_counter() - started)
                sizes.append(len(data))
            floor: list[float] = []
            for x, y in coords:
                features = layers.tile_features(rt.uow(), code, z, x, y)
                started = time.perf_counter()
                tiles.encode({code: features})
                floor.append(time.perf_counter() - started)
            ratio = sum(ours) / sum(floor)
            print(
                f"{code:<11}{z:>3}{len(coords):>7}{len(coords) / sum(ours):>10.1f}{p95(ours) * 1000:>9.1f}"
                f"{max(ours) * 1000:>9.1f}{sum(sizes) / 1024:>10.0f}{max(sizes) / 1024:>8.0f}"
                f"{len(coords) / sum(floor):>15.1f}{p95(floor) * 1000:>11.1f}{ratio:>7.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
