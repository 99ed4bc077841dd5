"""Benchmark: loading 1,000,000 components, and bbox queries over them, on SQLite and PostgreSQL.

(b) The product's bulk load (`ComponentRepository.add`: the current register plus the first version of
each record, what the import and the census write) against the floor measured in the same run on the
same database: the driver's raw executemany of the same current-register rows into the same table,
prepared in advance as tuples, with no versions. Goal (issue: geography): at most 2× the floor. The
full import from table rows (parsing and validating every field, then the same load) is timed too.
(c) Bbox queries at that size: 500 windows of about 500 m × 500 m at random places in the city, the
current register's components in each, after the statistics are refreshed (ANALYZE, as autovacuum
does within a minute of a load); p50/p95 in ms.

Runs on SQLite (a file) and on PostgreSQL when XIUHUA_TEST_PG_URL points at a server (a database named
`<that>_bench` is created). `--scale` loads Shanghai's size instead: 12,000,000 components into
PostgreSQL (not in CI; about an hour here). Run with `make bench`.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import shapely
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from xiuhua.demo.census import DENSITY
from xiuhua.geo.adapters.component_repository import _rows
from xiuhua.geo.domain.components import AccuracyClass, Component, ComponentFilter, ComponentStatus
from xiuhua.geo.services.components import EXPORT_COLUMNS, export_row, import_components
from xiuhua.kernel.clock import FakeClock
from xiuhua.platform import packagedata
from xiuhua.platform.db import tables as t
from xiuhua.platform.db.engine import make_engine, recreate_database, upgrade
from xiuhua.platform.tabular import Row
from xiuhua.unit_of_work import SqlUnitOfWork

WEST, SOUTH, EAST, NORTH = 114.20, 34.70, 114.50, 34.90  # Kaifeng's urban area
DISTRICTS = ("410202", "410203", "410204", "410205", "410212")
AT = datetime(2026, 11, 1, tzinfo=UTC)
CHUNK = 5000


def make_components(n: int, serial: dict[tuple[str, str], int], seed: int = 1) -> list[Component]:
    """n valid component records at random places; ``serial`` numbers them per district and class, so
    successive batches sharing it never repeat an id."""
    rng = random.Random(seed)
    department = packagedata.read(packagedata.DEPARTMENTS)[0]
    classes = list(DENSITY)
    out = []
    for _ in range(n):
        district, class_code = rng.choice(DISTRICTS), rng.choice(classes)
        serial[district, class_code] = number = serial.get((district, class_code), 0) + 1
        lon, lat = rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH)
        out.append(
            Component(
                id=f"{district}{class_code}{number:06d}",
                name=f"部件{number}",
                department_code=department.get("code"),
                department_name=department.get("name"),
                grid_code=f"{district}001001{rng.randint(1, 999):03d}",
                status=ComponentStatus.INTACT,
                initial_date=date(2020, 1, 1),
                geometry=shapely.Point(lon, lat),
                lon=lon,
                lat=lat,
                accuracy=AccuracyClass.B,
            )
        )
    return out


def batches(n: int, size: int = 200_000) -> Iterator[list[Component]]:
    """The same n components on every call, made a batch at a time (12 million do not fit in memory)."""
    serial: dict[tuple[str, str], int] = {}
    for seed, start in enumerate(range(0, n, size), start=1):
        yield make_components(min(size, n - start), serial, seed)


def fresh_engine(backend: str, tmp: Path) -> Engine:
    if backend == "sqlite":
        path = tmp / "bench.db"
        path.unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{path}")
    else:
        url = make_url(os.environ["XIUHUA_TEST_PG_URL"])
        engine = make_engine(recreate_database(url.set(database=f"{url.database}_bench").render_as_string(False)))
    upgrade(engine)
    return engine


def floor(engine: Engine, n: int) -> float:
    """Seconds spent in the driver's own executemany of the current-register rows, as tuples already
    converted for the database (built outside the timing)."""
    spent = 0.0
    with engine.begin() as conn:
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        for batch in batches(n):
            rows = _rows(batch, [1] * len(batch), AT, "bench")
            columns = [t.components.c[name] for name in rows[0]]
            processors = [(i, p) for i, col in enumerate(columns) if (p := col.type.bind_processor(conn.dialect))]
            tuples = []
            for row in rows:
                values = list(row.values())
                for i, process in processors:
                    values[i] = process(values[i])
                tuples.append(tuple(values))
            names, marks = ", ".join(c.name for c in columns), ", ".join([mark] * len(columns))
            sql = f"INSERT INTO components ({names}) VALUES ({marks})"
            started = time.perf_counter()
            for i in range(0, len(tuples), CHUNK):
                conn.exec_driver_sql(sql, tuples[i : i + CHUNK])
            spent += time.perf_counter() - started
    return spent


def product_load(engine: Engine, n: int) -> float:
    """Seconds spent in the repository's bulk load, current register plus versions, one transaction."""
    spent = 0.0
    with SqlUnitOfWork(engine) as uow:
        for batch in batches(n):
            started = time.perf_counter()
            uow.components.add(batch, AT, "bench")
            spent += time.perf_counter() - started
        started = time.perf_counter()
        uow.commit()
        spent += time.perf_counter() - started
    return spent


