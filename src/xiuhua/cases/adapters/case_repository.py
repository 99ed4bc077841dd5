"""Cases: one row per case (current state, deadlines, JSON details) plus the append-only, hash-chained log."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Connection, Row, and_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from xiuhua.cases.adapters.scope_sql import CASE_PLACE, scope_clause
from xiuhua.cases.adapters.seen import SeenCases
from xiuhua.cases.domain.case import Case, LogEntry, PauseSpan, StepRecord, Urgency
from xiuhua.cases.domain.events import OverdueMark
from xiuhua.cases.domain.scope import CaseScope
from xiuhua.cases.domain.workflow import Action, Source, State, Step
from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.actor import Role
from xiuhua.kernel.errors import ConflictError
from xiuhua.org.domain.calendar import TimeLimit
from xiuhua.org.domain.model import ClassKind
from xiuhua.platform.db import tables as t

_METRES_PER_DEGREE = 111_320.0
_BATCH = 2000  # cases per statement in a bulk insert


def _iso(moment: datetime | None) -> str | None:
    return _utc_text(moment) if moment else None


@lru_cache(maxsize=1 << 14)  # a case's step times are written again with every change of the case
def _utc_text(moment: datetime) -> str:
    """The instant in UTC, ISO 8601: equal instants give equal text whatever zone they came in."""
    return moment.astimezone(UTC).isoformat()


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _details(case: Case) -> str:
    return json.dumps(
        {
            "steps": [
                {
                    "step": s.step.value,
                    "entered_at": _iso(s.entered_at),
                    "due_at": _iso(s.due_at),
                    "done_at": _iso(s.done_at),
                    "outcome": s.outcome.value if s.outcome else None,
                }
                for s in case.steps
            ],
            "pauses": [{"kind": p.kind, "start": _iso(p.start), "end": _iso(p.end)} for p in case.pauses],
            "extensions": [str(e) for e in case.extensions],
            "counters": case.counters,
        },
        ensure_ascii=False,
    )


def _row(case: Case) -> dict[str, Any]:
    current = case.current_step
    loc = case.location
    return {
        "case_no": case.case_no,
        "idempotency_key": case.idempotency_key,
        "request_digest": case.request_digest,
        "source": case.source.value,
        "kind": case.kind.value,
        "class_code": case.class_code,
        "state": case.state.value,
        "urgency": case.urgency.value,
        "description": case.description,
        "reporter": case.reporter,
        "reporter_phone": case.reporter_phone,
        "component_id": case.component_id,
        "lon": loc.lon,
        "lat": loc.lat,
        "address": loc.address,
        "district_code": loc.district_code,
        "street_code": loc.street_code,
        "community_code": loc.community_code,
        "grid_code": loc.grid_code,
        "area_class": loc.area_class,
        "needs_verification": case.needs_verification,
        "verified": case.verified,
        "check_passed": case.check_passed,
        "standard_id": case.standard_id,
        "disposal_limit": str(case.disposal_limit) if case.disposal_limit else None,
        "department_code": case.department_code,
        "handler": case.handler,
        "duplicate_of": case.duplicate_of,
        "repeat_of": case.repeat_of,
        "reported_at": case.reported_at,
        "dispatched_at": case.dispatched_at,
        "closed_at": case.closed_at,
        "current_step": current.step.value if current else None,
        "step_entered_at": current.entered_at if current else None,
        "due_at": current.due_at if current else None,
        "overdue": case.overdue,
        "overnight": case.overnight,
        "auto_urged_at": case.auto_urged_at,
        "pending_extension": str(case.pending_extension) if case.pending_extension else None,
        "details": _details(case),
        "log_head": case.log_head,
        "log_seq": case.log_seq,
    }


def _case(r: Row[Any], details: dict[str, Any]) -> Case:
    return Case(
        id=r.id,
        version=r.version,
        case_no=r.case_no,
        idempotency_key=r.idempotency_key,
        request_digest=r.request_digest,
        source=Source(r.source),
        kind=ClassKind(r.kind),
        class_code=r.class_code,
        state=State(r.state),
        urgency=Urgency(r.urgency),
        description=r.description,
        reporter=r.reporter,
        reporter_phone=r.reporter_phone,
        component_id=r.component_id,
        location=Location(
            r.lon, r.lat, r.address, r.district_code, r.street_code, r.community_code, r.grid_code, r.area_class
        ),
        needs_verification=r.needs_verification,
        verified=r.verified,
        check_passed=r.check_passed,
        standard_id=r.standard_id,
        disposal_limit=TimeLimit.parse(r.disposal_limit) if r.disposal_limit else None,
        department_code=r.department_code,
        handler=r.handler,
        duplicate_of=r.duplicate_of,
        repeat_of=r.repeat_of,
        reported_at=r.reported_at,
        dispatched_at=r.dispatched_at,
        closed_at=r.closed_at,
        overdue=r.overdue,
        overnight=r.overnight,
        auto_urged_at=r.auto_urged_at,
        pending_extension=TimeLimit.parse(r.pending_extension) if r.pending_extension else None,
        steps=[
            StepRecord(
                Step(s["step"]),
                cast(datetime, _dt(s["entered_at"])),
                _dt(s["due_at"]),
                _dt(s["done_at"]),
                Action(s["outcome"]) if s["outcome"] else None,
            )
            for s in details["steps"]
        ],
        pauses=[PauseSpan(p["kind"], cast(datetime, _dt(p["start"])), _dt(p["end"])) for p in details["pauses"]],
        extensions=[TimeLimit.parse(e) for e in details["extensions"]],
        counters=details["counters"],
        log_head=r.log_head,
        log_seq=r.log_seq,
    )


def log_row(case_id: int, e: LogEntry) -> dict[str, Any]:
    """A case_log row."""
    return {
        "case_id": case_id, "seq": e.seq, "at": e.at, "actor": e.actor, "role": e.role.value,
        "action": e.action.value, "from_state": e.from_state.value if e.from_state else None,
        "to_state": e.to_state.value, "reason": e.reason, "attachments": json.dumps(list(e.attachments)),
        "data": json.dumps(e.data, ensure_ascii=False, sort_keys=True), "step": e.step.value if e.step else None,
        "step_due_at": e.step_due_at, "on_time": e.on_time, "prev_hash": e.prev_hash, "hash": e.hash,
    }  # fmt: skip


def log_entry(r: Row[Any]) -> LogEntry:
    return LogEntry(
        seq=r.seq,
        at=r.at,
        actor=r.actor,
        role=Role(r.role),
        action=Action(r.action),
        from_state=State(r.from_state) if r.from_state else None,
        to_state=State(r.to_state),
        reason=r.reason,
        attachments=tuple(json.loads(r.attachments)),
        data=json.loads(r.data),
        step=Step(r.step) if r.step else None,
        step_due_at=r.step_due_at,
        on_time=r.on_time,
        prev_hash=r.prev_hash,
        hash=r.hash,
    )


# Statements built once, with bound parameters, so each use skips SQL compilation.
# What a report fixes once (the problem, the place, the reporter) is never rewritten; the rest is.
_FIXED_AT_REPORT = frozenset(
    {"case_no", "idempotency_key", "request_digest", "source", "kind", "class_code", "urgency", "description",
     "reporter", "reporter_phone", "component_id", "lon", "lat", "address", "district_code", "street_code",
     "community_code", "grid_code", "area_class", "needs_verification", "reported_at"}
)  # fmt: skip
_MUTABLE_COLUMNS = [c.name for c in t.cases.columns if c.name not in {"id", "version", *_FIXED_AT_REPORT}]
_INSERT_CASE = t.cases.insert().returning(t.cases.c.id)
_INSERT_LOG = t.case_log.insert()
_UPDATE_CASE = (
    update(t.cases)
    .where(and_(t.cases.c.id == bindparam("b_id"), t.cases.c.version == bindparam("b_version")))
    .values({"version": bindparam("b_new_version"), **{c: bindparam(f"v_{c}") for c in _MUTABLE_COLUMNS}})
)
_GET_CASE = select(t.cases).where(t.cases.c.case_no == bindparam("b_case_no"))
_NEXT_NUMBER = {
    name: dialect.insert(t.case_counters)
    .values(day=bindparam("b_day"), last=1)
    .on_conflict_do_update(index_elements=["day"], set_={"last": t.case_counters.c.last + 1})
    .returning(t.case_counters.c.last)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_ADD_PHOTO = {
    name: dialect.insert(t.case_photos).on_conflict_do_nothing(index_elements=["case_id", "stage", "sha256"])
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


class CaseRepository(SeenCases):
    def __init__(self, conn: Connection) -> None:
        super().__init__()
        self.conn = conn

    def next_case_no(self, local_day: date) -> str:
        """YYYYMMDD + a 6-digit sequence for that day, unique across the city (atomic on both backends)."""
        day = local_day.strftime("%Y%m%d")
        stmt = _NEXT_NUMBER[self.conn.dialect.name]
        last = self.conn.execute(stmt, {"b_day": day}).scalar_one()
        return f"{day}{last:06d}"

    def add(self, case: Case) -> None:
        """Insert a new case; raises ConflictError when its idempotency key is already taken."""
        try:
            case.id = self.conn.execute(_INSERT_CASE, {"version": 1, **_row(case)}).scalar_one()
        except IntegrityError as exc:
            if case.idempotency_key and self._key_taken(exc):
                raise ConflictError(
                    "case.idempotency_key_taken", "该幂等键已被另一次上报使用", key=case.idempotency_key
                ) from exc
            raise
        case.version = 1
        self.seen[id(case)] = case
        self._flush_new(case)

    def save(self, case: Case) -> None:
        """Write the case if nobody changed it since it was read; raises ConflictError otherwise."""
        row = _row(case)
        params = {f"v_{k}": row[k] for k in _MUTABLE_COLUMNS}
        params.update(b_id=case.id, b_version=case.version, b_new_version=case.version + 1)
        if cast(CursorResult[Any], self.conn.execute(_UPDATE_CASE, params)).rowcount != 1:
            raise ConflictError(
                "case.conflict", f"案件 {case.case_no} 已被他人更新，请刷新后重试", case_no=case.case_no
            )
        case.version += 1
        self.seen[id(case)] = case
        self._flush_new(case)

    def _flush_new(self, case: Case) -> None:
        assert case.id is not None
        if case.new_log:
            self.conn.execute(_INSERT_LOG, [log_row(case.id, e) for e in case.new_log])
        if case.new_urges:
            self.conn.execute(
                t.urge_orders.insert(),
                [
                    {"case_id": case.id, "issued_at": u.issued_at, "issued_by": u.issued_by, "reason": u.reason,
                     "due_at": u.due_at}
                    for u in case.new_urges
                ],
            )  # fmt: skip
        case.new_log, case.new_urges = [], []

    def add_many(self, cases: Sequence[Case], progress: Callable[[str, int, int], None]) -> None:
        """Insert cases with their whole logs (``new_log``, kept) in batches (executemany), not one statement
        per case: a history import, around the workflow (the cases record no events)."""
        for i in range(0, len(cases), _BATCH):
            batch = cases[i : i + _BATCH]
            self.conn.execute(t.cases.insert(), [{"version": 1, **_row(c)} for c in batch])
            numbers = select(t.cases.c.case_no, t.cases.c.id).where(t.cases.c.case_no.in_([c.case_no for c in batch]))
            ids = {no: case_id for no, case_id in self.conn.execute(numbers)}
            for c in batch:
                c.id, c.version = ids[c.case_no], 1
            self.conn.execute(_INSERT_LOG, [log_row(ids[c.case_no], e) for c in batch for e in c.new_log])
            progress("写入历史案件", i + len(batch), len(cases))

    def get(self, case_no: str) -> Case | None:
        row = self.conn.execute(_GET_CASE, {"b_case_no": case_no}).first()
        if row is None:
            return None
        case = _case(row, json.loads(row.details))
        self.seen[id(case)] = case
        return case

    @staticmethod
    def _key_taken(exc: IntegrityError) -> bool:
        text = str(exc.orig).lower()
        return "idempotency_key" in text or "uq_cases_idempotency_key" in text

    def by_idempotency_key(self, key: str) -> tuple[str, str | None] | None:
        """The case number and request digest stored under a (scoped) key."""
        c = t.cases.c
        row = self.conn.execute(select(c.case_no, c.request_digest).where(c.idempotency_key == key)).first()
        return (row.case_no, row.request_digest) if row else None

    def add_photo(self, case_id: int, stage: str, sha256: str, content_type: str, size: int, at: datetime) -> None:
        """Attach a photo at a stage; one attached there before (handed in again after rework) stays as it was."""
        stmt = _ADD_PHOTO[self.conn.dialect.name]
        self.conn.execute(
            stmt, {"case_id": case_id, "stage": stage, "sha256": sha256, "content_type": content_type,
                   "size": size, "added_at": at},
        )  # fmt: skip

    def covered(self, case_nos: Sequence[str], scope: CaseScope) -> set[str]:
        """Those of the case numbers whose cases the scope covers (the one scope rule, in SQL)."""
        if not case_nos:
            return set()
        c = t.cases.c
        return set(self.conn.scalars(select(c.case_no).where(c.case_no.in_(case_nos), scope_clause(scope, CASE_PLACE))))

    def same_class_near(
        self, kind: ClassKind, class_code: str, lon: float, lat: float, radius_m: float, since: datetime
    ) -> list[tuple[str, float, State, datetime, datetime | None]]:
        """Cases of one class within radius_m of a point, reported or closed since a time, nearest first:
        (case number, metres, state, reported_at, closed_at). A bounding box in SQL, the circle here."""
        dlat = radius_m / _METRES_PER_DEGREE
        dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
        c = t.cases.c
        stmt = select(c.case_no, c.lon, c.lat, c.state, c.reported_at, c.closed_at).where(
            c.kind == kind.value,
            c.class_code == class_code,
            c.lat.between(lat - dlat, lat + dlat),
            c.lon.between(lon - dlon, lon + dlon),
            or_(c.reported_at >= since, c.closed_at >= since),
        )
        found = []
        for case_no, lon2, lat2, state, reported_at, closed_at in self.conn.execute(stmt):
            metres = round(_haversine_m(lon, lat, lon2, lat2), 1)
            if metres <= radius_m:
                found.append((case_no, metres, State(state), reported_at, closed_at))
        return sorted(found, key=lambda x: x[1])

    def mark_overdue(self, now: datetime) -> list[OverdueMark]:
        """Flag every open case whose current step's deadline has passed (one statement); the cases flagged."""
        c = t.cases.c
        marked = (c.case_no, c.state, c.class_code, c.due_at, c.district_code, c.street_code, c.community_code)
        stmt = (
            update(t.cases)
            .where(c.due_at < now, c.overdue.is_(False))
            .values(overdue=True)
            .returning(*marked, c.department_code)
        )
        return [OverdueMark(*row) for row in self.conn.execute(stmt)]

    def overdue_in(self, states: Sequence[State]) -> list[tuple[str, datetime | None, datetime | None, datetime]]:
        """(case_no, due_at, auto_urged_at, step_entered_at) of overdue cases in the given states."""
        c = t.cases.c
        stmt = select(c.case_no, c.due_at, c.auto_urged_at, c.step_entered_at).where(
            c.overdue.is_(True), c.state.in_([s.value for s in states])
        )
        return [(n, d, u, e) for n, d, u, e in self.conn.execute(stmt)]

    def waiting_since(self, state: State, flag_unset: str) -> list[tuple[str, datetime]]:
        """(case_no, step_entered_at) of cases in a state whose boolean column ``flag_unset`` is false."""
        c = t.cases.c
        stmt = select(c.case_no, c.step_entered_at).where(c.state == state.value, c[flag_unset].is_(False))
        return [(n, e) for n, e in self.conn.execute(stmt)]

    def set_flag(self, case_nos: Sequence[str], column: str, value: Any) -> None:
        if case_nos:
            self.conn.execute(update(t.cases).where(t.cases.c.case_no.in_(case_nos)).values({column: value}))

    def log(self, case_no: str) -> list[LogEntry]:
        stmt = (
            select(t.case_log)
            .join(t.cases, t.cases.c.id == t.case_log.c.case_id)
            .where(t.cases.c.case_no == case_no)
            .order_by(t.case_log.c.seq)
        )
        return [log_entry(r) for r in self.conn.execute(stmt)]

    def chains(self) -> Iterator[tuple[str, str, int, list[LogEntry]]]:
        """Every case's (case_no, log_head, log_seq, log rows in seq order), streamed case by case."""
        heads = {
            r.id: (r.case_no, r.log_head, r.log_seq)
            for r in self.conn.execute(select(t.cases.c.id, t.cases.c.case_no, t.cases.c.log_head, t.cases.c.log_seq))
        }
        stmt = select(t.case_log).order_by(t.case_log.c.case_id, t.case_log.c.seq)
        current: int | None = None
        rows: list[LogEntry] = []
        for r in self.conn.execute(stmt.execution_options(yield_per=5000)):
            if r.case_id != current:
                if current is not None:
                    yield (*heads.pop(current), rows)
                current, rows = r.case_id, []
            rows.append(log_entry(r))
        if current is not None:
            yield (*heads.pop(current), rows)
        for case_no, head, seq in heads.values():  # cases whose every log row is gone
            yield case_no, head, seq, []

    def count_by(self, column: str) -> dict[str, int]:
        stmt = select(t.cases.c[column], func.count()).group_by(t.cases.c[column])
        return {key: n for key, n in self.conn.execute(stmt)}


def _haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))
