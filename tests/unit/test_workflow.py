"""The workflow table and the Case aggregate, in the pure domain (no database).

Covers the exhaustive State × Action × Role matrix, required reasons, guards, step deadlines (pauses,
extensions, parking, rework), the table's self-check, the actions offered to an actor, and the
hash-chained log.
"""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from xiuhua.cases.domain.case import (
    DEFAULT_STEP_LIMITS,
    EFFECTS,
    GENESIS,
    Case,
    LogEntry,
    Params,
    PauseSpan,
    StepRecord,
    Timing,
    Urgency,
)
from xiuhua.cases.domain.workflow import (
    STEP_OF,
    TRANSITIONS,
    Action,
    Source,
    State,
    Step,
    Transition,
    TransitionNotAllowedError,
    actions_from,
    check_table,
    transition_for,
)
from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.actor import SYSTEM_ACTOR, Actor, Role
from xiuhua.kernel.errors import ConflictError, ForbiddenError, InvalidInputError
from xiuhua.org.adapters.holidays import statutory_days
from xiuhua.org.domain.calendar import TimeLimit, WorkCalendar
from xiuhua.org.domain.model import ClassKind

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 3, 9, 0, tzinfo=SH)  # a Tuesday, an ordinary workday
NOW = T0 + timedelta(hours=1)
CALENDAR = WorkCalendar(first_year=2026, last_year=2026, day_overrides=statutory_days())
STEP_LIMITS = {k: TimeLimit.parse(v) for k, v in DEFAULT_STEP_LIMITS.items()}
TIMING = Timing(CALENDAR, STEP_LIMITS)
URGENT_2H = TimeLimit.parse("2紧急工作时")
TABLE: dict[tuple[State, Action], Transition] = {(t.source, t.action): t for t in TRANSITIONS}
REASON = "现场情况需要"


def at(text: str) -> datetime:
    """Local Shanghai time from 'YYYY-MM-DD HH:MM'."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


def actor(*roles: Role) -> Actor:
    return Actor("-".join(r.value for r in roles) + "-user", frozenset(roles))


def timing(*, pause_while_extension_pending: bool = True) -> Timing:
    return Timing(CALENDAR, dict(STEP_LIMITS), pause_while_extension_pending)


def make_case(**overrides: Any) -> Case:
    fields: dict[str, Any] = {
        "case_no": "KF20260303000001",
        "source": Source.SUPERVISOR,
        "kind": ClassKind.COMPONENT,
        "class_code": "01001",
        "location": Location(114.35, 34.80, "某街", "410202", "410202001", "410202001009", None, "B"),
        "description": "x",
        "urgency": Urgency.NORMAL,
        "reported_at": T0,
    }
    fields.update(overrides)
    return Case(**fields)


def opened(**overrides: Any) -> Case:
    case = make_case(**overrides)
    case.open(actor(Role.SUPERVISOR), TIMING)
    return case


def full_params(**overrides: Any) -> Params:
    """A reason plus every parameter any action needs (standard, department, extension, photos)."""
    fields: dict[str, Any] = {
        "reason": REASON,
        "standard_id": 7,
        "standard_limit": URGENT_2H,
        "department_code": "D02",
        "handler": "handler-2",
        "extension": TimeLimit.parse("1工作日"),
        "attachments": ("after.jpg",),
    }
    fields.update(overrides)
    return Params(**fields)


_DISPATCHED_FAMILY = {
    State.DISPATCHED,
    State.RETURN_REQUESTED,
    State.EXTENSION_REQUESTED,
    State.PARK_REQUESTED,
    State.PARKED,
    State.DISPOSED,
    State.CHECKING,
    State.CHECKED,
}
_FILED_OR_LATER = _DISPATCHED_FAMILY | {State.FILED, State.CLOSED}


def _source_for(state: State, action: Action | None) -> Source:
    if state is State.SELF_DISPOSED or action is Action.SELF_DISPOSE:
        return Source.SELF_DISPOSAL
    if state is State.VERIFYING or action is Action.SEND_VERIFY:
        return Source.PUBLIC
    return Source.SUPERVISOR


def case_in(state: State, action: Action | None = None, **overrides: Any) -> Case:
    """An opened case put into ``state`` by setting the fields the state implies, so ``action``'s guard passes."""
    overrides.setdefault("source", _source_for(state, action))
    case = opened(**overrides)
    case.state = state
    if state in _FILED_OR_LATER:
        case.standard_id, case.disposal_limit = 1, URGENT_2H
    if state in _DISPATCHED_FAMILY:
        case.department_code, case.handler = "D01", "handler-1"
        case.dispatched_at = T0 + timedelta(minutes=20)
        case.counters["dispatches"] = 1
    if state is State.EXTENSION_REQUESTED:
        case.pending_extension = TimeLimit.parse("1紧急工作时")
        case.pauses.append(PauseSpan("extension", T0 + timedelta(minutes=30)))
    if state is State.PARKED:
        case.pauses.append(PauseSpan("park", T0 + timedelta(minutes=30)))
    if state is State.CHECKED:
        case.check_passed = action is not Action.REWORK
    if state.final:
        case.closed_at = T0 + timedelta(minutes=40)
    if state is not State.REPORTED:
        first = case.steps[0]
        first.done_at, first.outcome = T0 + timedelta(minutes=5), Action.ACCEPT
        if state in STEP_OF:
            step = STEP_OF[state]
            entered = T0 + timedelta(minutes=20)
            due = case.disposal_due(TIMING) if step is Step.DISPOSE else entered + timedelta(minutes=15)
            case.steps.append(StepRecord(step, entered, due))
    return case


