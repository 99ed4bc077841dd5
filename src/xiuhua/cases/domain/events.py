"""What happens to cases, as the case aggregate (and the timer sweep) record it: one event per log row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from xiuhua.kernel.events import Event

if TYPE_CHECKING:
    from xiuhua.cases.domain.case import Case, LogEntry


@dataclass(frozen=True, slots=True)
class OverdueMark:
    """A case the sweep has just flagged overdue, with what the live stream needs to place it."""

    case_no: str
    state: str
    class_code: str
    due_at: datetime
    district_code: str
    street_code: str
    community_code: str
    department_code: str | None


@dataclass(frozen=True, slots=True, eq=False)
class CaseLogged(Event):
    """A row added to a case's log. ``case`` is the aggregate itself: handlers see it as it is when the
    transaction commits (the row's own facts are in ``entry``)."""

    case: Case
    entry: LogEntry


@dataclass(frozen=True, slots=True, eq=False)
class CaseReported(CaseLogged):
    """A case was opened (上报): the first row of its log."""


@dataclass(frozen=True, slots=True, eq=False)
class CaseTransitioned(CaseLogged):
    """A case was moved by one action of the workflow (``entry.action``, ``entry.from_state`` → ``to_state``)."""


@dataclass(frozen=True, slots=True, eq=False)
class CaseFlaggedOverdue(Event):
    """The timer sweep found a case's current step past its deadline (flagged once per step)."""

    mark: OverdueMark
    at: datetime


@dataclass(frozen=True, slots=True, eq=False)
class CasesImported(Event):
    """Historical cases were loaded with their whole logs (``case.new_log``), around the workflow."""

    cases: tuple[Case, ...]