def product_import(engine: Engine, rows: list[Row]) -> float:
    from xiuhua.demo.sources import demo_sources
    from xiuhua.org.services.catalog import import_classes

    uow = SqlUnitOfWork(engine)
    import_classes(demo_sources(geometry=False).classes, uow)
    started = time.perf_counter()
    report = import_components(rows, uow, FakeClock(AT))
    assert report.added == len(rows), report
    return time.perf_counter() - started


def bbox_p95(engine: Engine, queries: int = 500) -> tuple[float, float, float]:
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    rng = random.Random(7)
    times, found = [], []
    with SqlUnitOfWork(engine) as uow:
        for _ in range(queries):
            lon, lat = rng.uniform(WEST, EAST - 0.0055), rng.uniform(SOUTH, NORTH - 0.0045)
            where = ComponentFilter(bbox=(lon, lat, lon + 0.0055, lat + 0.0045))
            started = time.perf_counter()
            found.append(len(uow.components.find(where)))
            times.append(time.perf_counter() - started)
    q = statistics.quantiles(times, n=100)
    return q[49] * 1000, q[94] * 1000, statistics.mean(found)


def run(backend: str, n: int, with_import: bool, tmp: Path) -> None:
    engine = fresh_engine(backend, tmp)
    floor_s = floor(engine, n)
    engine.dispose()
    engine = fresh_engine(backend, tmp)
    load_s = product_load(engine, n)
    p50, p95, mean_found = bbox_p95(engine)
    engine.dispose()
    line = f"{backend:10} floor {n / floor_s:9,.0f} rows/s ({floor_s:6.1f} s)   load {n / load_s:9,.0f} rows/s"
    print(f"{line} ({load_s:6.1f} s)   ratio {load_s / floor_s:.2f} (goal <= 2.0)", flush=True)
    found = f"{mean_found:.0f} found on average"
    print(f"{'':10} bbox ~500 m × 500 m over {n:,}: p50 {p50:.1f} ms, p95 {p95:.1f} ms ({found})", flush=True)
    if with_import:
        rows = [
            Row(i + 2, dict(zip(EXPORT_COLUMNS, export_row(c), strict=True)))
            for b in batches(n)
            for i, c in enumerate(b)
        ]
        engine = fresh_engine(backend, tmp)
        import_s = product_import(engine, rows)
        engine.dispose()
        rate = f"{n / import_s:,.0f} rows/s ({import_s:.1f} s)"
        print(f"{'':10} import from table rows (parse + validate + load): {rate}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--scale", action="store_true", help="Shanghai's size: 12,000,000 components, PostgreSQL only")
    parser.add_argument("--no-import", action="store_true", help="skip the import from table rows")
    args = parser.parse_args()
    n = 12_000_000 if args.scale else args.rows
    backends = ([] if args.scale else ["sqlite"]) + (["postgresql"] if os.environ.get("XIUHUA_TEST_PG_URL") else [])
    print(f"{n:,} components (generated a batch at a time, outside the timings)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            run(backend, n, not (args.no_import or args.scale), Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