def snapshot(case: Case) -> dict[str, Any]:
    return dataclasses.asdict(case)


def assert_chained(case: Case, entry: LogEntry, prev_seq: int, prev_head: str) -> None:
    assert entry.seq == prev_seq + 1
    assert entry.prev_hash == prev_head
    assert entry.hash == entry.computed_hash(case.case_no)
    assert case.log_seq == entry.seq
    assert case.log_head == entry.hash
    assert case.new_log[-1] is entry


# ----- 1. the exhaustive matrix --------------------------------------------------------------------


MATRIX = [
    pytest.param(s, a, r, id=f"{s.value}-{a.value}-{r.value}") for s, a, r in itertools.product(State, Action, Role)
]


@pytest.mark.parametrize(("state", "action", "role"), MATRIX)
def test_every_state_action_role(state: State, action: Action, role: Role) -> None:
    case = case_in(state, action)
    before = snapshot(case)
    prev_seq, prev_head = case.log_seq, case.log_head
    t = TABLE.get((state, action))
    assert transition_for(state, action) is t

    if t is None:
        with pytest.raises(TransitionNotAllowedError) as caught:
            case.apply(action, actor(role), NOW, TIMING, full_params())
        assert caught.value.code == "case.transition_not_allowed"
        assert isinstance(caught.value, ConflictError)
        assert f"“{state.label}”" in caught.value.message
        assert f"“{action.label}”" in caught.value.message
        assert snapshot(case) == before
        return

    if role not in t.roles:
        with pytest.raises(ForbiddenError) as denied:
            case.apply(action, actor(role), NOW, TIMING, full_params())
        assert denied.value.code == "case.role_denied"
        assert all(r.label in denied.value.message for r in t.roles)
        assert snapshot(case) == before
        return

    assert t.guard is None or t.guard(case) is None, f"case_in() did not satisfy the guard of {state}/{action}"
    entry = case.apply(action, actor(role), NOW, TIMING, full_params())
    assert case.state is t.target
    assert (entry.action, entry.from_state, entry.to_state) == (action, state, t.target)
    assert entry.role is role
    assert entry.actor == actor(role).username
    assert entry.reason == REASON
    assert entry.at == NOW
    assert_chained(case, entry, prev_seq, prev_head)
    if t.target.final:
        assert case.current_step is None
    else:
        assert case.current_step is not None
        assert case.current_step.step is STEP_OF[t.target]


def test_matrix_covers_every_transition_of_the_table() -> None:
    assert len(TABLE) == len(TRANSITIONS)  # no duplicate hidden by the dict
    assert {(t.source, t.action) for t in TRANSITIONS} <= set(itertools.product(State, Action))
    assert all(transition_for(s, a) is t for (s, a), t in TABLE.items())


def test_report_is_never_a_transition() -> None:
    assert all(transition_for(s, Action.REPORT) is None for s in State)


def test_refusal_lists_the_actions_possible_in_the_state() -> None:
    closed = case_in(State.CLOSED)
    with pytest.raises(TransitionNotAllowedError) as caught:
        closed.apply(Action.URGE, actor(Role.LEADER), NOW, TIMING, full_params())
    assert caught.value.message.endswith("可执行：无")
    assert caught.value.details == {"case_no": closed.case_no, "state": "closed", "action": "urge"}

    reported = case_in(State.REPORTED)
    with pytest.raises(TransitionNotAllowedError) as caught:
        reported.apply(Action.CLOSE, actor(Role.SHIFT_LEADER), NOW, TIMING, full_params())
    assert "受理" in caught.value.message and "作废" in caught.value.message


def test_the_acting_role_is_the_allowed_one_of_a_multi_role_actor() -> None:
    case = case_in(State.ACCEPTED)
    entry = case.apply(Action.VOID, actor(Role.HANDLER, Role.SHIFT_LEADER), NOW, TIMING, full_params())
    assert entry.role is Role.SHIFT_LEADER
    assert case.state is State.VOIDED
    assert case.closed_at == NOW


def test_open_writes_the_first_log_row_and_the_acceptance_step() -> None:
    case = make_case(source=Source.SENSOR)
    entry = case.open(SYSTEM_ACTOR, TIMING)
    assert (entry.seq, entry.prev_hash, entry.action, entry.from_state, entry.to_state) == (
        1,
        GENESIS,
        Action.REPORT,
        None,
        State.REPORTED,
    )
    assert entry.role is Role.SYSTEM
    assert entry.hash == entry.computed_hash(case.case_no)
    assert case.needs_verification is True
    assert case.current_step is not None and case.current_step.step is Step.ACCEPT
    with pytest.raises(InvalidInputError) as again:
        case.open(SYSTEM_ACTOR, TIMING)
    assert again.value.code == "case.already_open"
    assert case.log_seq == 1


# ----- 2. reasons ----------------------------------------------------------------------------------

REASONED = [pytest.param(t, id=f"{t.source.value}-{t.action.value}") for t in TRANSITIONS if t.reason_required]


@pytest.mark.parametrize("blank", ["", "   ", "\t\n　"])
@pytest.mark.parametrize("t", REASONED)
def test_reason_required(t: Transition, blank: str) -> None:
    case = case_in(t.source, t.action)
    before = snapshot(case)
    role = sorted(t.roles)[0]
    with pytest.raises(InvalidInputError) as caught:
        case.apply(t.action, actor(role), NOW, TIMING, full_params(reason=blank))
    assert caught.value.code == "case.reason_required"
    assert t.action.label in caught.value.message
    assert (case.state, case.log_seq) == (t.source, before["log_seq"])
    assert snapshot(case) == before


