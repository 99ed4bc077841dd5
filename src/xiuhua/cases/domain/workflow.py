"""The closed loop as one table: (state, action) → next state, with the roles allowed and guards.

The seven steps (GB/T 30428.1): report → accept (and verify, for reports not made by a supervisor)
→ file → dispatch → dispose and feed back → check → close. Special paths: void (with a duplicate
link), return (department → dispatcher → acceptor), extension and parking requests approved or
rejected by the dispatcher, resume from parking, rework after a failed check, urging at any open
step, and self-disposal by a supervisor audited by the shift leader.

No other code branches on the state: it asks this table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from xiuhua.kernel.actor import Role
from xiuhua.kernel.errors import ConflictError

if TYPE_CHECKING:
    from xiuhua.cases.domain.case import Case


class Source(StrEnum):
    """Where a report came from."""

    SUPERVISOR = "supervisor"  # 监督员上报
    PUBLIC = "public"  # 公众举报
    HOTLINE = "hotline"  # 12345/12319 热线
    VIDEO = "video"  # 视频智能发现
    SENSOR = "sensor"  # 物联感知
    LEADER = "leader"  # 领导交办
    TRANSFER = "transfer"  # 部门移交
    SELF_DISPOSAL = "self_disposal"  # 自处理

    @property
    def label(self) -> str:
        return SOURCE_LABELS[self]

    @property
    def needs_verification(self) -> bool:
        """Reports not made by a supervisor on patrol are verified on site before filing."""
        return self not in (Source.SUPERVISOR, Source.SELF_DISPOSAL)


SOURCE_LABELS = {
    Source.SUPERVISOR: "监督员上报",
    Source.PUBLIC: "公众举报",
    Source.HOTLINE: "12345/12319 热线",
    Source.VIDEO: "视频智能发现",
    Source.SENSOR: "物联感知",
    Source.LEADER: "领导交办",
    Source.TRANSFER: "部门移交",
    Source.SELF_DISPOSAL: "自处理",
}


_S = Source
REPORTING_SOURCES: dict[Role, tuple[Source, ...]] = {
    Role.SUPERVISOR: (_S.SUPERVISOR, _S.SELF_DISPOSAL),  # what they find on patrol, or fix on the spot
    Role.ACCEPTOR: (_S.HOTLINE, _S.PUBLIC, _S.TRANSFER),  # the command center takes calls, letters, hand-overs
    Role.DISPATCHER: (_S.HOTLINE, _S.PUBLIC, _S.TRANSFER),
    Role.SHIFT_LEADER: (_S.HOTLINE, _S.PUBLIC, _S.TRANSFER, _S.LEADER),  # records a leader's instruction too
    Role.LEADER: (_S.LEADER,),
    Role.HANDLER: (_S.TRANSFER,),  # a department hands over a problem it found
    Role.CITIZEN: (_S.PUBLIC,),
    Role.SYSTEM: (_S.SENSOR, _S.VIDEO, _S.TRANSFER),  # devices, cameras and business systems
}
"""The sources each role may report under: the source follows from who reports (a role claims only its own)."""


def reporting_sources(roles: frozenset[Role]) -> tuple[Source, ...]:
    """The sources these roles may report under, the first being the default."""
    return tuple(dict.fromkeys(s for role, sources in REPORTING_SOURCES.items() if role in roles for s in sources))


class State(StrEnum):
    REPORTED = "reported"  # 待受理
    VERIFYING = "verifying"  # 核实中
    ACCEPTED = "accepted"  # 待立案
    FILED = "filed"  # 待派遣
    DISPATCHED = "dispatched"  # 处置中
    RETURN_REQUESTED = "return_requested"  # 回退申请中
    EXTENSION_REQUESTED = "extension_requested"  # 延期申请中
    PARK_REQUESTED = "park_requested"  # 挂账申请中
    PARKED = "parked"  # 已挂账
    DISPOSED = "disposed"  # 已反馈，待派发核查
    CHECKING = "checking"  # 核查中
    CHECKED = "checked"  # 已核查，待结案
    SELF_DISPOSED = "self_disposed"  # 自处理，待值班长审核
    CLOSED = "closed"  # 已结案
    VOIDED = "voided"  # 已作废

    @property
    def label(self) -> str:
        return STATE_LABELS[self]

    @property
    def final(self) -> bool:
        return self in (State.CLOSED, State.VOIDED)


STATE_LABELS = {
    State.REPORTED: "待受理",
    State.VERIFYING: "核实中",
    State.ACCEPTED: "待立案",
    State.FILED: "待派遣",
    State.DISPATCHED: "处置中",
    State.RETURN_REQUESTED: "回退申请中",
    State.EXTENSION_REQUESTED: "延期申请中",
    State.PARK_REQUESTED: "挂账申请中",
    State.PARKED: "已挂账",
    State.DISPOSED: "待派发核查",
    State.CHECKING: "核查中",
    State.CHECKED: "待结案",
    State.SELF_DISPOSED: "自处理待审核",
    State.CLOSED: "已结案",
    State.VOIDED: "已作废",
}


class Action(StrEnum):
    REPORT = "report"  # 上报 (the first log row; not a transition)
    ACCEPT = "accept"  # 受理
    SEND_VERIFY = "send_verify"  # 派发核实
    VERIFY = "verify"  # 核实属实
    REFUTE = "refute"  # 核实不属实
    FILE = "file"  # 立案
    VOID = "void"  # 作废
    DISPATCH = "dispatch"  # 派遣
    RETURN = "return"  # 回退
    REQUEST_EXTENSION = "request_extension"  # 延期申请
    REQUEST_PARK = "request_park"  # 挂账申请
    APPROVE = "approve"  # 批准（回退、延期、挂账）
    REJECT = "reject"  # 驳回（回退、延期、挂账、自处理审核）
    RESUME = "resume"  # 挂账恢复
    FEEDBACK = "feedback"  # 处置反馈
    SEND_CHECK = "send_check"  # 派发核查
    CHECK_PASS = "check_pass"  # 核查通过
    CHECK_FAIL = "check_fail"  # 核查不通过
    REWORK = "rework"  # 返工
    CLOSE = "close"  # 结案
    URGE = "urge"  # 督办
    SELF_DISPOSE = "self_dispose"  # 自处理

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS = {
    Action.REPORT: "上报",
    Action.ACCEPT: "受理",
    Action.SEND_VERIFY: "派发核实",
    Action.VERIFY: "核实属实",
    Action.REFUTE: "核实不属实",
    Action.FILE: "立案",
    Action.VOID: "作废",
    Action.DISPATCH: "派遣",
    Action.RETURN: "回退",
    Action.REQUEST_EXTENSION: "申请延期",
    Action.REQUEST_PARK: "申请挂账",
    Action.APPROVE: "批准",
    Action.REJECT: "驳回",
    Action.RESUME: "挂账恢复",
    Action.FEEDBACK: "处置反馈",
    Action.SEND_CHECK: "派发核查",
    Action.CHECK_PASS: "核查通过",
    Action.CHECK_FAIL: "核查不通过",
    Action.REWORK: "返工",
    Action.CLOSE: "结案",
    Action.URGE: "督办",
    Action.SELF_DISPOSE: "自处理",
}


class Step(StrEnum):
    """A timed step; each state waits on one step (see STEP_OF)."""

    ACCEPT = "accept"  # 受理
    VERIFY = "verify"  # 核实
    FILE = "file"  # 立案
    DISPATCH = "dispatch"  # 派遣
    DISPOSE = "dispose"  # 处置
    SEND_CHECK = "send_check"  # 核查派发
    CHECK = "check"  # 核查
    CLOSE = "close"  # 结案

    @property
    def label(self) -> str:
        return {
            "accept": "受理",
            "verify": "核实",
            "file": "立案",
            "dispatch": "派遣",
            "dispose": "处置",
            "send_check": "核查派发",
            "check": "核查",
            "close": "结案",
        }[self.value]


STEP_OF: dict[State, Step] = {
    State.REPORTED: Step.ACCEPT,
    State.VERIFYING: Step.VERIFY,
    State.ACCEPTED: Step.FILE,
    State.FILED: Step.DISPATCH,
    State.DISPATCHED: Step.DISPOSE,
    State.RETURN_REQUESTED: Step.DISPOSE,
    State.EXTENSION_REQUESTED: Step.DISPOSE,
    State.PARK_REQUESTED: Step.DISPOSE,
    State.PARKED: Step.DISPOSE,
    State.DISPOSED: Step.SEND_CHECK,
    State.CHECKING: Step.CHECK,
    State.CHECKED: Step.CLOSE,
    State.SELF_DISPOSED: Step.CLOSE,
}

Guard = Callable[["Case"], str | None]
"""Returns None when the transition may happen, else the reason (zh-CN) it may not."""


def _needs_verification(case: Case) -> str | None:
    return "非监督员上报的问题须先派发核实" if case.needs_verification and not case.verified else None


def _supervisor_report(case: Case) -> str | None:
    return None if case.needs_verification else "监督员上报的问题无需核实，可直接受理"


def _check_passed(case: Case) -> str | None:
    return None if case.check_passed else "核查未通过，不能结案，请返工"


def _check_failed(case: Case) -> str | None:
    return None if case.check_passed is False else "核查已通过，无需返工"


def _self_disposal(case: Case) -> str | None:
    return None if case.source is Source.SELF_DISPOSAL else "只有来源为自处理的案件可以自处理"


def _refuted(case: Case) -> str | None:
    return "核实结果为不属实，应作废" if case.verified is False else None


@dataclass(frozen=True, slots=True)
class Transition:
    source: State
    action: Action
    target: State
    roles: frozenset[Role]
    guard: Guard | None = None
    reason_required: bool = False
    effect: str | None = None
    """What the move does to the case besides its state (see case.EFFECTS); defaults to the action's name."""


