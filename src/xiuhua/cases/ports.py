"""Ports of the cases: the repositories the case services use, and the units of work that carry them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection

from xiuhua.cases.domain.case import Case, LogEntry
from xiuhua.cases.domain.events import OverdueMark
from xiuhua.cases.domain.rating import Rating
from xiuhua.cases.domain.scope import CaseScope
from xiuhua.cases.domain.workflow import State
from xiuhua.geo.ports import ComponentLookup
from xiuhua.kernel.events import Event as DomainEvent
from xiuhua.kernel.ports import UnitOfWork
from xiuhua.org.domain.calendar import TimeLimit
from xiuhua.org.domain.model import (
    ClassKind,
)
from xiuhua.org.domain.routing import RoutingRule
from xiuhua.org.ports import AuditLog, CalendarUnitOfWork, Catalog, Organizations, Regions

if TYPE_CHECKING:  # the events are the outbox service's own
    from xiuhua.cases.services.outbox import Event


class Cases(Protocol):
    """Cases (the aggregate, with its version) and their append-only, hash-chained log."""

    def covered(self, case_nos: Sequence[str], scope: CaseScope) -> set[str]:
        """Those of the case numbers whose cases the scope covers (the one scope rule)."""
        ...

    def record(self, *events: DomainEvent) -> None:
        """Record events that no loaded case carries; the unit of work publishes them with the cases' own."""
        ...

    def add_many(self, cases: Sequence[Case], progress: Callable[[str, int, int], None]) -> None:
        """Insert cases with their whole logs in batches (executemany), not one statement per case."""
        ...

    def next_case_no(self, local_day: date) -> str:
        """YYYYMMDD + a 6-digit sequence for that day, unique across the city (atomic on both backends)."""
        ...

    def add(self, case: Case) -> None:
        """Insert a new case; raises ConflictError when its idempotency key is already taken."""
        ...

    def save(self, case: Case) -> None:
        """Write the case if nobody changed it since it was read; raises ConflictError otherwise."""
        ...

    def get(self, case_no: str) -> Case | None: ...

    def by_idempotency_key(self, key: str) -> tuple[str, str | None] | None:
        """The case number and request digest stored under a (scoped) key."""
        ...

    def add_photo(self, case_id: int, stage: str, sha256: str, content_type: str, size: int, at: datetime) -> None:
        """Attach a photo at a stage; one attached there before (handed in again after rework) stays as it was."""
        ...

    def same_class_near(
        self, kind: ClassKind, class_code: str, lon: float, lat: float, radius_m: float, since: datetime
    ) -> list[tuple[str, float, State, datetime, datetime | None]]:
        """Cases of one class within radius_m of a point, reported or closed since a time, nearest first:
        (case number, metres, state, reported_at, closed_at). A bounding box in SQL, the circle here."""
        ...

    def mark_overdue(self, now: datetime) -> list[OverdueMark]:
        """Flag every open case whose current step's deadline has passed (one statement); the cases flagged."""
        ...

    def overdue_in(self, states: Sequence[State]) -> list[tuple[str, datetime | None, datetime | None, datetime]]:
        """(case_no, due_at, auto_urged_at, step_entered_at) of overdue cases in the given states."""
        ...

    def waiting_since(self, state: State, flag_unset: str) -> list[tuple[str, datetime]]:
        """(case_no, step_entered_at) of cases in a state whose boolean column ``flag_unset`` is false."""
        ...

    def set_flag(self, case_nos: Sequence[str], column: str, value: Any) -> None: ...

    def log(self, case_no: str) -> list[LogEntry]: ...

    def chains(self) -> Iterator[tuple[str, str, int, list[LogEntry]]]:
        """Every case's (case_no, log_head, log_seq, log rows in seq order), streamed case by case."""
        ...

    def count_by(self, column: str) -> dict[str, int]: ...


class Outbox(Protocol):
    """Case events, in the order they were written, for the live stream and the handlers."""

    def add(self, events: Sequence[Event]) -> None: ...

    def after(self, last_id: int, limit: int = 200) -> list[Event]:
        """Events with an id above ``last_id``, oldest first."""
        ...

    def last_id(self) -> int: ...

    def prune(self, before: datetime, below_id: int, limit: int) -> int:
        """Delete up to ``limit`` events written before ``before`` with an id below ``below_id``, taken from the
        oldest ids (the primary key, so a pass with nothing to do reads a handful of rows); returns how many."""
        ...


class PolicyStore(Protocol):
    """The city's step time limits and routing rules (the case policy's tables)."""

    def step_limits(self) -> dict[tuple[str, str, str], TimeLimit]: ...

    def put_step_limits(self, limits: dict[tuple[str, str, str], TimeLimit]) -> None: ...

    def routing_rules(self) -> list[RoutingRule]: ...

    def replace_routing_rules(self, rules: Sequence[RoutingRule]) -> None: ...


class HistoricCases(Protocol):
    """Where cases closed before the platform are kept (the evaluation's history)."""

    def existing_case_nos(self, case_nos: Sequence[str]) -> set[str]: ...


class CasesUnitOfWork(CalendarUnitOfWork, Protocol):
    """What the case services use."""

    @property
    def cases(self) -> Cases: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def policy(self) -> PolicyStore: ...
    @property
    def regions(self) -> Regions: ...
    @property
    def organizations(self) -> Organizations: ...
    @property
    def catalog(self) -> Catalog: ...
    @property
    def components(self) -> ComponentLookup: ...


class CaseReadsUnitOfWork(CasesUnitOfWork, Protocol):
    """The read side (services.queries, Open311, reporting's scope check) that runs SQL straight into DTOs."""

    @property
    def connection(self) -> Connection: ...


class Ratings(Protocol):
    def add(self, case_id: int, rating: Rating) -> None:
        """Store the case's one rating; raises ConflictError when it has one."""
        ...

    def get(self, case_no: str) -> Rating | None: ...


class RatingsUnitOfWork(CasesUnitOfWork, Protocol):
    """What rating a case needs: the case, the ratings and the audit trail."""

    @property
    def ratings(self) -> Ratings: ...
    @property
    def audit(self) -> AuditLog: ...


class HistoryImportUnitOfWork(UnitOfWork, Protocol):
    """What importing the cases closed before the platform uses."""

    @property
    def catalog(self) -> Catalog: ...
    @property
    def regions(self) -> Regions: ...
    @property
    def organizations(self) -> Organizations: ...
    @property
    def cases(self) -> Cases: ...
    @property
    def evaluation(self) -> HistoricCases: ...
