"""Domain events: appended to the outbox in the transaction that caused them, read back in order.

A reader polls the outbox table, so every API process (and either database) sees every event. Ids are
handed out at insert but transactions commit in any order: a gap in the ids may be a transaction still
running, so the reader waits at a fresh gap for ``GAP_WAIT`` before skipping it (a rolled-back insert).

Events are kept for a retention (``XIUHUA_OUTBOX_RETENTION_DAYS``) and then pruned by the worker. Readers keep
no position in the database: a stream reads each event within seconds of its commit, and a client that
reconnects with ``Last-Event-ID`` gets what it missed while that is still kept. The newest event is never
pruned: SQLite numbers a new row after the highest id present, so removing it would hand its id out again to
an event that readers positioned at it would never be shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from xiuhua.cases.domain.case import Case, LogEntry
from xiuhua.cases.domain.events import CaseFlaggedOverdue, CaseLogged, OverdueMark
from xiuhua.cases.domain.scope import CaseScope
from xiuhua.cases.domain.workflow import Source
from xiuhua.cases.ports import CasesUnitOfWork
from xiuhua.kernel.actor import Actor, Role
from xiuhua.kernel.errors import InvalidInputError
from xiuhua.kernel.ports import Clock

GAP_WAIT = timedelta(seconds=3)
PRUNE_BATCH = 10_000
"""The most events one pruning pass deletes (a backlog goes over several passes, each a short transaction)."""
MACHINE_SOURCES = (Source.SENSOR, Source.VIDEO)


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    """case.reported | case.transitioned | case.overdue | alarm.raised"""
    at: datetime
    case_no: str | None
    district_code: str | None
    street_code: str | None
    community_code: str | None
    department_code: str | None
    payload: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


def case_events(case: Case, entry: LogEntry) -> list[Event]:
    """The events one log row of a case stands for (never the reporter's name or phone)."""
    loc = case.location
    payload = {
        "case_no": case.case_no,
        "action": entry.action.value,
        "from_state": entry.from_state.value if entry.from_state else None,
        "state": case.state.value,
        "actor": "" if entry.role is Role.CITIZEN else entry.actor,  # a citizen's account names the reporter
        "role": entry.role.value,
        "source": case.source.value,
        "kind": case.kind.value,
        "class_code": case.class_code,
        "urgency": case.urgency.value,
        "lon": loc.lon,
        "lat": loc.lat,
        "address": loc.address,
        "due_at": case.due_at.isoformat() if case.due_at else None,
        "department_code": case.department_code,
    }

    def make(kind: str) -> Event:
        return Event(kind, entry.at, case.case_no, loc.district_code, loc.street_code, loc.community_code,
                     case.department_code, payload)  # fmt: skip

    if entry.from_state is None:
        events = [make("case.reported")]
        if case.source in MACHINE_SOURCES:
            events.append(make("alarm.raised"))
        return events
    return [make("case.transitioned")]


def overdue_event(mark: OverdueMark, now: datetime) -> Event:
    """The event of a case the timer sweep has just flagged overdue."""
    payload = {
        "case_no": mark.case_no,
        "state": mark.state,
        "class_code": mark.class_code,
        "due_at": mark.due_at.isoformat(),
        "department_code": mark.department_code,
    }
    return Event("case.overdue", now, mark.case_no, mark.district_code, mark.street_code, mark.community_code,
                 mark.department_code, payload)  # fmt: skip


def record_case_logged(event: CaseLogged, uow: CasesUnitOfWork) -> None:
    """In-transaction handler: the outbox rows of a new log row, written with it."""
    uow.outbox.add(case_events(event.case, event.entry))


def record_case_overdue(event: CaseFlaggedOverdue, uow: CasesUnitOfWork) -> None:
    """In-transaction handler: the outbox row of a case the sweep has flagged overdue."""
    uow.outbox.add([overdue_event(event.mark, event.at)])


def visible_to(event: Event, actor: Actor) -> bool:
    """Whether the actor's scope covers the event's case, read from its stored place and department."""
    return CaseScope.of(actor).covers(event.district_code, event.street_code, event.community_code,
                                      event.department_code)  # fmt: skip


@dataclass
class OutboxReader:
    """Follows the outbox from a position, one poll at a time; tolerant of ids committed out of order."""

    last_id: int
    now: Callable[[], datetime]
    _gap_seen: dict[int, datetime] = field(default_factory=dict)

    def poll(self, uow: CasesUnitOfWork, limit: int = 200) -> list[Event]:
        with uow:
            events = uow.outbox.after(self.last_id, limit)
        out: list[Event] = []
        for event in events:
            assert event.id is not None
            expected = self.last_id + 1
            if event.id != expected:
                first_seen = self._gap_seen.setdefault(expected, self.now())
                if self.now() - first_seen < GAP_WAIT:
                    break  # an earlier transaction may still commit into the gap
                self._gap_seen.pop(expected, None)
            out.append(event)
            self.last_id = event.id
        return out


def start_position(uow: CasesUnitOfWork, replay: int = 0) -> int:
    """Where a new reader starts: the newest event, less ``replay`` events to show at once."""
    with uow:
        return max(uow.outbox.last_id() - replay, 0)


def prune_outbox(uow: CasesUnitOfWork, clock: Clock, retention: timedelta, limit: int = PRUNE_BATCH) -> int:
    """Delete up to ``limit`` events older than ``retention``, oldest first, never the newest; returns how many."""
    if retention < GAP_WAIT:
        raise InvalidInputError("outbox.bad_retention", "事件保留时间过短：读取方可能尚未读到")
    with uow:
        newest = uow.outbox.last_id()
        pruned = uow.outbox.prune(clock.now() - retention, newest, limit)
        uow.commit()
    return pruned
