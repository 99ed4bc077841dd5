"""The read side: case lists, details, task queues and citizens' own reports, straight from SQL into DTOs.

Every query is limited to the viewer's scope by the one rule of domain/scope.py; details go
through access_case itself. Reporters' names and phones are masked or left out by the viewer's roles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, select

from xiuhua.cases.adapters import scope_sql
from xiuhua.cases.adapters.scope_sql import CASE_PLACE
from xiuhua.cases.domain.case import Case
from xiuhua.cases.domain.scope import CaseScope
from xiuhua.cases.domain.workflow import STATE_LABELS, TRANSITIONS, Action, Source, State
from xiuhua.cases.ports import CaseReadsUnitOfWork
from xiuhua.cases.services.access import viewable_case
from xiuhua.cases.services.policy import CasePolicy
from xiuhua.kernel.actor import Actor, Role
from xiuhua.kernel.errors import InvalidInputError, NotFoundError
from xiuhua.org.domain.accounts import Principal, mask_name, mask_phone
from xiuhua.org.domain.model import ClassKind
from xiuhua.platform.db import tables as t

MAX_PAGE = 200
_C = t.cases.c


@dataclass(frozen=True, slots=True)
class CaseFilter:
    states: tuple[State, ...] = ()
    kind: ClassKind | None = None
    class_code: str | None = None
    region_code: str | None = None
    department_code: str | None = None
    overdue: bool | None = None
    source: Source | None = None
    reported_from: datetime | None = None
    reported_to: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None
    """(min lon, min lat, max lon, max lat), WGS84."""
    limit: int = 50
    after: int | None = None
    """The cursor: the id of the last case of the previous page."""

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE:
            raise InvalidInputError("query.bad_limit", f"每页条数应为 1–{MAX_PAGE}")
        if self.bbox is not None:
            x0, y0, x1, y1 = self.bbox
            if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
                raise InvalidInputError("query.bad_bbox", "范围应为 最小经度,最小纬度,最大经度,最大纬度（WGS84）")
        if self.reported_from and self.reported_to and self.reported_from > self.reported_to:
            raise InvalidInputError("query.bad_range", "时间范围的开始晚于结束")


@dataclass(frozen=True, slots=True)
class CaseSummary:
    id: int
    case_no: str
    state: State
    source: Source
    kind: ClassKind
    class_code: str
    urgency: str
    description: str
    address: str
    lon: float
    lat: float
    district_code: str
    street_code: str
    community_code: str
    grid_code: str | None
    department_code: str | None
    reported_at: datetime
    current_step: str | None
    due_at: datetime | None
    overdue: bool
    seconds_left: int | None = None
    """Until the current step's deadline (negative once overdue); None while its clock is stopped."""

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


@dataclass(frozen=True, slots=True)
class Page:
    items: list[CaseSummary]
    next_cursor: int | None


@dataclass(frozen=True, slots=True)
class CaseDetail:
    summary: CaseSummary
    reporter: str | None
    reporter_phone: str | None
    component_id: str | None
    area_class: str | None
    verified: bool | None
    check_passed: bool | None
    standard_id: int | None
    disposal_limit: str | None
    handler: str | None
    duplicate_of: str | None
    repeat_of: str | None
    dispatched_at: datetime | None
    closed_at: datetime | None
    pending_extension: str | None
    counters: dict[str, int]
    steps: list[dict[str, Any]]
    log: list[dict[str, Any]]
    photos: list[dict[str, Any]]
    urges: list[dict[str, Any]]
    allowed_actions: list[Action] = field(default_factory=list)


def region_clause(code: str) -> ColumnElement[bool]:
    """Cases located in a region: a city (xxxx00), district, street (9 digits) or community (12)."""
    return scope_sql.region_clause(code, CASE_PLACE)


def scope_clause(actor: Actor) -> ColumnElement[bool]:
    """The cases the actor's scope covers, in SQL (the rule of domain/scope.py)."""
    return scope_sql.scope_clause(CaseScope.of(actor), CASE_PLACE)


def _summary(r: Any, now: datetime | None = None) -> CaseSummary:
    left = int((r.due_at - now).total_seconds()) if now is not None and r.due_at is not None else None
    return CaseSummary(
        r.id, r.case_no, State(r.state), Source(r.source), ClassKind(r.kind), r.class_code, r.urgency, r.description,
        r.address, r.lon, r.lat, r.district_code, r.street_code, r.community_code, r.grid_code, r.department_code,
        r.reported_at, r.current_step, r.due_at, r.overdue, left,
    )  # fmt: skip