def test_reasons_required_where_the_standard_says_so() -> None:
    required = {(t.source, t.action) for t in TRANSITIONS if t.reason_required}
    assert (State.VERIFYING, Action.REFUTE) in required
    assert (State.CHECKING, Action.CHECK_FAIL) in required
    assert all((s, Action.URGE) in required for s in State if (s, Action.URGE) in TABLE)
    assert all((s, Action.VOID) in required for s in State if (s, Action.VOID) in TABLE)
    assert (State.DISPATCHED, Action.FEEDBACK) not in required
    assert (State.CHECKING, Action.CHECK_PASS) not in required


def test_reason_is_stored_stripped() -> None:
    case = case_in(State.REPORTED)
    entry = case.apply(Action.VOID, actor(Role.ACCEPTOR), NOW, TIMING, full_params(reason="  重复上报 "))
    assert entry.reason == "重复上报"
    assert entry.hash == entry.computed_hash(case.case_no)


# ----- 3. guards -----------------------------------------------------------------------------------


def _refused(case: Case, action: Action, role: Role, params: Params | None = None) -> TransitionNotAllowedError:
    before = snapshot(case)
    with pytest.raises(TransitionNotAllowedError) as caught:
        case.apply(action, actor(role), NOW, TIMING, params or full_params())
    assert caught.value.code == "case.transition_not_allowed"
    assert snapshot(case) == before
    return caught.value


@pytest.mark.parametrize(
    "source", [s for s in Source if s not in (Source.SUPERVISOR, Source.SELF_DISPOSAL)], ids=lambda s: s.value
)
def test_accept_of_an_unverified_public_report_is_refused(source: Source) -> None:
    case = opened(source=source)
    assert case.needs_verification and case.verified is None
    error = _refused(case, Action.ACCEPT, Role.ACCEPTOR)
    assert "须先派发核实" in error.message
    assert Action.ACCEPT not in case.allowed_actions(actor(Role.ACCEPTOR))
    # once verified on site (the flag a VERIFY sets), acceptance is allowed
    case.verified = True
    case.apply(Action.ACCEPT, actor(Role.ACCEPTOR), NOW, TIMING, Params())
    assert case.state is State.ACCEPTED


@pytest.mark.parametrize("source", [Source.SUPERVISOR, Source.SELF_DISPOSAL], ids=lambda s: s.value)
def test_send_verify_of_a_supervisor_report_is_refused(source: Source) -> None:
    case = opened(source=source)
    assert case.needs_verification is False
    error = _refused(case, Action.SEND_VERIFY, Role.ACCEPTOR)
    assert "无需核实" in error.message


def test_file_after_refute_is_refused_and_void_is_offered() -> None:
    case = opened(source=Source.PUBLIC)
    case.apply(Action.SEND_VERIFY, actor(Role.ACCEPTOR), T0 + timedelta(minutes=5), TIMING, Params())
    case.apply(Action.REFUTE, actor(Role.SUPERVISOR), T0 + timedelta(minutes=20), TIMING, Params(reason="现场无此问题"))
    assert (case.state, case.verified) == (State.ACCEPTED, False)
    error = _refused(case, Action.FILE, Role.SHIFT_LEADER)
    assert "不属实" in error.message
    assert case.allowed_actions(actor(Role.SHIFT_LEADER)) == [Action.VOID]


def test_file_after_verify_is_allowed() -> None:
    case = opened(source=Source.HOTLINE)
    case.apply(Action.SEND_VERIFY, actor(Role.ACCEPTOR), T0 + timedelta(minutes=5), TIMING, Params())
    case.apply(Action.VERIFY, actor(Role.SUPERVISOR), T0 + timedelta(minutes=20), TIMING, Params())
    assert (case.state, case.verified) == (State.ACCEPTED, True)
    case.apply(Action.FILE, actor(Role.SHIFT_LEADER), T0 + timedelta(minutes=30), TIMING, full_params())
    assert case.state is State.FILED
    assert (case.standard_id, case.disposal_limit) == (7, URGENT_2H)


def test_close_after_check_fail_is_refused() -> None:
    case = case_in(State.CHECKING)
    case.apply(Action.CHECK_FAIL, actor(Role.SUPERVISOR), NOW, TIMING, Params(reason="未清理干净"))
    assert (case.state, case.check_passed) == (State.CHECKED, False)
    error = _refused(case, Action.CLOSE, Role.SHIFT_LEADER)
    assert "核查未通过" in error.message


def test_rework_after_check_pass_is_refused() -> None:
    case = case_in(State.CHECKING)
    case.apply(Action.CHECK_PASS, actor(Role.SUPERVISOR), NOW, TIMING, Params())
    assert (case.state, case.check_passed) == (State.CHECKED, True)
    for role in (Role.SHIFT_LEADER, Role.DISPATCHER):
        error = _refused(case, Action.REWORK, role)
        assert "核查已通过" in error.message
    case.apply(Action.CLOSE, actor(Role.SHIFT_LEADER), NOW, TIMING, Params())
    assert (case.state, case.closed_at) == (State.CLOSED, NOW)


@pytest.mark.parametrize("source", list(Source), ids=lambda s: s.value)
def test_self_dispose_only_for_self_disposal_reports(source: Source) -> None:
    case = opened(source=source)
    if source is Source.SELF_DISPOSAL:
        case.apply(Action.SELF_DISPOSE, actor(Role.SUPERVISOR), NOW, TIMING, Params())
        assert case.state is State.SELF_DISPOSED
    else:
        error = _refused(case, Action.SELF_DISPOSE, Role.SUPERVISOR)
        assert "自处理" in error.message


