"""The case and outbox repositories' contract (cases.ports): what the case services rely on."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from xiuhua.cases.domain.case import DEFAULT_STEP_LIMITS, Case, Params, Timing, Urgency
from xiuhua.cases.domain.scope import CaseScope
from xiuhua.cases.domain.workflow import Action, Source, State
from xiuhua.cases.services.outbox import Event
from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.actor import Actor, Role
from xiuhua.kernel.errors import ConflictError
from xiuhua.org.adapters.holidays import statutory_days
from xiuhua.org.domain.calendar import TimeLimit, WorkCalendar
from xiuhua.org.domain.model import ClassKind

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 3, 9, 0, tzinfo=SH)
TIMING = Timing(
    WorkCalendar(first_year=2026, last_year=2026, day_overrides=statutory_days()),
    {k: TimeLimit.parse(v) for k, v in DEFAULT_STEP_LIMITS.items()},
)
SUPERVISOR = Actor("supervisor1", frozenset({Role.SUPERVISOR}), "410202")
ACCEPTOR = Actor("acceptor1", frozenset({Role.ACCEPTOR}), "410200")
LON, LAT = 114.3455, 34.807


def place(dlat: float = 0.0) -> Location:
    return Location(LON, LAT + dlat, "龙亭公园东门", "410202", "410202001", "410202001009", None, "B")


def opened(case_no: str, **overrides: Any) -> Case:
    fields: dict[str, Any] = {
        "case_no": case_no, "source": Source.SUPERVISOR, "kind": ClassKind.COMPONENT, "class_code": "01001",
        "location": place(), "description": "井盖缺失", "urgency": Urgency.NORMAL, "reported_at": T0,
        "reporter": "supervisor1",
    }  # fmt: skip
    fields.update(overrides)
    case = Case(**fields)
    case.open(SUPERVISOR, TIMING)
    return case


def add(uow: Any, *cases: Case) -> None:
    with uow:
        for case in cases:
            uow.cases.add(case)
        uow.commit()


def test_a_case_round_trips_and_each_save_bumps_its_version(uow: Any) -> None:
    add(uow, opened("20260303000001", idempotency_key="k" * 64, request_digest="d" * 64))
    with uow:
        case = uow.cases.get("20260303000001")
        assert case is not None and case.id is not None and case.version == 1
        assert (case.state, case.class_code, case.location, case.reported_at) == (State.REPORTED, "01001", place(), T0)
        assert (case.log_seq, case.due_at) == (1, case.steps[0].due_at)
        case.apply(Action.ACCEPT, ACCEPTOR, T0 + timedelta(minutes=5), TIMING, Params())
        uow.cases.save(case)
        uow.commit()
    assert case.version == 2 and case.new_log == []
    with uow:
        again = uow.cases.get("20260303000001")
        assert again is not None and (again.version, again.state, again.log_seq) == (2, case.state, 2)
        assert uow.cases.get("20260303999999") is None


def test_a_stale_save_raises_a_conflict(uow: Any) -> None:
    add(uow, opened("20260303000001"))
    with uow:
        first, second = uow.cases.get("20260303000001"), uow.cases.get("20260303000001")
        first.apply(Action.ACCEPT, ACCEPTOR, T0 + timedelta(minutes=5), TIMING, Params())
        uow.cases.save(first)
        second.apply(Action.ACCEPT, ACCEPTOR, T0 + timedelta(minutes=6), TIMING, Params())
        with pytest.raises(ConflictError) as err:
            uow.cases.save(second)
        assert err.value.code == "case.conflict"


def test_what_is_not_committed_is_gone(uow: Any) -> None:
    with uow:
        uow.cases.add(opened("20260303000001"))
    with uow:
        assert uow.cases.get("20260303000001") is None
        uow.cases.add(opened("20260303000002"))
        uow.rollback()
        assert uow.cases.get("20260303000002") is None


def test_case_numbers_run_per_day(uow: Any) -> None:
    with uow:
        numbers = [uow.cases.next_case_no(date(2026, 3, 3)) for _ in range(3)]
        numbers.append(uow.cases.next_case_no(date(2026, 3, 4)))
        uow.commit()
    with uow:
        numbers.append(uow.cases.next_case_no(date(2026, 3, 3)))
    assert numbers == ["20260303000001", "20260303000002", "20260303000003", "20260304000001", "20260303000004"]


def test_an_idempotency_key_finds_its_case_and_is_taken_once(uow: Any) -> None:
    add(uow, opened("20260303000001", idempotency_key="k" * 64, request_digest="d" * 64))
    with uow:
        assert uow.cases.by_idempotency_key("k" * 64) == ("20260303000001", "d" * 64)
        assert uow.cases.by_idempotency_key("x" * 64) is None
        with pytest.raises(ConflictError) as err:
            uow.cases.add(opened("20260303000002", idempotency_key="k" * 64))
        assert err.value.code == "case.idempotency_key_taken"


def test_same_class_near_finds_by_class_distance_and_time_nearest_first(uow: Any) -> None:
    add(
        uow,
        opened("20260303000001", location=place(0.0003)),  # about 33 m north
        opened("20260303000002", location=place(0.0001)),  # about 11 m
        opened("20260303000003", location=place(0.003)),  # about 330 m: too far
        opened("20260303000004", class_code="01002"),  # another class
        opened("20260303000005", reported_at=T0 - timedelta(days=10)),  # too old
    )
    with uow:
        found = uow.cases.same_class_near(ClassKind.COMPONENT, "01001", LON, LAT, 50, T0 - timedelta(days=1))
    assert [(no, state, reported) for no, _, state, reported, _ in found] == [
        ("20260303000002", State.REPORTED, T0),
        ("20260303000001", State.REPORTED, T0),
    ]
    assert [m for _, m, *_ in found] == [pytest.approx(11.1, abs=0.2), pytest.approx(33.4, abs=0.2)]
    assert all(closed is None for *_, closed in found)


def test_covered_keeps_the_case_numbers_a_scope_covers(uow: Any) -> None:
    elsewhere = Location(114.36, 34.797, "鼓楼广场", "410203", "410203001", "410203001010", None, "B")
    add(uow, opened("20260303000001"), opened("20260303000002", location=elsewhere))
    numbers = ["20260303000001", "20260303000002", "20260303009999"]
    with uow:
        covered = uow.cases.covered
        assert covered(numbers, CaseScope(everything=True)) == {"20260303000001", "20260303000002"}
        assert covered(numbers, CaseScope(region_code="410200")) == {"20260303000001", "20260303000002"}
        assert covered(numbers, CaseScope(region_code="410202")) == {"20260303000001"}
        assert covered(numbers, CaseScope(region_code="410203001010")) == {"20260303000002"}
        assert covered(numbers, CaseScope(organization_code="D-WATER")) == set()  # nothing dispatched to it yet
        assert covered(numbers, CaseScope()) == set()
        assert covered([], CaseScope(everything=True)) == set()


def test_overdue_marking_flags_each_late_case_once(uow: Any) -> None:
    case = opened("20260303000001")
    add(uow, case, opened("20260303000002", reported_at=T0 + timedelta(days=5)))
    late = case.due_at + timedelta(minutes=1)
    with uow:
        marked = uow.cases.mark_overdue(late)
        uow.commit()
    assert [(m.case_no, m.state, m.class_code, m.due_at, m.community_code, m.department_code) for m in marked] == [
        ("20260303000001", "reported", "01001", case.due_at, "410202001009", None)
    ]
    with uow:
        assert uow.cases.mark_overdue(late) == []
        assert uow.cases.overdue_in([State.REPORTED]) == [("20260303000001", case.due_at, None, T0)]
        assert uow.cases.overdue_in([State.FILED]) == []
        assert uow.cases.get("20260303000001").overdue is True


def test_waiting_cases_and_their_flags(uow: Any) -> None:
    add(uow, opened("20260303000001"), opened("20260303000002"))
    with uow:
        assert sorted(uow.cases.waiting_since(State.REPORTED, "overnight")) == [
            ("20260303000001", T0),
            ("20260303000002", T0),
        ]
        uow.cases.set_flag(["20260303000001"], "overnight", True)
        uow.cases.set_flag([], "overnight", True)
        uow.commit()
    with uow:
        assert uow.cases.waiting_since(State.REPORTED, "overnight") == [("20260303000002", T0)]
        assert uow.cases.get("20260303000001").overnight is True
        assert uow.cases.count_by("state") == {"reported": 2}


def test_the_log_and_its_chains(uow: Any) -> None:
    add(uow, opened("20260303000001"), opened("20260303000002"))
    with uow:
        case = uow.cases.get("20260303000001")
        entry = case.apply(Action.ACCEPT, ACCEPTOR, T0 + timedelta(minutes=5), TIMING, Params())
        uow.cases.save(case)
        uow.cases.add_photo(case.id, "report", "ab" * 32, "image/png", 100, T0)
        uow.cases.add_photo(case.id, "report", "ab" * 32, "image/png", 100, T0)  # handed in again: kept once
        uow.commit()
    with uow:
        log = uow.cases.log("20260303000001")
        assert [(e.seq, e.action, e.to_state) for e in log] == [
            (1, Action.REPORT, State.REPORTED),
            (2, Action.ACCEPT, entry.to_state),
        ]
        assert log[1].hash == entry.hash and log[1].prev_hash == log[0].hash
        chains = {no: (head, seq, [e.hash for e in rows]) for no, head, seq, rows in uow.cases.chains()}
        assert chains["20260303000001"] == (entry.hash, 2, [log[0].hash, entry.hash])
        assert chains["20260303000002"][1] == 1 and len(chains) == 2
        assert uow.cases.log("20260303999999") == []


def event(n: int, at: datetime = T0) -> Event:
    return Event("case.reported", at, f"2026030300000{n}", "410202", "410202001", "410202001009", None, {"n": n})


def test_the_outbox_gives_events_back_in_order(uow: Any) -> None:
    with uow:
        assert uow.outbox.last_id() == 0
        uow.outbox.add([event(1), event(2)])
        uow.outbox.add([])
        uow.outbox.add([event(3, T0 + timedelta(days=1))])
        uow.commit()
    with uow:
        events = uow.outbox.after(0)
        assert [(e.case_no, e.payload) for e in events] == [(f"2026030300000{n}", {"n": n}) for n in (1, 2, 3)]
        ids = [e.id for e in events]
        assert ids == sorted(ids) and uow.outbox.last_id() == ids[-1]
        assert [e.id for e in uow.outbox.after(ids[0], limit=1)] == [ids[1]]
        assert uow.outbox.after(ids[-1]) == []
        assert uow.outbox.prune(T0 + timedelta(hours=1), ids[-1] + 1, 10) == 2  # the third is too new
        assert [e.id for e in uow.outbox.after(0)] == [ids[2]]
