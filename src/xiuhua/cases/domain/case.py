"""The case aggregate: one problem's record, moved through the workflow table, with a hash-chained log."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from xiuhua.cases.domain.events import CaseReported, CaseTransitioned
from xiuhua.cases.domain.workflow import (
    INITIAL,
    STEP_OF,
    TRANSITIONS,
    Action,
    Source,
    State,
    Step,
    TransitionNotAllowedError,
    actions_from,
    transition_for,
)
from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.actor import Actor, Role
from xiuhua.kernel.errors import ForbiddenError, InvalidInputError
from xiuhua.kernel.events import Event
from xiuhua.org.domain.calendar import Pause, TimeLimit, WorkCalendar
from xiuhua.org.domain.model import ClassKind

GENESIS = "0" * 64


class Urgency(StrEnum):
    NORMAL = "normal"  # 一般
    URGENT = "urgent"  # 紧急

    @property
    def label(self) -> str:
        return "紧急" if self is Urgency.URGENT else "一般"


class PhotoStage(StrEnum):
    REPORT = "report"  # 上报
    VERIFY = "verify"  # 核实
    BEFORE = "before"  # 处置前
    AFTER = "after"  # 处置后
    CHECK = "check"  # 核查


@dataclass(slots=True)
class StepRecord:
    """One timed step: when it began, its deadline (None while its clock is stopped), when it ended."""

    step: Step
    entered_at: datetime
    due_at: datetime | None
    done_at: datetime | None = None
    outcome: Action | None = None

    @property
    def on_time(self) -> bool | None:
        if self.done_at is None or self.due_at is None:
            return None
        return self.done_at <= self.due_at


@dataclass(slots=True)
class PauseSpan:
    """A stopped disposal clock: parked (挂账) or awaiting an extension decision."""

    kind: str  # "park" | "extension"
    start: datetime
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class UrgeOrder:
    """督办单: who urged, why, and by when the department must answer."""

    issued_at: datetime
    issued_by: str
    reason: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One transition in the case's append-only log, chained by hashes."""

    seq: int
    at: datetime
    actor: str
    role: Role
    action: Action
    from_state: State | None
    to_state: State
    reason: str
    attachments: tuple[str, ...]
    data: dict[str, Any]
    step: Step | None
    step_due_at: datetime | None
    on_time: bool | None
    prev_hash: str
    hash: str = ""

    def payload(self, case_no: str) -> str:
        """The canonical text the hash covers."""
        return json.dumps(
            [
                case_no,
                self.seq,
                _utc(self.at),
                self.actor,
                self.role.value,
                self.action.value,
                self.from_state.value if self.from_state else None,
                self.to_state.value,
                self.reason,
                list(self.attachments),
                self.data,
                self.step.value if self.step else None,
                _utc(self.step_due_at) if self.step_due_at else None,
                self.on_time,
                self.prev_hash,
            ],
            ensure_ascii=False,
            sort_keys=True,
            separators=(",", ":"),
        )

    def computed_hash(self, case_no: str) -> str:
        return hashlib.sha256(self.payload(case_no).encode("utf-8")).hexdigest()


# Product defaults for the steps other than disposal (a city edits them: step × urgency × area class).
DEFAULT_STEP_LIMITS: dict[tuple[str, str, str], str] = {
    ("accept", "*", "*"): "0.25工作时",
    ("verify", "*", "*"): "0.5工作时",
    ("file", "*", "*"): "0.25工作时",
    ("dispatch", "*", "*"): "0.25工作时",
    ("send_check", "*", "*"): "0.25工作时",
    ("check", "*", "*"): "0.5工作时",
    ("close", "*", "*"): "0.5工作时",
    ("urge", "*", "*"): "1工作日",
    ("accept", "urgent", "*"): "0.25紧急工作时",
    ("verify", "urgent", "*"): "0.5紧急工作时",
    ("file", "urgent", "*"): "0.25紧急工作时",
    ("dispatch", "urgent", "*"): "0.25紧急工作时",
    ("send_check", "urgent", "*"): "0.25紧急工作时",
    ("check", "urgent", "*"): "0.5紧急工作时",
    ("close", "urgent", "*"): "0.5紧急工作时",
    ("urge", "urgent", "*"): "2紧急工作时",
}


