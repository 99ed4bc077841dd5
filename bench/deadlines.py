"""Benchmark: working-time deadlines for 1,000,000 (start, limit) pairs against a naive loop.

Baseline, measured in the same run over the same pairs: a plain Python loop of
``start + timedelta(hours=n)`` (which ignores the calendar entirely). Goal: the engine's batch path
is at least as fast (ratio <= 1.0) while being correct; correctness is checked on a sample against
the scalar path. Run with `make bench`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from xiuhua.org.adapters.holidays import statutory_days
from xiuhua.org.domain.calendar import TimeLimit, Unit, WorkCalendar

SH = ZoneInfo("Asia/Shanghai")
LABELS = {Unit.URGENT_HOUR: "紧急工作时", Unit.WORK_HOUR: "工作时", Unit.WORKDAY: "工作日", Unit.NATURAL_DAY: "自然日"}


def best_of(repeats: int, func: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    rng = np.random.default_rng(2026)
    origin = int(datetime(2025, 1, 1, tzinfo=SH).timestamp())
    starts = origin + rng.integers(0, 2 * 365 * 86_400, args.pairs)
    values = rng.choice(np.array([1.0, 2.0, 4.0, 8.0, 24.0]), args.pairs)
    units = rng.integers(0, 4, args.pairs)

    build_start = time.perf_counter()
    calendar = WorkCalendar(day_overrides=statutory_days())
    build_seconds = time.perf_counter() - build_start

    start_datetimes = [datetime.fromtimestamp(int(s), SH) for s in starts]
    hours = [int(v) for v in values]

    def naive() -> None:
        [s + timedelta(hours=n) for s, n in zip(start_datetimes, hours, strict=True)]

    def engine() -> None:
        calendar.deadlines(starts, values, units)

    def engine_with_datetimes() -> None:
        epoch = np.array([d.timestamp() for d in start_datetimes], dtype=np.int64)
        calendar.deadlines(epoch, values, units).astype("datetime64[s]").tolist()

    naive_s = best_of(args.repeats, naive)
    engine_s = best_of(args.repeats, engine)
    converted_s = best_of(args.repeats, engine_with_datetimes)

    # Correct as well as fast: a sample of the batch result against the scalar path.
    batch = calendar.deadlines(starts, values, units)
    sample = rng.choice(args.pairs, 2_000, replace=False)
    for i in sample:
        limit = TimeLimit(Decimal(str(values[i])), LABELS[Unit(int(units[i]))])
        expected = calendar.deadline(start_datetimes[i], limit)
        if int(expected.timestamp()) != int(batch[i]):
            print(f"MISMATCH at {i}: batch {batch[i]} scalar {expected.isoformat()}", file=sys.stderr)
            return 1

    ratio = engine_s / naive_s
    print(f"pairs                         {args.pairs:,}")
    print(f"calendar table build (once)   {build_seconds * 1000:8.1f} ms  ({calendar.first_year}–{calendar.last_year})")
    print(f"baseline: start+timedelta     {naive_s * 1000:8.1f} ms")
    print(f"engine: batch deadlines       {engine_s * 1000:8.1f} ms   ratio {ratio:.3f} (goal <= 1.0)")
    converted_ratio = converted_s / naive_s
    print(f"engine incl. datetime in/out  {converted_s * 1000:8.1f} ms   ratio {converted_ratio:.3f} (for reference)")
    print("sample of 2,000 checked against the scalar path: all equal")
    return 0 if ratio <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