def test_the_role_is_checked_before_the_guard() -> None:
    case = opened(source=Source.PUBLIC)  # the guard of ACCEPT would refuse as well
    with pytest.raises(ForbiddenError):
        case.apply(Action.ACCEPT, actor(Role.HANDLER), NOW, TIMING, Params())


@pytest.mark.parametrize(
    ("state", "action", "role", "params", "code"),
    [
        (State.ACCEPTED, Action.FILE, Role.SHIFT_LEADER, full_params(standard_id=None), "case.no_standard"),
        (State.ACCEPTED, Action.FILE, Role.SHIFT_LEADER, full_params(standard_limit=None), "case.no_standard"),
        (State.FILED, Action.DISPATCH, Role.DISPATCHER, full_params(department_code=None), "case.no_department"),
        (State.FILED, Action.DISPATCH, Role.DISPATCHER, full_params(department_code=""), "case.no_department"),
        (State.DISPATCHED, Action.REQUEST_EXTENSION, Role.HANDLER, full_params(extension=None), "case.no_extension"),
        (
            State.DISPATCHED,
            Action.REQUEST_EXTENSION,
            Role.HANDLER,
            full_params(extension=TimeLimit.parse("0工作日")),
            "case.no_extension",
        ),
        (
            State.DISPATCHED,
            Action.REQUEST_EXTENSION,
            Role.HANDLER,
            full_params(extension=TimeLimit.parse("3周")),
            "limit.unknown_unit",
        ),
        (State.DISPATCHED, Action.FEEDBACK, Role.HANDLER, full_params(attachments=()), "case.no_photo"),
        (
            State.REPORTED,
            Action.VOID,
            Role.ACCEPTOR,
            full_params(duplicate_of="KF20260303000001"),
            "case.self_duplicate",
        ),
    ],
    ids=lambda v: v.value if isinstance(v, State | Action | Role) else None,
)
def test_missing_params_are_refused_without_change(
    state: State, action: Action, role: Role, params: Params, code: str
) -> None:
    case = case_in(state, action)
    before = snapshot(case)
    with pytest.raises(InvalidInputError) as caught:
        case.apply(action, actor(role), NOW, TIMING, params)
    assert caught.value.code == code
    assert snapshot(case) == before


# ----- 4. deadlines --------------------------------------------------------------------------------


def dispatched(limit: str = "2紧急工作时", *, dispatch_at: datetime = T0 + timedelta(minutes=30), **kw: Any) -> Case:
    """A supervisor's report driven through the real workflow up to DISPATCHED."""
    t = kw.pop("timing", TIMING)
    case = make_case(**kw)
    case.open(actor(Role.SUPERVISOR), t)
    case.apply(Action.ACCEPT, actor(Role.ACCEPTOR), T0 + timedelta(minutes=5), t, Params())
    params = full_params(standard_limit=TimeLimit.parse(limit), department_code="D01")
    case.apply(Action.FILE, actor(Role.SHIFT_LEADER), T0 + timedelta(minutes=10), t, params)
    case.apply(Action.DISPATCH, actor(Role.DISPATCHER), dispatch_at, t, params)
    return case


def test_acceptance_due_fifteen_working_minutes_after_the_report() -> None:
    case = opened()
    assert case.due_at == at("2026-03-03 09:15")
    on_time = case.apply(Action.ACCEPT, actor(Role.ACCEPTOR), at("2026-03-03 09:15"), TIMING, Params())
    assert (on_time.step, on_time.step_due_at, on_time.on_time) == (Step.ACCEPT, at("2026-03-03 09:15"), True)
    assert case.steps[0].done_at == at("2026-03-03 09:15") and case.steps[0].outcome is Action.ACCEPT

    late = opened()
    entry = late.apply(Action.ACCEPT, actor(Role.ACCEPTOR), at("2026-03-03 09:16"), TIMING, Params())
    assert entry.on_time is False


def test_acceptance_due_counts_working_time_only() -> None:
    evening = opened(reported_at=at("2026-03-03 17:55"))
    assert evening.due_at == at("2026-03-04 08:10")
    friday = opened(reported_at=at("2026-03-06 17:50"))
    assert friday.due_at == at("2026-03-09 08:05")  # over the weekend to Monday
    urgent = opened(reported_at=at("2026-03-03 17:55"), urgency=Urgency.URGENT)
    assert urgent.due_at == at("2026-03-03 18:10")  # 0.25紧急工作时 runs around the clock


def test_each_state_opens_its_timed_step() -> None:
    case = opened()
    case.apply(Action.ACCEPT, actor(Role.ACCEPTOR), at("2026-03-03 09:05"), TIMING, Params())
    assert (case.current_step.step, case.due_at) == (Step.FILE, at("2026-03-03 09:20"))  # type: ignore[union-attr]
    case.apply(Action.FILE, actor(Role.SHIFT_LEADER), at("2026-03-03 09:10"), TIMING, full_params())
    assert (case.current_step.step, case.due_at) == (Step.DISPATCH, at("2026-03-03 09:25"))  # type: ignore[union-attr]


