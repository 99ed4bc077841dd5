"""Two staff acting on one case at the same moment, in two real threads with their own connections."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from tests.conftest import PG_URL, fresh_pg_database
from xiuhua.cases.adapters.case_repository import CaseRepository
from xiuhua.cases.domain.commands import ActOnCase, ReportCase
from xiuhua.cases.domain.workflow import Action, Source, State
from xiuhua.cases.services.lifecycle import act_on_case, report_case
from xiuhua.cases.services.policy import load_policy
from xiuhua.demo.city import build_demo
from xiuhua.demo.sources import demo_sources
from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.clock import FakeClock
from xiuhua.kernel.errors import ConflictError
from xiuhua.org.adapters import holidays
from xiuhua.org.domain.model import ClassKind
from xiuhua.org.services.actors import load_actor
from xiuhua.platform.db.engine import make_engine, upgrade
from xiuhua.unit_of_work import SqlUnitOfWork

SH = ZoneInfo("Asia/Shanghai")
HERE = Location(114.3455, 34.807, "龙亭公园东门", "410202", "410202001", "410202001009", None, "B")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'race.db'}"
    else:
        request.getfixturevalue("pg_url")
        url = fresh_pg_database(PG_URL.rsplit("/", 1)[0] + "/xiuhua_race_test")
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


def race(engine: Engine, actions: list[ActOnCase], clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Run the actions in threads that all load the case before any of them writes."""
    barrier = threading.Barrier(len(actions), timeout=20)
    original_get = CaseRepository.get

    def get_then_wait(self: CaseRepository, case_no: str):  # type: ignore[no-untyped-def]
        case = original_get(self, case_no)
        barrier.wait()
        return case

    monkeypatch.setattr(CaseRepository, "get", get_then_wait)
    policy = load_policy(SqlUnitOfWork(engine), holidays.statutory_days)
    outcomes: list[object] = [None] * len(actions)

    def run(i: int) -> None:
        try:
            outcomes[i] = act_on_case(actions[i], SqlUnitOfWork(engine), clock, policy)
        except Exception as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    monkeypatch.undo()
    return outcomes


def test_two_dispatchers_at_once_exactly_one_wins(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    uow = SqlUnitOfWork(engine)
    clock = FakeClock(datetime(2026, 3, 3, 9, tzinfo=SH))
    policy = load_policy(uow, holidays.statutory_days)
    build_demo(demo_sources(geometry=False), uow, policy.timing.calendar)
    policy = load_policy(uow, holidays.statutory_days)
    supervisor = load_actor(uow, "supervisor_410202001")
    case_no = report_case(
        ReportCase(supervisor, Source.SUPERVISOR, ClassKind.COMPONENT, "01001", HERE, "井盖缺失"), uow, clock, policy
    ).case_no
    act_on_case(ActOnCase(case_no, Action.ACCEPT, load_actor(uow, "acceptor1")), uow, clock, policy)
    with uow:
        standard = next(s.id for s in uow.catalog.standards() if s.code == "01001")
    act_on_case(
        ActOnCase(case_no, Action.FILE, load_actor(uow, "shiftleader1"), standard_id=standard), uow, clock, policy
    )
    city, district = load_actor(uow, "dispatcher1"), load_actor(uow, "dispatcher_410202")
    outcomes = race(
        engine,
        [
            ActOnCase(case_no, Action.DISPATCH, city),
            ActOnCase(case_no, Action.RETURN, district, reason="立案条件有误"),
        ],
        clock,
        monkeypatch,
    )
    errors = [o for o in outcomes if isinstance(o, Exception)]
    wins = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(wins) == 1 and len(errors) == 1, outcomes
    assert isinstance(errors[0], ConflictError) and errors[0].code == "case.conflict"
    with uow:
        case = uow.cases.get(case_no)
        log = uow.cases.log(case_no)
    assert case is not None and case.state in (State.DISPATCHED, State.ACCEPTED)
    assert case.log_seq == len(log) == 4  # report, accept, file, and the winner's move: nothing half-written
    assert log[-1].action is (Action.DISPATCH if case.state is State.DISPATCHED else Action.RETURN)


def test_same_report_twice_at_once_makes_one_case(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    uow = SqlUnitOfWork(engine)
    clock = FakeClock(datetime(2026, 3, 3, 9, tzinfo=SH))
    build_demo(demo_sources(geometry=False), uow, load_policy(uow, holidays.statutory_days).timing.calendar)
    policy = load_policy(uow, holidays.statutory_days)
    cmd = ReportCase(
        load_actor(uow, "supervisor_410202001"), Source.SUPERVISOR, ClassKind.COMPONENT, "01001", HERE, "井盖缺失",
        idempotency_key="retry-1",
    )  # fmt: skip
    barrier = threading.Barrier(2, timeout=20)
    seen = threading.local()
    original = CaseRepository.by_idempotency_key

    def lookup_then_wait(self: CaseRepository, key: str) -> str | None:
        found = original(self, key)
        if not getattr(seen, "waited", False):  # only the first look-up of each thread waits
            seen.waited = True
            barrier.wait()
        return found

    monkeypatch.setattr(CaseRepository, "by_idempotency_key", lookup_then_wait)
    results: list[object] = [None, None]

    def run(i: int) -> None:
        try:
            results[i] = report_case(cmd, SqlUnitOfWork(engine), clock, policy)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    monkeypatch.undo()
    assert not any(isinstance(r, Exception) for r in results), results
    assert len({r.case_no for r in results}) == 1  # type: ignore[union-attr]
    assert sorted(r.created for r in results) == [False, True]  # type: ignore[union-attr]
    with uow:
        assert sum(uow.cases.count_by("state").values()) == 1