def _utc(moment: datetime) -> str:
    """The instant in UTC: the log is hashed the same whatever zone a time was written in."""
    return moment.astimezone(UTC).isoformat()


@dataclass
class Timing:
    """Everything deadlines depend on: the calendar, step limits, and the city's clock policies."""

    calendar: WorkCalendar
    step_limits: dict[tuple[str, str, str], TimeLimit]
    pause_while_extension_pending: bool = True

    def step_limit(self, step: str, urgency: Urgency, area_class: str | None) -> TimeLimit:
        """The most specific limit for (step, urgency, area class); '*' matches anything."""
        for key in (
            (step, urgency.value, area_class or "*"),
            (step, urgency.value, "*"),
            (step, "*", area_class or "*"),
            (step, "*", "*"),
        ):
            if key in self.step_limits:
                return self.step_limits[key]
        raise InvalidInputError("case.no_step_limit", f"未配置“{step}”环节的时限", step=step)


@dataclass
class Params:
    """What an action may carry; each action reads the fields it needs."""

    reason: str = ""
    standard_id: int | None = None
    standard_limit: TimeLimit | None = None
    department_code: str | None = None
    handler: str | None = None
    extension: TimeLimit | None = None
    duplicate_of: str | None = None
    attachments: tuple[str, ...] = ()
    suggested_department: str | None = None
    outside_jurisdiction: bool = False  # a city-wide dispatch beyond the department's jurisdiction