def test_dispatch_with_an_urgent_limit_is_due_two_hours_later() -> None:
    case = dispatched("2紧急工作时", dispatch_at=at("2026-03-03 17:00"))
    assert case.state is State.DISPATCHED
    assert case.dispatched_at == at("2026-03-03 17:00")
    assert case.current_step is not None and case.current_step.step is Step.DISPOSE
    assert case.due_at == at("2026-03-03 19:00")  # continuous clock: past the working day
    assert case.count("dispatches") == 1 and case.count("redispatches") == 0
    assert case.department_code == "D01"


def test_dispatch_with_a_working_hour_limit_skips_the_lunch_break() -> None:
    case = dispatched("4工作时", dispatch_at=at("2026-03-03 09:00"))
    assert case.due_at == at("2026-03-03 15:00")


@pytest.mark.parametrize("tz", [SH, UTC, ZoneInfo("America/New_York")], ids=str)
def test_deadlines_do_not_depend_on_the_zone_a_time_is_given_in(tz: ZoneInfo) -> None:
    case = dispatched("2紧急工作时", dispatch_at=at("2026-03-03 09:30").astimezone(tz))
    assert case.due_at == at("2026-03-03 11:30")


def test_extension_pauses_the_clock_while_pending_and_adds_after_the_original_due() -> None:
    case = dispatched("2紧急工作时", dispatch_at=at("2026-03-03 09:00"))
    assert case.due_at == at("2026-03-03 11:00")
    params = full_params(extension=TimeLimit.parse("1紧急工作时"))
    case.apply(Action.REQUEST_EXTENSION, actor(Role.HANDLER), at("2026-03-03 10:00"), TIMING, params)
    assert case.state is State.EXTENSION_REQUESTED
    assert case.pending_extension == TimeLimit.parse("1紧急工作时")
    assert case.current_step is not None and case.current_step.step is Step.DISPOSE
    assert case.due_at is None  # the clock is stopped while the request waits

    case.apply(Action.APPROVE, actor(Role.DISPATCHER), at("2026-03-03 10:30"), TIMING, Params())
    assert case.state is State.DISPATCHED
    assert case.pending_extension is None
    assert case.extensions == [TimeLimit.parse("1紧急工作时")]
    assert case.count("extensions") == 1
    # 11:00 + 0.5 h pending (skipped) + 1 h extension
    assert case.due_at == at("2026-03-03 12:30")
    assert [(p.kind, p.start, p.end) for p in case.pauses] == [
        ("extension", at("2026-03-03 10:00"), at("2026-03-03 10:30"))
    ]


def test_extension_without_pausing_keeps_the_clock_running() -> None:
    t = timing(pause_while_extension_pending=False)
    case = dispatched("2紧急工作时", dispatch_at=at("2026-03-03 09:00"), timing=t)
    params = full_params(extension=TimeLimit.parse("1紧急工作时"))
    case.apply(Action.REQUEST_EXTENSION, actor(Role.HANDLER), at("2026-03-03 10:00"), t, params)
    assert case.due_at == at("2026-03-03 11:00")
    assert case.pauses == []
    case.apply(Action.APPROVE, actor(Role.DISPATCHER), at("2026-03-03 10:30"), t, Params())
    assert case.due_at == at("2026-03-03 12:00")


def test_rejected_extension_restarts_the_clock_without_extending() -> None:
    case = dispatched("2紧急工作时", dispatch_at=at("2026-03-03 09:00"))
    params = full_params(extension=TimeLimit.parse("1紧急工作时"))
    case.apply(Action.REQUEST_EXTENSION, actor(Role.HANDLER), at("2026-03-03 10:00"), TIMING, params)
    case.apply(Action.REJECT, actor(Role.DISPATCHER), at("2026-03-03 10:20"), TIMING, Params(reason="理由不充分"))
    assert case.state is State.DISPATCHED
    assert case.pending_extension is None and case.extensions == []
    assert case.count("extensions") == 0
    assert case.due_at == at("2026-03-03 11:20")  # only the pending 20 minutes are given back


def test_extension_in_working_days_follows_the_working_calendar() -> None:
    case = dispatched("4工作时", dispatch_at=at("2026-03-06 09:00"))  # Friday; due 15:00
    assert case.due_at == at("2026-03-06 15:00")
    params = full_params(extension=TimeLimit.parse("1工作日"))
    case.apply(Action.REQUEST_EXTENSION, actor(Role.HANDLER), at("2026-03-06 10:00"), TIMING, params)
    case.apply(Action.APPROVE, actor(Role.DISPATCHER), at("2026-03-06 11:00"), TIMING, Params())
    # 15:00 + the hour pending = 16:00 Friday; + 8 working hours = Monday 16:00
    assert case.due_at == at("2026-03-09 16:00")


def test_parking_stops_the_clock_and_resume_excludes_the_parked_span() -> None:
    case = dispatched("4工作时", dispatch_at=at("2026-03-03 09:00"))
    assert case.due_at == at("2026-03-03 15:00")
    case.apply(Action.REQUEST_PARK, actor(Role.HANDLER), at("2026-03-03 09:30"), TIMING, Params(reason="待施工"))
    assert case.state is State.PARK_REQUESTED
    assert case.due_at == at("2026-03-03 15:00")  # still running until the park is approved
    case.apply(Action.APPROVE, actor(Role.DISPATCHER), at("2026-03-03 10:00"), TIMING, Params())
    assert case.state is State.PARKED
    assert case.due_at is None
    assert case.count("parks") == 1
    entry = case.apply(
        Action.RESUME, actor(Role.DISPATCHER), at("2026-03-04 09:00"), TIMING, Params(reason="已具备条件")
    )
    assert case.state is State.DISPATCHED
    assert entry.step is None  # the disposal step goes on
    # 1 working hour used before parking; 3 left from Wednesday 09:00 → 12:00
    assert case.due_at == at("2026-03-04 12:00")
    assert case.pauses[0].end == at("2026-03-04 09:00")