_SUMMARY_COLUMNS = (
    _C.id, _C.case_no, _C.state, _C.source, _C.kind, _C.class_code, _C.urgency, _C.description, _C.address,
    _C.lon, _C.lat, _C.district_code, _C.street_code, _C.community_code, _C.grid_code, _C.department_code,
    _C.reported_at, _C.current_step, _C.due_at, _C.overdue,
)  # fmt: skip


def list_cases(viewer: Principal, where: CaseFilter, uow: CaseReadsUnitOfWork) -> Page:
    """Cases the viewer may see, newest first, one page at a time (keyset cursor on the id)."""
    conditions = [scope_clause(viewer.actor)]
    if viewer.is_citizen:
        conditions = [_reported_by(viewer.username)]
    if where.states:
        conditions.append(_C.state.in_([s.value for s in where.states]))
    if where.kind:
        conditions.append(_C.kind == where.kind.value)
    if where.class_code:
        conditions.append(_C.class_code == where.class_code)
    if where.region_code:
        conditions.append(region_clause(where.region_code))
    if where.department_code:
        conditions.append(_C.department_code == where.department_code)
    if where.overdue is not None:
        conditions.append(_C.overdue.is_(where.overdue))
    if where.source:
        conditions.append(_C.source == where.source.value)
    if where.reported_from:
        conditions.append(_C.reported_at >= where.reported_from)
    if where.reported_to:
        conditions.append(_C.reported_at < where.reported_to)
    if where.bbox:
        x0, y0, x1, y1 = where.bbox
        conditions += [_C.lon.between(x0, x1), _C.lat.between(y0, y1)]
    if where.after is not None:
        conditions.append(_C.id < where.after)
    stmt = select(*_SUMMARY_COLUMNS).where(and_(*conditions)).order_by(_C.id.desc()).limit(where.limit + 1)
    with uow:
        rows = uow.connection.execute(stmt).all()
    items = [_summary(r) for r in rows[: where.limit]]
    return Page(items, items[-1].id if len(rows) > where.limit else None)


def _reported_by(username: str) -> ColumnElement[bool]:
    """Cases whose first log row was written by this citizen account (authoritative, unlike a typed name)."""
    log = t.case_log.c
    first = select(log.case_id).where(log.seq == 1, log.actor == username, log.role == Role.CITIZEN.value)
    return _C.id.in_(first)


def queue_states(roles: frozenset[Role]) -> list[State]:
    """The states in which one of these roles has work to do (urging is a leader's option, not a task)."""
    return sorted({tr.source for tr in TRANSITIONS if tr.action is not Action.URGE and tr.roles & roles})


def task_queue(viewer: Principal, now: datetime, uow: CaseReadsUnitOfWork, limit: int = 100) -> list[CaseSummary]:
    """The viewer's to-do list: cases waiting on one of their roles, in scope, nearest deadline first."""
    states = queue_states(viewer.roles)
    if not states or viewer.is_citizen:
        return []
    stmt = (
        select(*_SUMMARY_COLUMNS)
        .where(scope_clause(viewer.actor), _C.state.in_([s.value for s in states]))
        .order_by(_C.due_at.is_(None), _C.due_at, _C.id)
        .limit(min(max(limit, 1), MAX_PAGE))
    )
    with uow:
        return [_summary(r, now) for r in uow.connection.execute(stmt)]