@dataclass(eq=False)
class Case:
    case_no: str
    source: Source
    kind: ClassKind
    class_code: str
    location: Location
    description: str
    urgency: Urgency
    reported_at: datetime
    reporter: str = ""  # a staff username, or a citizen's name
    reporter_phone: str | None = None
    component_id: str | None = None
    idempotency_key: str | None = None  # scoped (domain/idempotency.py)
    request_digest: str | None = None  # what the report said, to refuse the same key for another report
    id: int | None = None
    version: int = 0
    state: State = INITIAL
    needs_verification: bool = True
    verified: bool | None = None
    check_passed: bool | None = None
    standard_id: int | None = None
    disposal_limit: TimeLimit | None = None
    department_code: str | None = None
    handler: str | None = None
    duplicate_of: str | None = None
    repeat_of: str | None = None
    dispatched_at: datetime | None = None
    closed_at: datetime | None = None
    pending_extension: TimeLimit | None = None
    extensions: list[TimeLimit] = field(default_factory=list)
    pauses: list[PauseSpan] = field(default_factory=list)
    steps: list[StepRecord] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    overdue: bool = False
    overnight: bool = False
    auto_urged_at: datetime | None = None
    log_head: str = GENESIS
    log_seq: int = 0
    new_log: list[LogEntry] = field(default_factory=list)
    new_urges: list[UrgeOrder] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Not a field: an event refers back to its case, and fields are what asdict() and replace() walk.
        self.events: list[Event] = []
        """What happened to the case since it was loaded (one event per new log row); the unit of work hands
        them to the message bus when it commits."""

    # ----- reading -------------------------------------------------------------------------------
    @property
    def current_step(self) -> StepRecord | None:
        return self.steps[-1] if self.steps and self.steps[-1].done_at is None else None

    @property
    def due_at(self) -> datetime | None:
        step = self.current_step
        return step.due_at if step else None

    def count(self, name: str) -> int:
        return self.counters.get(name, 0)

    def allowed_actions(self, actor: Actor) -> list[Action]:
        """The actions this actor may take now (drives the console's buttons)."""
        out = []
        for action in actions_from(self.state):
            t = transition_for(self.state, action)
            if t and t.roles & actor.roles and (t.guard is None or t.guard(self) is None):
                out.append(action)
        return out

    # ----- creating ------------------------------------------------------------------------------
    def open(self, actor: Actor, timing: Timing, attachments: tuple[str, ...] = ()) -> LogEntry:
        """Start a new case: the first log row, and the acceptance step with its deadline."""
        if self.log_seq:
            raise InvalidInputError("case.already_open", f"案件 {self.case_no} 已上报")
        self.needs_verification = self.source.needs_verification
        role = sorted(actor.roles)[0] if actor.roles else Role.SYSTEM
        self.steps.append(
            StepRecord(Step.ACCEPT, self.reported_at, self._step_due(Step.ACCEPT, self.reported_at, timing))
        )
        return self._log(
            self.reported_at, actor.username, role, Action.REPORT, None, INITIAL, "", attachments, {}, None
        )

    # ----- acting --------------------------------------------------------------------------------
    def apply(self, action: Action, actor: Actor, now: datetime, timing: Timing, params: Params) -> LogEntry:
        """Move the case by one action; raises TransitionNotAllowedError, ForbiddenError, InvalidInputError."""
        t = transition_for(self.state, action)
        if t is None:
            raise TransitionNotAllowedError(self.case_no, self.state, action)
        role = _acting_role(actor, t.roles)
        if t.reason_required and not params.reason.strip():
            raise InvalidInputError(
                "case.reason_required", f"“{action.label}”须填写原因", case_no=self.case_no, action=action.value
            )
        if t.guard and (why := t.guard(self)):
            raise TransitionNotAllowedError(self.case_no, self.state, action, why)
        source = self.state
        before = _snapshot(self)
        try:
            data = EFFECTS[t.effect or action.value](self, params, now, timing, actor.username)
            self.state = t.target
            ended = self._advance_steps(source, action, now, timing)
        except Exception:
            self.__dict__.update(before)  # all or nothing: a failed move leaves the case as it was
            raise
        return self._log(now, actor.username, role, action, source, self.state, params.reason, params.attachments,
                         data, ended)  # fmt: skip

    def _advance_steps(self, source: State, action: Action, now: datetime, timing: Timing) -> StepRecord | None:
        """Close the step the case leaves and open the one it enters; recompute the disposal deadline."""
        old, new = STEP_OF.get(source), STEP_OF.get(self.state)
        restart = action in (Action.DISPATCH, Action.REWORK)
        current = self.current_step
        if old is new and not restart:
            if new is Step.DISPOSE and current is not None:
                current.due_at = self.disposal_due(timing)
                self.overdue = current.due_at is not None and current.due_at < now  # parked: not overdue
            return None
        if current is not None:
            current.done_at, current.outcome = now, action
        if new is not None:
            due = self.disposal_due(timing) if new is Step.DISPOSE else self._step_due(new, now, timing)
            self.steps.append(StepRecord(new, now, due))
        self.overdue = False
        return current

    def _step_due(self, step: Step, now: datetime, timing: Timing) -> datetime:
        limit = timing.step_limit(step.value, self.urgency, self.location.area_class)
        return timing.calendar.deadline(now, limit)

    def disposal_due(self, timing: Timing) -> datetime | None:
        """Disposal deadline from dispatch: the standard's limit, then each approved extension, skipping pauses.

        None while the clock is stopped (parked, or an extension pending where the city pauses then).
        """
        if self.dispatched_at is None or self.disposal_limit is None:
            return None
        if any(p.end is None for p in self.pauses):
            return None
        pauses = [Pause(p.start, p.end) for p in self.pauses if p.end is not None]
        due = timing.calendar.deadline(self.dispatched_at, self.disposal_limit, pauses)
        for extension in self.extensions:
            due = timing.calendar.deadline(due, extension, pauses)
        return due

    def _log(
        self,
        at: datetime,
        actor: str,
        role: Role,
        action: Action,
        source: State | None,
        target: State,
        reason: str,
        attachments: tuple[str, ...],
        data: dict[str, Any],
        ended: StepRecord | None,
    ) -> LogEntry:
        entry = LogEntry(
            seq=self.log_seq + 1,
            at=at,
            actor=actor,
            role=role,
            action=action,
            from_state=source,
            to_state=target,
            reason=reason.strip(),
            attachments=tuple(attachments),
            data=data,
            step=ended.step if ended else None,
            step_due_at=ended.due_at if ended else None,
            on_time=ended.on_time if ended else None,
            prev_hash=self.log_head,
        )
        entry = replace(entry, hash=entry.computed_hash(self.case_no))
        self.log_seq, self.log_head = entry.seq, entry.hash
        self.new_log.append(entry)
        self.events.append(CaseReported(self, entry) if source is None else CaseTransitioned(self, entry))
        return entry

    def bump(self, counter: str) -> None:
        self.counters[counter] = self.count(counter) + 1