def test_urge_keeps_the_state_and_issues_an_order() -> None:
    case = dispatched("2紧急工作时", dispatch_at=at("2026-03-03 09:00"))
    due = case.due_at
    entry = case.apply(Action.URGE, actor(Role.LEADER), at("2026-03-03 10:00"), TIMING, Params(reason="群众反映强烈"))
    assert case.state is State.DISPATCHED and entry.from_state is entry.to_state is State.DISPATCHED
    assert case.due_at == due
    assert case.count("urges") == 1
    [order] = case.new_urges
    assert (order.issued_by, order.reason, order.issued_at) == ("leader-user", "群众反映强烈", at("2026-03-03 10:00"))
    assert order.due_at == at("2026-03-04 10:00")  # 1工作日 = 8 working hours
    assert entry.data == {"urge_due_at": order.due_at.isoformat()}


def test_rework_restarts_the_disposal_clock() -> None:
    case = dispatched("2紧急工作时", dispatch_at=at("2026-03-03 09:00"))
    params = full_params(extension=TimeLimit.parse("1紧急工作时"))
    case.apply(Action.REQUEST_EXTENSION, actor(Role.HANDLER), at("2026-03-03 09:30"), TIMING, params)
    case.apply(Action.APPROVE, actor(Role.DISPATCHER), at("2026-03-03 09:40"), TIMING, Params())
    case.apply(Action.FEEDBACK, actor(Role.HANDLER), at("2026-03-03 10:00"), TIMING, full_params())
    assert case.current_step is not None and case.current_step.step is Step.SEND_CHECK
    case.apply(Action.SEND_CHECK, actor(Role.ACCEPTOR), at("2026-03-03 10:05"), TIMING, Params())
    case.apply(Action.CHECK_FAIL, actor(Role.SUPERVISOR), at("2026-03-03 10:30"), TIMING, Params(reason="未修复"))
    disposal_steps = [s for s in case.steps if s.step is Step.DISPOSE]
    assert len(disposal_steps) == 1 and disposal_steps[0].done_at == at("2026-03-03 10:00")

    entry = case.apply(Action.REWORK, actor(Role.DISPATCHER), at("2026-03-03 11:00"), TIMING, Params(reason="返工"))
    assert case.state is State.DISPATCHED
    assert entry.step is Step.CLOSE and entry.data == {"department": "D01"}
    assert case.count("reworks") == 1
    assert case.check_passed is None
    assert case.dispatched_at == at("2026-03-03 11:00")
    assert case.extensions == [] and case.pauses == []
    assert case.due_at == at("2026-03-03 13:00")  # the standard's 2 h again, from the rework
    assert len([s for s in case.steps if s.step is Step.DISPOSE]) == 2
    assert case.count("dispatches") == 1


def test_rework_of_a_case_with_an_open_disposal_step_restarts_it() -> None:
    case = case_in(State.CHECKED, Action.REWORK)
    steps_before = len(case.steps)
    case.apply(Action.REWORK, actor(Role.SHIFT_LEADER), NOW, TIMING, Params(reason="返工"))
    assert len(case.steps) == steps_before + 1
    assert case.steps[-2].done_at == NOW and case.steps[-2].outcome is Action.REWORK
    assert case.due_at == NOW + timedelta(hours=2)


def test_dispatch_after_an_approved_return_counts_a_return_and_a_redispatch() -> None:
    case = dispatched("2紧急工作时", dispatch_at=at("2026-03-03 09:00"))
    request = case.apply(Action.RETURN, actor(Role.HANDLER), at("2026-03-03 09:30"), TIMING, Params(reason="非本部门"))
    assert case.state is State.RETURN_REQUESTED and request.data == {"department": "D01"}
    grant = case.apply(Action.APPROVE, actor(Role.DISPATCHER), at("2026-03-03 09:40"), TIMING, Params())
    assert case.state is State.FILED
    assert grant.data == {"department": "D01"} and grant.step is Step.DISPOSE
    assert case.count("returns") == 1
    assert (case.department_code, case.handler, case.dispatched_at) == (None, None, None)
    assert case.current_step is not None and case.current_step.step is Step.DISPATCH
    assert case.due_at == at("2026-03-03 09:55")

    again = case.apply(
        Action.DISPATCH, actor(Role.DISPATCHER), at("2026-03-03 09:50"), TIMING, full_params(department_code="D09")
    )
    assert case.state is State.DISPATCHED and again.data == {"department": "D09"}
    assert (case.count("returns"), case.count("redispatches"), case.count("dispatches")) == (1, 1, 2)
    assert case.department_code == "D09"
    assert case.due_at == at("2026-03-03 11:50")


def test_return_rejected_keeps_the_department_and_the_clock() -> None:
    case = dispatched("2紧急工作时", dispatch_at=at("2026-03-03 09:00"))
    case.apply(Action.RETURN, actor(Role.HANDLER), at("2026-03-03 09:30"), TIMING, Params(reason="非本部门"))
    case.apply(Action.REJECT, actor(Role.DISPATCHER), at("2026-03-03 09:40"), TIMING, Params(reason="属本部门"))
    assert case.state is State.DISPATCHED
    assert case.department_code == "D01" and case.count("returns") == 0
    assert case.due_at == at("2026-03-03 11:00")