def case_detail(viewer: Principal, case_no: str, uow: CaseReadsUnitOfWork, now: datetime) -> CaseDetail:
    """One case with its steps, log, photos and urges; scope-checked; reporters masked by role."""
    with uow:
        case = viewable_case(uow, viewer, case_no)
        log = uow.cases.log(case_no)
        assert case.id is not None
        photos = [
            {
                "stage": r.stage,
                "sha256": r.sha256,
                "content_type": r.content_type,
                "size": r.size,
                "added_at": r.added_at,
            }
            for r in uow.connection.execute(
                select(t.case_photos).where(t.case_photos.c.case_id == case.id).order_by(t.case_photos.c.added_at)
            )
        ]
        urges = [
            {"issued_at": r.issued_at, "issued_by": r.issued_by, "reason": r.reason, "due_at": r.due_at}
            for r in uow.connection.execute(
                select(t.urge_orders).where(t.urge_orders.c.case_id == case.id).order_by(t.urge_orders.c.id)
            )
        ]
        row = uow.connection.execute(select(*_SUMMARY_COLUMNS).where(_C.id == case.id)).one()
    reporter, phone = reporter_view(viewer, case)
    citizen = viewer.is_citizen
    return CaseDetail(
        summary=_summary(row, now),
        reporter=reporter,
        reporter_phone=phone,
        component_id=case.component_id,
        area_class=case.location.area_class,
        verified=case.verified,
        check_passed=case.check_passed,
        standard_id=case.standard_id,
        disposal_limit=str(case.disposal_limit) if case.disposal_limit else None,
        handler=None if citizen else case.handler,
        duplicate_of=case.duplicate_of,
        repeat_of=case.repeat_of,
        dispatched_at=case.dispatched_at,
        closed_at=case.closed_at,
        pending_extension=str(case.pending_extension) if case.pending_extension else None,
        counters=dict(case.counters),
        steps=[
            {
                "step": s.step.value,
                "label": s.step.label,
                "entered_at": s.entered_at,
                "due_at": s.due_at,
                "done_at": s.done_at,
                "on_time": s.on_time,
                "outcome": s.outcome.value if s.outcome else None,
            }
            for s in case.steps
        ],
        log=[
            {
                "seq": e.seq,
                "at": e.at,
                "actor": _log_actor(viewer, e.actor, e.role),
                "role": e.role.value,
                "action": e.action.value,
                "action_label": e.action.label,
                "from_state": e.from_state.value if e.from_state else None,
                "to_state": e.to_state.value,
                "reason": e.reason,
                "attachments": list(e.attachments),
                "data": _public_data(e.data, citizen),
                "step": e.step.value if e.step else None,
                "step_due_at": e.step_due_at,
                "on_time": e.on_time,
                "hash": e.hash,
            }
            for e in log
        ],
        photos=photos,
        urges=[] if citizen else urges,
        allowed_actions=[] if citizen else case.allowed_actions(viewer.actor),
    )


def _log_actor(viewer: Principal, actor: str, role: Role) -> str:
    """Staff names show to staff; a citizen's account is the reporter's identity, shown like their name."""
    if viewer.is_citizen:
        return ""
    if role is Role.CITIZEN and not viewer.sees_reporter:
        return mask_name(actor)
    return actor


def _public_data(data: dict[str, Any], citizen: bool) -> dict[str, Any]:
    return {} if citizen else json.loads(json.dumps(data))


def reporter_view(viewer: Principal, case: Case) -> tuple[str | None, str | None]:
    """(name, phone) as this viewer may see them: in full for the command center, masked for the rest of
    the staff, absent for citizens (their own details are in their account)."""
    if viewer.is_citizen:
        return None, None
    if viewer.sees_reporter:
        return case.reporter, case.reporter_phone
    return mask_name(case.reporter), mask_phone(case.reporter_phone)


def photo_of_case(viewer: Principal, case_no: str, sha256: str, uow: CaseReadsUnitOfWork) -> str:
    """The content type of a photo attached to a case the viewer may see; raises NotFoundError."""
    with uow:
        case_id = viewable_case(uow, viewer, case_no).id
        content_type = uow.connection.scalar(
            select(t.case_photos.c.content_type).where(
                t.case_photos.c.case_id == case_id, t.case_photos.c.sha256 == sha256
            )
        )
    if content_type is None:
        raise NotFoundError("evidence.not_found", "该案件没有这张照片", case_no=case_no)
    return str(content_type)


def duplicate_candidates(
    actor: Actor,
    kind: ClassKind,
    class_code: str,
    lon: float,
    lat: float,
    now: datetime,
    policy: CasePolicy,
    uow: CaseReadsUnitOfWork,
) -> list[tuple[str, float, State]]:
    """Open cases of the same class near a point, nearest first, before a report is made: only those in the
    caller's scope (a case outside it answers as if it did not exist)."""
    since = now - policy.duplicate_window
    with uow:
        near = uow.cases.same_class_near(kind, class_code, lon, lat, policy.duplicate_radius_m, since)
        seen = uow.cases.covered([no for no, *_ in near], CaseScope.of(actor))
    return [(no, metres, state) for no, metres, state, _, _ in near if not state.final and no in seen]