def _snapshot(case: Case) -> dict[str, Any]:
    """A copy of the case's fields deep enough to undo any effect: lists and dicts, and the mutable
    records inside them (frozen values are shared). Much cheaper than copy.deepcopy."""
    out: dict[str, Any] = {}
    for name, value in case.__dict__.items():
        if isinstance(value, list):
            value = [replace(v) if isinstance(v, StepRecord | PauseSpan) else v for v in value]
        elif isinstance(value, dict):
            value = dict(value)
        out[name] = value
    return out


def _acting_role(actor: Actor, allowed: frozenset[Role] | set[Role]) -> Role:
    roles = actor.roles & allowed
    if not roles:
        names = "、".join(r.label for r in sorted(allowed))
        raise ForbiddenError("case.role_denied", f"此操作需要以下角色之一：{names}", roles=sorted(allowed))
    return sorted(roles)[0]


# ----- what a move does besides changing the state: keyed by the table's effect name ----------------
Effect = Callable[[Case, Params, datetime, Timing, str], dict[str, Any]]


def _no_effect(case: Case, p: Params, now: datetime, timing: Timing, actor: str) -> dict[str, Any]:
    return {}


def _verify(case: Case, p: Params, now: datetime, timing: Timing, actor: str) -> dict[str, Any]:
    case.verified = True
    return {}


def _refute(case: Case, p: Params, now: datetime, timing: Timing, actor: str) -> dict[str, Any]:
    case.verified = False
    return {}


def _file(case: Case, p: Params, now: datetime, timing: Timing, actor: str) -> dict[str, Any]:
    if p.standard_id is None or p.standard_limit is None:
        raise InvalidInputError("case.no_standard", "立案须选择一条立案条件", case_no=case.case_no)
    case.standard_id, case.disposal_limit = p.standard_id, p.standard_limit
    return {"standard_id": p.standard_id, "limit": str(p.standard_limit)}


def _void(case: Case, p: Params, now: datetime, timing: Timing, actor: str) -> dict[str, Any]:
    if p.duplicate_of == case.case_no:
        raise InvalidInputError("case.self_duplicate", "案件不能与自身重复")
    case.duplicate_of = p.duplicate_of
    case.closed_at = now
    return {"duplicate_of": p.duplicate_of} if p.duplicate_of else {}


def _dispatch(case: Case, p: Params, now: datetime, timing: Timing, actor: str) -> dict[str, Any]:
    if not p.department_code:
        raise InvalidInputError("case.no_department", "派遣须指定处置部门", case_no=case.case_no)
    if case.count("dispatches"):
        case.bump("redispatches")
    case.bump("dispatches")
    case.department_code, case.handler = p.department_code, p.handler
    case.dispatched_at, case.extensions, case.pauses = now, [], []
    data: dict[str, Any] = {"department": p.department_code}
    if p.suggested_department:
        data["suggested"] = p.suggested_department
    if p.outside_jurisdiction:
        data["outside_jurisdiction"] = True
    return data


def _request_return(case: Case, p: Params, now: datetime, timing: Timing, actor: str) -> dict[str, Any]:
    return {"department": case.department_code}


def _grant_return(case: Case, p: Params, now: datetime, timing: Timing, actor: str) -> dict[str, Any]:
    case.bump("returns")
    returned_by = case.department_code
    case.department_code = case.handler = None
    case.dispatched_at = None
    return {"department": returned_by}


def _return_to_acceptor(case: Case, p: Params, now: datetime, timing: Timing, actor: str) -> dict[str, Any]:
    case.bump("returns")
    return {}