def _t(
    source: State,
    action: Action,
    target: State,
    *roles: Role,
    guard: Guard | None = None,
    reason: bool = False,
    effect: str | None = None,
) -> Transition:
    return Transition(source, action, target, frozenset(roles), guard, reason, effect or action.value)


S, A, R = State, Action, Role
_OPEN_AFTER_FILING = (
    S.FILED, S.DISPATCHED, S.RETURN_REQUESTED, S.EXTENSION_REQUESTED, S.PARK_REQUESTED, S.PARKED,
    S.DISPOSED, S.CHECKING, S.CHECKED,
)  # fmt: skip
_URGERS = (R.LEADER, R.SHIFT_LEADER, R.SYSTEM)

TRANSITIONS: tuple[Transition, ...] = (
    # 受理 and 核实
    _t(S.REPORTED, A.ACCEPT, S.ACCEPTED, R.ACCEPTOR, guard=_needs_verification),
    _t(S.REPORTED, A.SEND_VERIFY, S.VERIFYING, R.ACCEPTOR, guard=_supervisor_report),
    _t(S.VERIFYING, A.VERIFY, S.ACCEPTED, R.SUPERVISOR),
    _t(S.VERIFYING, A.REFUTE, S.ACCEPTED, R.SUPERVISOR, reason=True),
    _t(S.REPORTED, A.SELF_DISPOSE, S.SELF_DISPOSED, R.SUPERVISOR, guard=_self_disposal),
    # 立案 or 作废
    _t(S.ACCEPTED, A.FILE, S.FILED, R.SHIFT_LEADER, guard=_refuted),
    _t(S.REPORTED, A.VOID, S.VOIDED, R.ACCEPTOR, R.SHIFT_LEADER, reason=True),
    _t(S.VERIFYING, A.VOID, S.VOIDED, R.SHIFT_LEADER, reason=True),
    _t(S.ACCEPTED, A.VOID, S.VOIDED, R.SHIFT_LEADER, reason=True),
    # 派遣, and 回退 from the dispatcher to the acceptor
    _t(S.FILED, A.DISPATCH, S.DISPATCHED, R.DISPATCHER),
    _t(S.FILED, A.RETURN, S.ACCEPTED, R.DISPATCHER, reason=True, effect="return_to_acceptor"),
    # 处置: the department's requests, each approved or rejected by the dispatcher
    _t(S.DISPATCHED, A.RETURN, S.RETURN_REQUESTED, R.HANDLER, reason=True, effect="request_return"),
    _t(S.RETURN_REQUESTED, A.APPROVE, S.FILED, R.DISPATCHER, effect="grant_return"),
    _t(S.RETURN_REQUESTED, A.REJECT, S.DISPATCHED, R.DISPATCHER, reason=True, effect="refuse"),
    _t(S.DISPATCHED, A.REQUEST_EXTENSION, S.EXTENSION_REQUESTED, R.HANDLER, reason=True),
    _t(S.EXTENSION_REQUESTED, A.APPROVE, S.DISPATCHED, R.DISPATCHER, effect="grant_extension"),
    _t(S.EXTENSION_REQUESTED, A.REJECT, S.DISPATCHED, R.DISPATCHER, reason=True, effect="refuse_extension"),
    _t(S.DISPATCHED, A.REQUEST_PARK, S.PARK_REQUESTED, R.HANDLER, reason=True),
    _t(S.PARK_REQUESTED, A.APPROVE, S.PARKED, R.DISPATCHER, effect="grant_park"),
    _t(S.PARK_REQUESTED, A.REJECT, S.DISPATCHED, R.DISPATCHER, reason=True, effect="refuse"),
    _t(S.PARKED, A.RESUME, S.DISPATCHED, R.DISPATCHER, reason=True),
    _t(S.DISPATCHED, A.FEEDBACK, S.DISPOSED, R.HANDLER),
    # 核查 and 结案 (or 返工 to the same department)
    _t(S.DISPOSED, A.SEND_CHECK, S.CHECKING, R.ACCEPTOR),
    _t(S.CHECKING, A.CHECK_PASS, S.CHECKED, R.SUPERVISOR),
    _t(S.CHECKING, A.CHECK_FAIL, S.CHECKED, R.SUPERVISOR, reason=True),
    _t(S.CHECKED, A.CLOSE, S.CLOSED, R.SHIFT_LEADER, guard=_check_passed),
    _t(S.CHECKED, A.REWORK, S.DISPATCHED, R.SHIFT_LEADER, R.DISPATCHER, guard=_check_failed, reason=True),
    # 自处理 audited by the shift leader: closed, or sent through the ordinary loop
    _t(S.SELF_DISPOSED, A.CLOSE, S.CLOSED, R.SHIFT_LEADER),
    _t(S.SELF_DISPOSED, A.REJECT, S.ACCEPTED, R.SHIFT_LEADER, reason=True, effect="refuse"),
    # 督办 at any open step after filing: the state stays, an urge order is issued
    *(_t(s, A.URGE, s, *_URGERS, reason=True) for s in _OPEN_AFTER_FILING),
)

