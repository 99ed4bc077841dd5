"""Benchmark: HTTP throughput with concurrent clients on loopback, against the same server's floor.

A real uvicorn server (`xiuhua serve`'s application) on a demo city; httpx clients on loopback, each
keeping one request in flight. Measured in the same run, on the same server:

- floor: GET /api/v1/auth/me, the trivial authenticated endpoint (token check and session lookup);
- intake: POST /api/v1/cases, a supervisor's report (duplicate search, numbering, log, outbox);
- lifecycle: report → 受理 → 立案 → 派遣 → 处置反馈 → 派发核查 → 核查通过 → 结案, 8 requests by 6 accounts.

Goal: intake reaches at least 30 % of the floor's requests per second. Prints p50/p99 latencies too. Runs
on SQLite (a file, one worker process) and on PostgreSQL (several workers) when XIUHUA_TEST_PG_URL is set.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from PIL import Image
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import make_url

from xiuhua.cases.services.policy import load_policy
from xiuhua.demo.city import DEMO_PASSWORD, build_demo
from xiuhua.demo.sources import demo_sources
from xiuhua.kernel.clock import SystemClock
from xiuhua.org.adapters import holidays
from xiuhua.org.services import accounts
from xiuhua.platform import packagedata
from xiuhua.platform.db.engine import make_engine, recreate_database, upgrade
from xiuhua.unit_of_work import SqlUnitOfWork

GOAL = 0.30
CLASSES = 20
SUPERVISOR, ACCEPTOR, SHIFT, DISPATCHER = "supervisor_410202001", "acceptor1", "shiftleader1", "dispatcher_410202"
HANDLER = "handler_91410204bhj5q4x12m"
COMMUNITY = "410202001009"  # the supervisor's
USERS = (SUPERVISOR, ACCEPTOR, SHIFT, DISPATCHER, HANDLER, "leader")


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (0, 160, 0)).save(buffer, "PNG")
    return buffer.getvalue()


def prepare(url: str) -> tuple[int, list[str], list[tuple[float, float]]]:
    """A demo city with logins and its outlines (reports are located by them); returns the id of a case
    standard for class 01001, the component classes reports are spread over (as a city's are), and points
    spread over the supervisor's community."""
    engine = make_engine(url)
    upgrade(engine)
    uow = SqlUnitOfWork(engine)
    build_demo(demo_sources(geometry=False), uow, load_policy(uow, holidays.statutory_days).timing.calendar)
    accounts.ensure_staff_logins(USERS, DEMO_PASSWORD, uow, SystemClock(), accounts.AuthRules())
    outlines = {
        f["properties"]["code"]: shape(f["geometry"]) for f in packagedata.read_features(packagedata.DEMO_GEOMETRY)
    }
    with uow:
        known = uow.regions.codes()
        uow.geo.put_region_shapes([(code, geom, True, "demo") for code, geom in outlines.items() if code in known])
        uow.commit()
    with uow:
        standard = next(s.id for s in uow.catalog.standards() if s.code == "01001")
        classes = [c.code for c in uow.catalog.classes() if c.kind.value == "component"][:CLASSES]
    engine.dispose()
    assert standard is not None
    return standard, classes, points_in(outlines[COMMUNITY].buffer(-2e-5))


def points_in(area: BaseGeometry, n: int = 1000) -> list[tuple[float, float]]:
    """Points on a lattice over the area's bounding box that lie inside it, about n of them."""
    west, south, east, north = area.bounds
    step = ((east - west) * (north - south) / n) ** 0.5
    lattice = ((west + step * (i + 0.5), south + step * (j + 0.5)) for i in range(int((east - west) / step))
               for j in range(int((north - south) / step)))  # fmt: skip
    return [p for p in lattice if area.contains(Point(p))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, evidence: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "XIUHUA_DATABASE_URL": url, "XIUHUA_EVIDENCE_DIR": str(evidence)}
    command = [sys.executable, "-m", "uvicorn", "xiuhua.entrypoints.http.app:create_app", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--log-level", "warning",
               "--no-access-log"]  # fmt: skip
    server = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the server did not start")


@dataclass
class Result:
    requests: int = 0
    errors: int = 0
    units: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000 if ordered else 0.0


async def run(concurrency: int, seconds: float, unit: Callable[[int, Result], Awaitable[None]]) -> Result:
    """Each of ``concurrency`` clients repeats ``unit`` until time is up."""
    result = Result()
    stop = time.perf_counter() + seconds

    async def client(k: int) -> None:
        i = 0
        while time.perf_counter() < stop:
            await unit(k * 1_000_000 + i, result)
            result.units += 1
            i += 1

    start = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(concurrency)))
    result.seconds = time.perf_counter() - start
    return result


