"""Benchmark: one month's whole evaluation over a year of a big city (1,000,000 cases) on SQLite and PostgreSQL.

Cases and their logs are generated set-based, straight into the tables (INSERT … SELECT over a number
series: no Python loop per case), on top of the demo city's regions, departments and staff. The logs
follow the closed loop (report, accept or verify, file, dispatch, feedback, check, close; some voided,
reworked, left open, extended or urged) but carry placeholder hashes: the benchmark does not audit them.

The generator writes the log without going through the use cases, so it then builds the measured month's
tallies from the log (`xiuhua evaluation rebuild-tallies --month`), as after a bulk load.

Baseline, measured in the same run on the same database: one raw SQL GROUP BY computing 结案率 per
department over the same month of the cases table (the floor). Goal: the whole evaluation (every
object type, every indicator, ranks, grades, hot spots) within 3× the floor. The same days evaluated
as a range of days (read from the log, not from the tallies) are timed for reference, and must give
the same objects and hot spots. Each figure is the best of --repeats runs. Scale mode (not CI):
--cases 10000000 --backend postgresql.

    python bench/evaluation.py                       # SQLite and PostgreSQL (XIUHUA_BENCH_PG_URL)
    python bench/evaluation.py --backend sqlite --cases 200000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text

from xiuhua.demo.city import build_demo
from xiuhua.demo.sources import demo_sources
from xiuhua.evaluation.domain.model import Period, PeriodKind, scheme_in_force
from xiuhua.evaluation.services import evaluate as ev
from xiuhua.org.adapters import holidays
from xiuhua.org.services import calendar as calendar_service
from xiuhua.platform.db.engine import make_engine, recreate_database, upgrade
from xiuhua.unit_of_work import SqlUnitOfWork

YEAR_SECONDS = 365 * 86_400
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/xiuhua_bench_eval"
H = "((i * 2654435761) % 1000003)"  # a deterministic scramble of the case number
OC = f"({H} % 100)"  # outcome: < 4 voided, < 9 left open, < 15 reworked, else closed
DUR = f"(600 * (1 + {H} % 24))"  # disposal duration in seconds: 10 min to 4 h (limit 2 h)

# seq, action, from, to, step, offset (s after report), on time, condition, actor, role, data (SQL or None)
STEPS: list[tuple[int, str, str | None, str, str | None, str, str | None, str, str, str, str | None]] = [
    (1, "report", None, "reported", None, "0", None, "1=1", "supervisor_410202001", "supervisor", None),
    (2, "accept", "reported", "accepted", "accept", "300", "1=1", f"{H} % 10 < 6", "acceptor1", "acceptor", None),
    (2, "send_verify", "reported", "verifying", "accept", "300", "1=1", f"{H} % 10 >= 6", "acceptor1", "acceptor",
     None),
    (3, "verify", "verifying", "accepted", "verify", "600", f"{H} % 11 <> 0", f"{H} % 10 >= 6",
     "supervisor_410202001", "supervisor", None),
    (4, "void", "accepted", "voided", "file", "700", "1=1", f"{OC} < 4", "shiftleader1", "shift_leader", None),
    (4, "file", "accepted", "filed", "file", "900", f"{H} % 7 <> 0", f"{OC} >= 4", "shiftleader1", "shift_leader",
     None),
    (5, "dispatch", "filed", "dispatched", "dispatch", "1200", f"{H} % 9 <> 0", f"{OC} >= 4", "dispatcher_410202",
     "dispatcher", "DEPT"),
    (6, "feedback", "dispatched", "disposed", "dispose", f"1200 + {DUR}", f"{DUR} <= 7200", f"{OC} >= 9", "handler",
     "handler", None),
    (7, "send_check", "disposed", "checking", "send_check", f"1500 + {DUR}", "1=1", f"{OC} >= 9", "acceptor2",
     "acceptor", None),
    (8, "check_fail", "checking", "checked", "check", f"2400 + {DUR}", "1=1", f"{OC} >= 9 AND {OC} < 15",
     "supervisor_410202001", "supervisor", None),
    (8, "check_pass", "checking", "checked", "check", f"2400 + {DUR}", "1=1", f"{OC} >= 15", "supervisor_410202001",
     "supervisor", None),
    (9, "rework", "checked", "dispatched", "close", f"2700 + {DUR}", "1=1", f"{OC} >= 9 AND {OC} < 15", "shiftleader1",
     "shift_leader", None),
    (10, "feedback", "dispatched", "disposed", "dispose", f"4500 + {DUR}", "1=1", f"{OC} >= 9 AND {OC} < 15",
     "handler", "handler", None),
    (11, "send_check", "disposed", "checking", "send_check", f"4800 + {DUR}", "1=1", f"{OC} >= 9 AND {OC} < 15",
     "acceptor2", "acceptor", None),
    (12, "check_pass", "checking", "checked", "check", f"5700 + {DUR}", "1=1", f"{OC} >= 9 AND {OC} < 15",
     "supervisor_410202001", "supervisor", None),
    (13, "close", "checked", "closed", "close", f"CASE WHEN {OC} < 15 THEN 6000 ELSE 2700 END + {DUR}",
     f"{H} % 8 <> 0", f"{OC} >= 9", "shiftleader1", "shift_leader", None),
    (50, "urge", "dispatched", "dispatched", None, "1300", None, f"{OC} >= 4 AND {H} % 13 = 0", "system", "system",
     None),
    (51, "approve", "extension_requested", "dispatched", None, "1250", None, f"{OC} >= 9 AND {H} % 17 = 0",
     "dispatcher_410202", "dispatcher", None),
]  # fmt: skip


class Dialect:
    def __init__(self, engine: Engine) -> None:
        self.pg = engine.dialect.name == "postgresql"

    def numbers(self, n: int) -> str:
        if self.pg:
            return f"(SELECT i FROM generate_series(CAST(1 AS BIGINT), {n}) AS g(i))"
        return f"(WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {n}) SELECT i FROM g)"

    def ts(self, seconds: str) -> str:
        """A timestamp ``seconds`` after 2026-01-01 00:00 UTC, as the UTCDateTime column stores it."""
        if self.pg:
            return f"(TIMESTAMP '2026-01-01 00:00:00' + ({seconds}) * INTERVAL '1 second')"
        return f"(strftime('%Y-%m-%d %H:%M:%S', '2026-01-01 00:00:00', '+' || ({seconds}) || ' seconds') || '.000000')"

    def bool(self, condition: str | None) -> str:
        if condition is None:
            return "NULL"
        return f"(CASE WHEN {condition} THEN {'TRUE' if self.pg else '1'} ELSE {'FALSE' if self.pg else '0'} END)"


def generate(engine: Engine, cases: int, month: str, say: Callable[[str], None]) -> None:
    """Create the schema, the demo city's organisation, and ``cases`` cases with their logs."""
    upgrade(engine)
    uow = SqlUnitOfWork(engine)
    build_demo(demo_sources(geometry=False), uow, calendar_service.load_calendar(uow, holidays.statutory_days))
    d = Dialect(engine)
    start = f"((i - 1) * {YEAR_SECONDS} / {cases})"
    with engine.begin() as conn:
        communities = conn.execute(
            text(
                "SELECT c.code, s.code, s.parent_code FROM regions c JOIN regions s ON s.code = c.parent_code "
                "WHERE c.level = 'community' AND s.parent_code IN ('410202', '410203', '410204', '410205', "
                "'410211', '410212') ORDER BY c.code"
            )
        ).all()
        depts = conn.execute(text("SELECT code FROM organizations WHERE kind = 'department' ORDER BY code")).all()
        conn.execute(text("CREATE TABLE bench_places (idx INTEGER PRIMARY KEY, district VARCHAR(12), "
                          "street VARCHAR(12), community VARCHAR(12))"))  # fmt: skip
        conn.execute(text("CREATE TABLE bench_depts (idx INTEGER PRIMARY KEY, code VARCHAR(18))"))
        conn.execute(text("INSERT INTO bench_places VALUES (:i, :d, :s, :c)"),
                     [{"i": i, "d": d_, "s": s, "c": c} for i, (c, s, d_) in enumerate(communities)])  # fmt: skip
        conn.execute(
            text("INSERT INTO bench_depts VALUES (:i, :c)"), [{"i": i, "c": c} for i, (c,) in enumerate(depts)]
        )
        places, departments = len(communities), len(depts)
        t0 = time.perf_counter()
        conn.execute(
            text(f"""
            INSERT INTO cases (id, case_no, version, source, kind, class_code, state, urgency, description, reporter,
                lon, lat, address, district_code, street_code, community_code, area_class, needs_verification,
                reported_at, dispatched_at, closed_at, department_code, repeat_of, overdue, overnight, details,
                log_head, log_seq)
            SELECT i, 'B' || i, 1, CASE WHEN {H} % 10 < 6 THEN 'supervisor' ELSE 'public' END, 'component', '01001',
                CASE WHEN {OC} < 4 THEN 'voided' WHEN {OC} < 9 THEN 'dispatched' ELSE 'closed' END, 'normal', '',
                'bench', 114.30 + ({H} % 1000) * 0.0001, 34.76 + (({H} / 1000) % 700) * 0.0001, '', p.district,
                p.street, p.community, 'B', {d.bool(f"{H} % 10 >= 6")}, {d.ts(start)},
                CASE WHEN {OC} >= 4 THEN {d.ts(f"{start} + 1200")} END,
                CASE WHEN {OC} < 4 THEN {d.ts(f"{start} + 700")}
                     WHEN {OC} >= 9 THEN {d.ts(f"{start} + CASE WHEN {OC} < 15 THEN 6000 ELSE 2700 END + {DUR}")} END,
                CASE WHEN {OC} >= 4 THEN q.code END, CASE WHEN {H} % 50 = 0 THEN 'B1' END,
                {d.bool("1=0")}, {d.bool("1=0")}, '{{}}', '-', 13
            FROM {d.numbers(cases)} AS n
            JOIN bench_places p ON p.idx = {H} % {places}
            JOIN bench_depts q ON q.idx = ({H} / 7) % {departments}
            """)
        )
        say(f"  cases: {cases:,} rows in {time.perf_counter() - t0:.1f} s")
        for seq, action, source, target, step, offset, on_time, condition, actor, role, data in STEPS:
            t0 = time.perf_counter()
            data_sql = "'{}'"
            joins = ""
            if data == "DEPT":
                data_sql = "'{\"department\": \"' || q.code || '\"}'"
                joins = f"JOIN bench_depts q ON q.idx = ({H} / 7) % {departments}"
            conn.execute(
                text(f"""
                INSERT INTO case_log (case_id, seq, at, actor, role, action, from_state, to_state, reason,
                    attachments, data, step, step_due_at, on_time, prev_hash, hash)
                SELECT i, {seq}, {d.ts(f"{start} + {offset}")}, '{actor}', '{role}', '{action}',
                    {f"'{source}'" if source else "NULL"}, '{target}', '', '[]', {data_sql},
                    {f"'{step}'" if step else "NULL"}, NULL, {d.bool(on_time)}, '-', '-'
                FROM {d.numbers(cases)} AS n {joins}
                WHERE {condition}
                """)
            )
            say(f"  log {seq:>2} {action:<12} {time.perf_counter() - t0:.1f} s")
        conn.execute(text("DROP TABLE bench_places"))
        conn.execute(text("DROP TABLE bench_depts"))
    # as autovacuum would have by then: statistics, and the visibility map that index-only scans need
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if d.pg else "ANALYZE"))
    t0 = time.perf_counter()
    ev.rebuild_tallies(SqlUnitOfWork(engine), month=month)
    say(f"  tallies of {month} built from the log in {time.perf_counter() - t0:.1f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE evaluation_tallies" if d.pg else "ANALYZE"))