INITIAL = State.REPORTED
_BY_KEY: dict[tuple[State, Action], Transition] = {}


def check_table(transitions: tuple[Transition, ...] = TRANSITIONS) -> dict[tuple[State, Action], Transition]:
    """Validate the table: unique (state, action), no exit from a final state, every state reachable."""
    by_key: dict[tuple[State, Action], Transition] = {}
    for t in transitions:
        if (t.source, t.action) in by_key:
            raise ValueError(f"ambiguous transition {t.source}/{t.action}")
        if t.source.final:
            raise ValueError(f"final state {t.source} has an exit")
        if not t.roles:
            raise ValueError(f"transition {t.source}/{t.action} allows no role")
        by_key[(t.source, t.action)] = t
    reached, frontier = {INITIAL}, [INITIAL]
    while frontier:
        state = frontier.pop()
        for t in transitions:
            if t.source is state and t.target not in reached:
                reached.add(t.target)
                frontier.append(t.target)
    if missing := set(State) - reached:
        raise ValueError(f"unreachable states: {sorted(missing)}")
    for state in State:
        if not state.final and state not in STEP_OF:
            raise ValueError(f"open state {state} has no timed step")
    return by_key


_BY_KEY.update(check_table())


class TransitionNotAllowedError(ConflictError):
    """The action does not apply to the case in its current state."""

    def __init__(self, case_no: str, state: State, action: Action, why: str | None = None) -> None:
        text = why or f"当前状态下不能执行此操作，可执行：{'、'.join(a.label for a in actions_from(state)) or '无'}"
        super().__init__(
            "case.transition_not_allowed",
            f"案件 {case_no} 处于“{state.label}”，不能“{action.label}”：{text}",
            case_no=case_no,
            state=state.value,
            action=action.value,
        )


def actions_from(state: State) -> list[Action]:
    return [a for (s, a) in _BY_KEY if s is state]


def transition_for(state: State, action: Action) -> Transition | None:
    return _BY_KEY.get((state, action))