def test_dispatcher_returns_a_filed_case_to_the_acceptor() -> None:
    case = case_in(State.FILED)
    entry = case.apply(Action.RETURN, actor(Role.DISPATCHER), NOW, TIMING, Params(reason="分类错误"))
    assert case.state is State.ACCEPTED and entry.step is Step.DISPATCH
    assert case.count("returns") == 1


# ----- 5. check_table ------------------------------------------------------------------------------


def test_the_real_table_passes_the_check() -> None:
    by_key = check_table()
    assert by_key == TABLE
    assert check_table(TRANSITIONS) == TABLE


def test_check_table_rejects_a_duplicate_state_action() -> None:
    clash = Transition(State.REPORTED, Action.ACCEPT, State.VERIFYING, frozenset({Role.ACCEPTOR}))
    with pytest.raises(ValueError, match="ambiguous"):
        check_table((*TRANSITIONS, clash))


@pytest.mark.parametrize("final", [State.CLOSED, State.VOIDED], ids=lambda s: s.value)
def test_check_table_rejects_an_exit_from_a_final_state(final: State) -> None:
    reopen = Transition(final, Action.REWORK, State.DISPATCHED, frozenset({Role.SHIFT_LEADER}))
    with pytest.raises(ValueError, match="final state"):
        check_table((*TRANSITIONS, reopen))


def test_check_table_rejects_an_unreachable_state() -> None:
    without_void = tuple(t for t in TRANSITIONS if t.target is not State.VOIDED)
    with pytest.raises(ValueError, match="unreachable") as caught:
        check_table(without_void)
    assert "voided" in str(caught.value)
    without_park = tuple(t for t in TRANSITIONS if t.action is not Action.REQUEST_PARK)
    with pytest.raises(ValueError, match="unreachable") as caught:
        check_table(without_park)
    assert "park_requested" in str(caught.value) and "'parked'" in str(caught.value)


def test_check_table_rejects_a_transition_without_roles() -> None:
    nobody = tuple(dataclasses.replace(t, roles=frozenset()) if t.action is Action.FILE else t for t in TRANSITIONS)
    with pytest.raises(ValueError, match="allows no role"):
        check_table(nobody)


def test_every_open_state_has_a_way_out_and_every_effect_is_known() -> None:
    for state in State:
        assert bool(actions_from(state)) is not state.final, state
    assert {t.effect for t in TRANSITIONS} <= set(EFFECTS)  # a typo in the table would fail at import


# ----- 6. allowed_actions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "action", "role", "expected"),
    [
        (
            State.DISPATCHED,
            None,
            Role.HANDLER,
            {Action.FEEDBACK, Action.RETURN, Action.REQUEST_EXTENSION, Action.REQUEST_PARK},
        ),
        (State.DISPATCHED, None, Role.LEADER, {Action.URGE}),
        (State.DISPATCHED, None, Role.SYSTEM, {Action.URGE}),
        (State.DISPATCHED, None, Role.SHIFT_LEADER, {Action.URGE}),
        (State.DISPATCHED, None, Role.DISPATCHER, set()),
        (State.DISPATCHED, None, Role.ADMIN, set()),
        (State.REPORTED, None, Role.ACCEPTOR, {Action.ACCEPT, Action.VOID}),
        (State.REPORTED, Action.SEND_VERIFY, Role.ACCEPTOR, {Action.SEND_VERIFY, Action.VOID}),
        (State.REPORTED, None, Role.SUPERVISOR, set()),
        (State.REPORTED, Action.SELF_DISPOSE, Role.SUPERVISOR, {Action.SELF_DISPOSE}),
        (State.REPORTED, None, Role.LEADER, set()),
        (State.VERIFYING, None, Role.SUPERVISOR, {Action.VERIFY, Action.REFUTE}),
        (State.VERIFYING, None, Role.SHIFT_LEADER, {Action.VOID}),
        (State.ACCEPTED, None, Role.SHIFT_LEADER, {Action.FILE, Action.VOID}),
        (State.FILED, None, Role.DISPATCHER, {Action.DISPATCH, Action.RETURN}),
        (State.EXTENSION_REQUESTED, None, Role.DISPATCHER, {Action.APPROVE, Action.REJECT}),
        (State.PARKED, None, Role.DISPATCHER, {Action.RESUME}),
        (State.PARKED, None, Role.HANDLER, set()),
        (State.DISPOSED, None, Role.ACCEPTOR, {Action.SEND_CHECK}),
        (State.CHECKING, None, Role.SUPERVISOR, {Action.CHECK_PASS, Action.CHECK_FAIL}),
        (State.CHECKED, Action.CLOSE, Role.SHIFT_LEADER, {Action.CLOSE, Action.URGE}),
        (State.CHECKED, Action.REWORK, Role.SHIFT_LEADER, {Action.REWORK, Action.URGE}),
        (State.CHECKED, Action.REWORK, Role.DISPATCHER, {Action.REWORK}),
        (State.SELF_DISPOSED, None, Role.SHIFT_LEADER, {Action.CLOSE, Action.REJECT}),
        (State.CLOSED, None, Role.SHIFT_LEADER, set()),
        (State.VOIDED, None, Role.LEADER, set()),
    ],
    ids=lambda v: v.value if isinstance(v, State | Role) else None,
)
def test_allowed_actions(state: State, action: Action | None, role: Role, expected: set[Action]) -> None:
    case = case_in(state, action)
    offered = case.allowed_actions(actor(role))
    assert set(offered) == expected
    assert len(offered) == len(set(offered))