def _request_extension(case: Case, p: Params, now: datetime, timing: Timing, actor: str) -> dict[str, Any]:
    if p.extension is None or p.extension.value <= 0:
        raise InvalidInputError("case.no_extension", "申请延期须填写延长的时限，如 1工作日")
    timing.calendar.unit_of(p.extension.unit)
    case.pending_extension = p.extension
    if timing.pause_while_extension_pending:
        case.pauses.append(PauseSpan("extension", now))
    return {"extension": str(p.extension)}


def _end_pause(case: Case, now: datetime) -> None:
    for pause in case.pauses:
        if pause.end is None:
            pause.end = now


def _grant_extension(case: Case, p: Params, now: datetime, timing: Timing, actor: str) -> dict[str, Any]:
    granted = case.pending_extension
    assert granted is not None  # set by the request that led to this state
    _end_pause(case, now)
    case.extensions.append(granted)
    case.pending_extension = None
    case.bump("extensions")
    return {"extension": str(granted)}


def _refuse_extension(case: Case, p: Params, now: datetime, timing: Timing, actor: str) -> dict[str, Any]:
    case.pending_extension = None
    _end_pause(case, now)
    return {}


def _grant_park(case: Case, p: Params, now: datetime, timing: Timing, actor: str) -> dict[str, Any]:
    case.pauses.append(PauseSpan("park", now))
    case.bump("parks")
    return {}


def _resume(case: Case, p: Params, now: datetime, timing: Timing, actor: str) -> dict[str, Any]:
    _end_pause(case, now)
    return {}


def _feedback(case: Case, p: Params, now: datetime, timing: Timing, actor: str) -> dict[str, Any]:
    if not p.attachments:
        raise InvalidInputError("case.no_photo", "处置反馈须附处置后照片", case_no=case.case_no)
    case.check_passed = None
    return {}


def _check_pass(case: Case, p: Params, now: datetime, timing: Timing, actor: str) -> dict[str, Any]:
    case.check_passed = True
    return {}


def _check_fail(case: Case, p: Params, now: datetime, timing: Timing, actor: str) -> dict[str, Any]:
    case.check_passed = False
    return {}


def _rework(case: Case, p: Params, now: datetime, timing: Timing, actor: str) -> dict[str, Any]:
    case.bump("reworks")
    case.dispatched_at, case.extensions, case.pauses = now, [], []
    case.check_passed = None
    return {"department": case.department_code}


def _close(case: Case, p: Params, now: datetime, timing: Timing, actor: str) -> dict[str, Any]:
    case.closed_at = now
    return {}


def _urge(case: Case, p: Params, now: datetime, timing: Timing, actor: str) -> dict[str, Any]:
    limit = timing.step_limit("urge", case.urgency, case.location.area_class)
    due = timing.calendar.deadline(now, limit)
    case.new_urges.append(UrgeOrder(now, actor, p.reason.strip(), due))
    case.bump("urges")
    return {"urge_due_at": due.isoformat()}


EFFECTS: dict[str, Effect] = {
    "accept": _no_effect,
    "send_verify": _no_effect,
    "self_dispose": _no_effect,
    "send_check": _no_effect,
    "verify": _verify,
    "refute": _refute,
    "file": _file,
    "void": _void,
    "dispatch": _dispatch,
    "request_return": _request_return,
    "grant_return": _grant_return,
    "return_to_acceptor": _return_to_acceptor,
    "request_extension": _request_extension,
    "grant_extension": _grant_extension,
    "refuse_extension": _refuse_extension,
    "request_park": _no_effect,
    "grant_park": _grant_park,
    "refuse": _no_effect,
    "resume": _resume,
    "feedback": _feedback,
    "check_pass": _check_pass,
    "check_fail": _check_fail,
    "rework": _rework,
    "close": _close,
    "urge": _urge,
}

_missing = {t.effect or t.action.value for t in TRANSITIONS} - set(EFFECTS)
if _missing:  # pragma: no cover - a typo in the table fails at import, not silently at run time
    raise ImportError(f"transitions name effects that do not exist: {sorted(_missing)}")
