"""Benchmark: complete case lifecycles per second through the service layer, against a bare-SQL floor.

A lifecycle is report → 受理 → 立案 → 派遣 → 处置反馈 → 派发核查 → 核查通过 → 结案: 8 use cases, each
its own transaction. The floor, measured in the same run on the same database and driver, does the
same number of transactions of bare log-row INSERTs plus case-row UPDATEs on the product's own tables,
with no logic. Goal: the service layer costs at most 3× the floor. Runs on SQLite (a file) and on PostgreSQL
when XIUHUA_TEST_PG_URL (as `make test` sets it) points at a server. Run with `make bench`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, bindparam, select, update
from sqlalchemy.engine import make_url

from xiuhua.cases.domain.commands import ActOnCase, ReportCase
from xiuhua.cases.domain.workflow import Action, Source
from xiuhua.cases.services.lifecycle import act_on_case, report_case
from xiuhua.cases.services.policy import load_policy
from xiuhua.demo.city import build_demo
from xiuhua.demo.sources import demo_sources
from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.clock import FakeClock
from xiuhua.kernel.evidence import StoredFile
from xiuhua.org.adapters import holidays
from xiuhua.org.domain.model import ClassKind
from xiuhua.org.services.actors import load_actor
from xiuhua.platform.db import tables as t
from xiuhua.platform.db.engine import make_engine, recreate_database, upgrade
from xiuhua.unit_of_work import SqlUnitOfWork

SH = ZoneInfo("Asia/Shanghai")
STEPS = 8
PHOTO = StoredFile("cd" * 32, "image/png", 100)


def lifecycles(engine: Engine, n: int) -> float:
    """Seconds for n complete lifecycles through the services."""
    uow = SqlUnitOfWork(engine)
    build_demo(demo_sources(geometry=False), uow, load_policy(uow, holidays.statutory_days).timing.calendar)
    policy = load_policy(uow, holidays.statutory_days)
    clock = FakeClock(datetime(2026, 3, 2, 8, tzinfo=SH))
    supervisor = "supervisor_410202001"
    actors = {
        name: load_actor(uow, name)
        for name in ("supervisor_410202001", "acceptor1", "shiftleader1", "dispatcher_410202")
    }
    with uow:
        standard = next(s.id for s in uow.catalog.standards() if s.code == "01001")
    handler = None
    start = time.perf_counter()
    for i in range(n):
        clock.advance(minutes=7)
        where = Location(114.30 + i * 1e-4, 34.78, f"测试点 {i}", "410202", "410202001", "410202001009", None, "B")
        case_no = report_case(
            ReportCase(actors[supervisor], Source.SUPERVISOR, ClassKind.COMPONENT, "01001", where, "井盖缺失"),
            uow, clock, policy,
        ).case_no  # fmt: skip
        act_on_case(ActOnCase(case_no, Action.ACCEPT, actors["acceptor1"]), uow, clock, policy)
        act_on_case(ActOnCase(case_no, Action.FILE, actors["shiftleader1"], standard_id=standard), uow, clock, policy)
        act_on_case(ActOnCase(case_no, Action.DISPATCH, actors["dispatcher_410202"]), uow, clock, policy)
        if handler is None:
            with uow:
                department = uow.cases.get(case_no).department_code  # type: ignore[union-attr]
            handler = load_actor(uow, "handler_" + str(department).lower())
        act_on_case(ActOnCase(case_no, Action.FEEDBACK, handler, photos=(PHOTO,)), uow, clock, policy)
        act_on_case(ActOnCase(case_no, Action.SEND_CHECK, actors["acceptor1"]), uow, clock, policy)
        act_on_case(ActOnCase(case_no, Action.CHECK_PASS, actors["supervisor_410202001"]), uow, clock, policy)
        act_on_case(ActOnCase(case_no, Action.CLOSE, actors["shiftleader1"]), uow, clock, policy)
    return time.perf_counter() - start


def floor(engine: Engine, n: int) -> float:
    """Seconds for the same transactions with no logic: per lifecycle, one INSERT of a case row and a log
    row, then seven of an UPDATE of the case row and an INSERT of a log row, into the product's tables
    with their indexes, with values copied from a finished case."""
    with engine.connect() as conn:
        case = dict(conn.execute(select(t.cases).order_by(t.cases.c.id.desc()).limit(1)).mappings().one())
        entry = dict(conn.execute(select(t.case_log).order_by(t.case_log.c.id.desc()).limit(1)).mappings().one())
    case.pop("id")
    entry.pop("id")
    insert_case = t.cases.insert().returning(t.cases.c.id)
    update_case = (
        update(t.cases)
        .where(t.cases.c.id == bindparam("b_id"), t.cases.c.version == bindparam("b_version"))
        .values(version=bindparam("b_new"), state=bindparam("b_state"), details=bindparam("b_details"))
    )
    start = time.perf_counter()
    for i in range(n):
        with engine.begin() as conn:
            case_id = conn.execute(
                insert_case, {**case, "case_no": f"F{i:09d}", "idempotency_key": None, "version": 1}
            ).scalar_one()
            conn.execute(t.case_log.insert(), {**entry, "case_id": case_id, "seq": 1})
        for seq in range(2, STEPS + 1):
            with engine.begin() as conn:
                conn.execute(update_case, {"b_id": case_id, "b_version": seq - 1, "b_new": seq, "b_state": "x",
                                           "b_details": case["details"]})  # fmt: skip
                conn.execute(t.case_log.insert(), {**entry, "case_id": case_id, "seq": seq})
    return time.perf_counter() - start


def measure(label: str, url: str, n: int) -> float:
    engine = make_engine(url)
    upgrade(engine)
    services_s = lifecycles(engine, n)
    floor_s = floor(engine, n)
    engine.dispose()
    ratio = services_s / floor_s
    print(f"{label:10s} lifecycles {n:5d}   services {n / services_s:8.1f}/s   floor {n / floor_s:8.1f}/s   "
          f"ratio {ratio:.2f} (goal <= 3.0)")  # fmt: skip
    return ratio


def fresh_pg(url: str) -> str | None:
    try:
        return recreate_database(make_url(url).set(database="xiuhua_bench").render_as_string(hide_password=False))
    except Exception as exc:
        print(f"PostgreSQL skipped: {exc.__class__.__name__}")
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lifecycles", type=int, default=300)
    args = parser.parse_args()
    ratios = []
    with tempfile.TemporaryDirectory() as folder:
        ratios.append(measure("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", args.lifecycles))
    pg = os.environ.get("XIUHUA_TEST_PG_URL")
    if pg and (url := fresh_pg(pg)):
        ratios.append(measure("PostgreSQL", url, args.lifecycles))
    return 0 if all(r <= 3.0 for r in ratios) else 1


if __name__ == "__main__":
    sys.exit(main())
