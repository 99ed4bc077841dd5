"""Monthly tallies: what one log row adds to its month's counts (the sums are checked against the log in
tests/integration/test_evaluation.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from xiuhua.cases.domain.case import Case, LogEntry, Urgency
from xiuhua.cases.domain.workflow import Action, Source, State
from xiuhua.evaluation.domain.tallies import TZ, TallyState, advance, month_of
from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.actor import Role
from xiuhua.org.domain.model import ClassKind

SH = ZoneInfo("Asia/Shanghai")
HERE = Location(114.3455, 34.807, "龙亭公园东门", "410202", "410202001", "410202001009", "410202001009001", "B")
PLACE = "410202|410202001|410202001009|410202001009001"


def _case() -> Case:
    return Case("20261031000001", Source.SUPERVISOR, ClassKind.COMPONENT, "01001", HERE, "井盖缺失", Urgency.NORMAL,
                datetime(2026, 10, 31, 23, 0, tzinfo=SH), reporter="supervisor_410202001")  # fmt: skip


def _row(seq: int, at: datetime, actor: str, role: Role, action: Action, source: State | None, target: State,
         on_time: bool | None = True, **data: str) -> LogEntry:  # fmt: skip
    return LogEntry(seq, at, actor, role, action, source, target, "", (), dict(data), None, None, on_time, "")


def test_month_of_is_the_local_month_also_in_the_years_of_daylight_time() -> None:
    assert month_of(datetime(2026, 10, 31, 16, 30, tzinfo=UTC)) == "2026-11"  # 00:30 on 1 November in Kaifeng
    moment = datetime(1986, 1, 1, tzinfo=UTC)
    while moment < datetime(1992, 1, 1, tzinfo=UTC):
        for minutes in (0, 59):
            at = moment + timedelta(minutes=minutes)
            assert month_of(at) == f"{at.astimezone(TZ):%Y-%m}"
        moment += timedelta(hours=7)


def test_each_row_adds_its_effect_to_its_own_month() -> None:
    case = _case()
    report = _row(1, case.reported_at, "supervisor_410202001", Role.SUPERVISOR, Action.REPORT, None, State.REPORTED,
                  on_time=None)  # fmt: skip
    state, deltas = advance(TallyState(), case, [report])
    assert deltas == {("2026-10", "supervisor", "supervisor_410202001", "reports"): 1}
    accept = _row(2, datetime(2026, 10, 31, 23, 50, tzinfo=SH), "acceptor1", Role.ACCEPTOR, Action.ACCEPT,
                  State.REPORTED, State.ACCEPTED)  # fmt: skip
    state, deltas = advance(state, case, [accept])
    assert deltas == {("2026-10", "acceptor", "acceptor1", "accepted"): 1}
    filing = _row(3, datetime(2026, 11, 1, 0, 10, tzinfo=SH), "shiftleader1", Role.SHIFT_LEADER, Action.FILE,
                  State.ACCEPTED, State.FILED, on_time=False)  # fmt: skip
    state, deltas = advance(state, case, [filing])
    assert ("2026-11", "place", PLACE, "filed") in deltas and ("2026-11", "place", PLACE, "due_to_close") in deltas
    # filing makes October's report valid only as of November: October's counts are left as they were
    assert ("2026-10", "supervisor", "supervisor_410202001", "valid_reports") not in deltas
    assert deltas[("2026-11", "shift_leader", "shiftleader1", "filings")] == 1
    assert ("2026-11", "shift_leader", "shiftleader1", "filings_on_time") not in deltas  # it was late
    dispatch = _row(4, datetime(2026, 11, 1, 0, 20, tzinfo=SH), "dispatcher_410202", Role.DISPATCHER,
                    Action.DISPATCH, State.FILED, State.DISPATCHED, department="D1")  # fmt: skip
    state, deltas = advance(state, case, [dispatch])
    assert deltas[("2026-11", "department", "D1", "dispatched")] == 1
    redispatch = _row(5, datetime(2026, 11, 2, 9, 0, tzinfo=SH), "dispatcher_410202", Role.DISPATCHER,
                      Action.DISPATCH, State.FILED, State.DISPATCHED, department="D2")  # fmt: skip
    state, deltas = advance(state, case, [redispatch])
    # the case moves from D1 to D2 in November, and the dispatcher of its first dispatch keeps it
    assert deltas[("2026-11", "department", "D1", "dispatched")] == -1
    assert deltas[("2026-11", "department", "D2", "dispatched")] == 1
    assert state.first_dispatcher == "dispatcher_410202" and state.department == "D2"