def best_of(repeats: int, func: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - t0)
    return best, result


def measure(engine: Engine, month: str, repeats: int) -> tuple[float, float, float, int]:
    period = Period.parse(month)
    start, end = period.bounds(ev.TZ)
    floor_sql = text(
        "SELECT department_code, SUM(CASE WHEN state = 'closed' THEN 1 ELSE 0 END) * 1.0 / COUNT(*) FROM cases "
        "WHERE reported_at >= :start AND reported_at < :end AND department_code IS NOT NULL GROUP BY department_code"
    )
    is_pg = engine.dialect.name == "postgresql"
    bounds = {"start": start.replace(tzinfo=None), "end": end.replace(tzinfo=None)}
    if not is_pg:
        bounds = {k: v.strftime("%Y-%m-%d %H:%M:%S.%f") for k, v in bounds.items()}

    def floor() -> object:
        with engine.connect() as conn:
            return conn.execute(floor_sql, bounds).all()

    def evaluation(of: Period) -> Callable[[], object]:
        def run() -> object:
            uow = SqlUnitOfWork(engine)
            with uow:
                scheme = scheme_in_force(ev.load_schemes(uow), period)
                return ev.compute(uow, of, scheme)

        return run

    same_days = Period(PeriodKind.RANGE, period.first, period.last)
    floor_s, rows = best_of(repeats, floor)
    eval_s, result = best_of(repeats, evaluation(period))
    log_s, from_log = best_of(1, evaluation(same_days))
    assert isinstance(result, ev.EvaluationResult) and isinstance(from_log, ev.EvaluationResult)
    assert isinstance(rows, list)
    closed = {r.code: r.values["close_rate"] for r in result.objects["department"]}
    assert len(rows) == len(closed), "the floor and the evaluation see the same departments"
    assert result.objects == from_log.objects and result.hotspots == from_log.hotspots, "tallies differ from the log"
    return floor_s, eval_s, log_s, result.cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--sqlite-path", default="/tmp/xiuhua_bench_eval.db")
    parser.add_argument("--pg-url", default=os.environ.get("XIUHUA_BENCH_PG_URL", PG_DEFAULT))
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="measure an existing database without regenerating it")
    args = parser.parse_args()

    engines: list[tuple[str, Engine]] = []
    if args.backend in ("sqlite", "both"):
        path = Path(args.sqlite_path)
        if not args.reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        engines.append(("SQLite", make_engine(f"sqlite:///{path}")))
    if args.backend in ("postgresql", "both"):
        if not args.reuse:
            recreate_database(args.pg_url)
        engines.append(("PostgreSQL", make_engine(args.pg_url)))
    print(f"evaluation of {args.month} over {args.cases:,} cases (a year), best of {args.repeats}")
    for name, engine in engines:
        if not args.reuse:
            t0 = time.perf_counter()
            print(f"{name}: generating")
            generate(engine, args.cases, args.month, print)
            print(f"{name}: generated in {time.perf_counter() - t0:.1f} s")
        floor_s, eval_s, log_s, filed = measure(engine, args.month, args.repeats)
        ratio = eval_s / floor_s
        verdict = "within" if ratio <= 3 else "over"
        print(f"{name}: floor (结案率 GROUP BY) {floor_s * 1000:.1f} ms; whole evaluation {eval_s * 1000:.1f} ms "
              f"({filed:,} cases filed in the month); ratio {ratio:.2f}× ({verdict} the 3× goal); "
              f"the same days from the log {log_s * 1000:.0f} ms ({log_s / floor_s:.0f}×), same result")  # fmt: skip
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