def test_allowed_actions_of_a_multi_role_actor_is_the_union() -> None:
    case = case_in(State.DISPATCHED)
    both = case.allowed_actions(actor(Role.HANDLER, Role.LEADER))
    assert set(both) == {Action.FEEDBACK, Action.RETURN, Action.REQUEST_EXTENSION, Action.REQUEST_PARK, Action.URGE}


@pytest.mark.parametrize("state", list(State), ids=lambda s: s.value)
def test_allowed_actions_agree_with_apply(state: State) -> None:
    """Every offered action succeeds; every action not offered is refused."""
    for role in Role:
        who = actor(role)
        offered = set(case_in(state).allowed_actions(who))
        for action in Action:
            case = case_in(state)
            try:
                case.apply(action, who, NOW, TIMING, full_params())
            except (TransitionNotAllowedError, ForbiddenError):
                assert action not in offered, f"{state}/{action}/{role} offered but refused"
            else:
                assert action in offered, f"{state}/{action}/{role} applied but not offered"


# ----- 7. the hash chain ---------------------------------------------------------------------------


def _sample_entry() -> LogEntry:
    entry = LogEntry(
        seq=3,
        at=at("2026-03-03 10:00"),
        actor="dispatcher-user",
        role=Role.DISPATCHER,
        action=Action.DISPATCH,
        from_state=State.FILED,
        to_state=State.DISPATCHED,
        reason="",
        attachments=("a.jpg",),
        data={"department": "D01"},
        step=Step.DISPATCH,
        step_due_at=at("2026-03-03 10:15"),
        on_time=True,
        prev_hash="a" * 64,
    )
    return dataclasses.replace(entry, hash=entry.computed_hash("KF1"))


CHANGES: dict[str, Any] = {
    "seq": 4,
    "at": at("2026-03-03 10:01"),
    "actor": "someone-else",
    "role": Role.SHIFT_LEADER,
    "action": Action.RETURN,
    "from_state": None,
    "to_state": State.ACCEPTED,
    "reason": "x",
    "attachments": ("b.jpg",),
    "data": {"department": "D02"},
    "step": None,
    "step_due_at": None,
    "on_time": False,
    "prev_hash": "b" * 64,
}


def test_changes_cover_every_hashed_field() -> None:
    assert set(CHANGES) == {f.name for f in dataclasses.fields(LogEntry)} - {"hash"}


@pytest.mark.parametrize(("name", "value"), list(CHANGES.items()), ids=list(CHANGES))
def test_altering_any_field_changes_the_hash(name: str, value: Any) -> None:
    entry = _sample_entry()
    assert getattr(entry, name) != value
    altered = dataclasses.replace(entry, **{name: value})
    assert altered.computed_hash("KF1") != entry.hash
    assert altered.hash == entry.hash  # the stored hash no longer matches: tampering is detectable


def test_the_case_number_is_hashed_and_the_stored_hash_is_not() -> None:
    entry = _sample_entry()
    assert entry.computed_hash("KF2") != entry.hash
    assert dataclasses.replace(entry, hash="f" * 64).computed_hash("KF1") == entry.hash


@pytest.mark.parametrize("tz", [UTC, ZoneInfo("Europe/Berlin"), ZoneInfo("America/Los_Angeles")], ids=str)
def test_the_payload_does_not_depend_on_the_time_zone(tz: ZoneInfo) -> None:
    entry = _sample_entry()
    moved = dataclasses.replace(entry, at=entry.at.astimezone(tz), step_due_at=entry.step_due_at.astimezone(tz))  # type: ignore[union-attr]
    assert moved.payload("KF1") == entry.payload("KF1")
    assert moved.computed_hash("KF1") == entry.hash
    assert "2026-03-03T02:00:00+00:00" in entry.payload("KF1")


def test_a_whole_life_forms_one_unbroken_chain() -> None:
    case = dispatched("2紧急工作时", dispatch_at=at("2026-03-03 09:20"))
    case.apply(Action.FEEDBACK, actor(Role.HANDLER), at("2026-03-03 10:30"), TIMING, full_params())
    case.apply(Action.SEND_CHECK, actor(Role.ACCEPTOR), at("2026-03-03 10:35"), TIMING, Params())
    case.apply(Action.CHECK_PASS, actor(Role.SUPERVISOR), at("2026-03-03 11:00"), TIMING, Params())
    case.apply(Action.CLOSE, actor(Role.SHIFT_LEADER), at("2026-03-03 11:10"), TIMING, Params())
    assert case.state is State.CLOSED and case.closed_at == at("2026-03-03 11:10")
    assert case.current_step is None
    log = case.new_log
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    assert log[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(log):
        assert after.prev_hash == before.hash
        assert after.from_state is before.to_state
    assert all(e.hash == e.computed_hash(case.case_no) for e in log)
    assert case.log_head == log[-1].hash
    assert all(s.on_time for s in case.steps), [(s.step, s.due_at, s.done_at) for s in case.steps]


def test_a_failed_move_leaves_the_case_as_it_was() -> None:
    case = case_in(State.FILED, Action.DISPATCH)
    before = dataclasses.asdict(case)
    dispatcher = Actor("d", frozenset({Role.DISPATCHER}), "410202")
    beyond_calendar = datetime(2027, 1, 2, 9, tzinfo=SH)
    with pytest.raises(InvalidInputError) as info:
        case.apply(Action.DISPATCH, dispatcher, beyond_calendar, TIMING, Params(department_code="D02"))
    assert info.value.code == "calendar.out_of_range"
    assert dataclasses.asdict(case) == before