async def timed(client: httpx.AsyncClient, result: Result, method: str, path: str, **kw: object) -> httpx.Response:
    t0 = time.perf_counter()
    r = await client.request(method, path, **kw)  # type: ignore[arg-type]
    result.latencies.append(time.perf_counter() - t0)
    result.requests += 1
    if r.status_code >= 400:
        result.errors += 1
    return r


async def bench(
    port: int, standard: int, classes: list[str], points: list[tuple[float, float]], concurrency: int, seconds: float
) -> dict[str, Result]:
    base = f"http://127.0.0.1:{port}/api/v1"
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        auth = {}
        for user in USERS:
            r = await client.post("/auth/token", data={"username": user, "password": DEMO_PASSWORD})
            r.raise_for_status()
            auth[user] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        up = await client.post("/evidence", headers=auth[HANDLER], files={"file": ("p.png", png(), "image/png")})
        up.raise_for_status()
        photo = up.json()["sha256"]

        def report_body(i: int, class_code: str | None = None) -> dict[str, object]:
            # reports spread over classes and over the supervisor's community, as a city's are
            lon, lat = points[i * 7919 % len(points)]
            return {"kind": "component", "class_code": class_code or classes[i % len(classes)],
                    "description": "部件损坏", "address": f"测试点 {i}", "lon": lon, "lat": lat,
                    "community_code": COMMUNITY}  # fmt: skip

        async def floor(i: int, result: Result) -> None:
            await timed(client, result, "GET", "/auth/me", headers=auth["leader"])

        async def intake(i: int, result: Result) -> None:
            await timed(client, result, "POST", "/cases", headers=auth[SUPERVISOR], json=report_body(i))

        async def lifecycle(i: int, result: Result) -> None:
            r = await timed(
                client, result, "POST", "/cases", headers=auth[SUPERVISOR], json=report_body(i + 500_000, "01001")
            )
            case_no = r.json()["case_no"]
            for action, user, body in (
                ("accept", ACCEPTOR, None), ("file", SHIFT, {"standard_id": standard}), ("dispatch", DISPATCHER, None),
                ("feedback", HANDLER, {"photos": [photo]}), ("send_check", ACCEPTOR, None),
                ("check_pass", SUPERVISOR, None), ("close", SHIFT, None),
            ):  # fmt: skip
                await timed(client, result, "POST", f"/cases/{case_no}/{action}", headers=auth[user], json=body)

        await run(concurrency, 1.0, floor)  # warm up every worker and connection
        return {
            "floor": await run(concurrency, seconds, floor),
            "intake": await run(concurrency, seconds, intake),
            "lifecycle": await run(concurrency, seconds, lifecycle),
        }


def measure(label: str, url: str, workers: int, concurrency: int, seconds: float) -> float:
    standard, classes, points = prepare(url)
    port = free_port()
    with tempfile.TemporaryDirectory() as evidence:
        server = start_server(url, Path(evidence), port, workers)
        try:
            results = asyncio.run(bench(port, standard, classes, points, concurrency, seconds))
        finally:
            server.terminate()
            server.wait(30)
    floor_rps = results["floor"].rps()
    print(f"{label} ({workers} worker process{'es' if workers > 1 else ''}, {concurrency} concurrent clients, "
          f"{seconds:.0f} s each)")  # fmt: skip
    for name, r in results.items():
        extra = f"   lifecycles {r.units / r.seconds:7.1f}/s" if name == "lifecycle" else ""
        print(f"  {name:9s} {r.rps():8.1f} req/s   {r.rps() / floor_rps:6.1%} of floor   p50 {r.pct(0.5):7.1f} ms   "
              f"p99 {r.pct(0.99):7.1f} ms   errors {r.errors}{extra}")  # fmt: skip
    ratio = results["intake"].rps() / floor_rps
    print(f"  intake / floor = {ratio:.1%} (goal >= {GOAL:.0%})")
    return ratio if results["intake"].errors == 0 and results["lifecycle"].errors == 0 else 0.0


def fresh_pg(url: str, name: str) -> str | None:
    try:
        return recreate_database(make_url(url).set(database=name).render_as_string(hide_password=False))
    except Exception as exc:
        print(f"PostgreSQL skipped: {exc.__class__.__name__}")
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10, help="per scenario")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--pg-workers", type=int, default=min(os.cpu_count() or 1, 4))
    args = parser.parse_args()
    ratios = []
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        ratios.append(measure("SQLite", url, 1, args.concurrency, args.seconds))
    pg = os.environ.get("XIUHUA_TEST_PG_URL")
    if pg and (url := fresh_pg(pg, "xiuhua_bench_http")):
        ratios.append(measure("PostgreSQL", url, args.pg_workers, args.concurrency, args.seconds))
    return 0 if all(r >= GOAL for r in ratios) else 1


if __name__ == "__main__":
    sys.exit(main())
