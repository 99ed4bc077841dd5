"""The simulated city: a week of reports and staff actions through the real use cases."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.conftest import sqlite_memory_engine
from xiuhua.cases.domain.workflow import Action, Source, State
from xiuhua.cases.services.audit import verify_log
from xiuhua.cases.services.policy import load_policy
from xiuhua.demo.city import build_demo
from xiuhua.demo.simulation import SimulationConfig, SimulationSummary, simulate
from xiuhua.demo.sources import demo_sources
from xiuhua.org.adapters import holidays
from xiuhua.org.services import calendar as calendar_service
from xiuhua.platform.files import FileEvidenceStore
from xiuhua.unit_of_work import SqlUnitOfWork

START = datetime(2026, 3, 2, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday
CONFIG = SimulationConfig(days=7, seed=7, start=START, reports_per_day=40)


def run(uow: SqlUnitOfWork, store_dir: Path) -> SimulationSummary:
    build_demo(demo_sources(census_scale=0.02), uow, calendar_service.load_calendar(uow, holidays.statutory_days))
    policy = load_policy(uow, holidays.statutory_days)
    return simulate(CONFIG, lambda: uow, policy, FileEvidenceStore(store_dir))


def test_a_simulated_week_runs_the_loop_and_matches_the_database(uow: SqlUnitOfWork, tmp_path: Path) -> None:
    days: list[int] = []
    build_demo(demo_sources(census_scale=0.02), uow, calendar_service.load_calendar(uow, holidays.statutory_days))
    policy = load_policy(uow, holidays.statutory_days)
    summary = simulate(
        CONFIG, lambda: uow, policy, FileEvidenceStore(tmp_path / "a"), lambda _s, done, _t: days.append(done)
    )

    assert summary.failures == []
    assert days == [*range(CONFIG.days), CONFIG.days]
    assert summary.cases > 150
    assert set(summary.by_source) == {s.value for s in Source}  # every source, and
    assert set(summary.by_state) == {s.value for s in State}  # every state, even in a short run
    assert summary.by_state.get(State.CLOSED.value, 0) > summary.cases // 3
    assert summary.by_state.get(State.VOIDED.value, 0) > 0
    assert sum(summary.by_state.values()) == sum(summary.by_source.values()) == summary.cases
    assert summary.actions[Action.REPORT.value] == summary.cases
    assert summary.actions[Action.FEEDBACK.value] > 0 and summary.actions[Action.CHECK_PASS.value] > 0
    assert summary.sweeps == 24 * CONFIG.days
    with uow:
        assert uow.cases.count_by("state") == summary.by_state
        assert uow.cases.count_by("source") == summary.by_source
        # Reports about a registered facility are attached to it, and dispatched to its department.
        attached = uow.connection.exec_driver_sql(
            "select c.department_code, k.department_code from cases c join components k on k.id = c.component_id"
        ).all()
        in_grid = uow.connection.exec_driver_sql("select count(*) from cases where grid_code is not null").scalar()
    assert attached, "some simulated cases concern a registered component"
    dispatched = [(c, k) for c, k in attached if c is not None]
    assert dispatched and sum(c == k for c, k in dispatched) >= 0.8 * len(dispatched)  # a few were misrouted
    assert in_grid == summary.cases  # every case lies in a unit grid
    audit = verify_log(uow)
    assert audit.cases == summary.cases and audit.broken == []
    assert any((tmp_path / "a").rglob("*")), "photos were stored"

    # The same seed on a fresh database gives the same city.
    engine = sqlite_memory_engine()
    try:
        again = run(SqlUnitOfWork(engine), tmp_path / "b")
    finally:
        engine.dispose()
    assert again.by_state == summary.by_state
    assert again.by_source == summary.by_source
    assert again.actions == summary.actions
