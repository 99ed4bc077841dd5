"""Ports of evaluation: the repository its services use, and the unit of work that carries it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from xiuhua.cases.ports import Cases, CasesUnitOfWork
from xiuhua.evaluation.domain.tallies import Key, TallyState
from xiuhua.kernel.ports import UnitOfWork

if TYPE_CHECKING:  # the facts' columnar shape is the SQL repository's
    from xiuhua.evaluation.domain.facts import CaseFacts


class EvaluationStore(Protocol):
    """Evaluation schemes, results, tallies, appeals and campaigns, and the case facts they are computed from."""

    def case_state(self, case_id: int) -> TallyState | None:
        """A case's tally state as of its last committed log row; None when none was kept (a bulk load)."""
        ...

    def put_case_states(self, states: Sequence[tuple[int, TallyState]]) -> None:
        """Keep cases' tally states (insert or replace)."""
        ...

    def add_tallies(self, deltas: dict[Key, int]) -> None:
        """Add the deltas to the monthly tallies."""
        ...

    """Evaluation schemes, results, tallies, appeals and campaigns, and the case facts they are computed from."""

    def case_facts(self, start: datetime, end: datetime) -> CaseFacts:
        """One row per case with a log row in [start, end): what happened to it by ``end`` (counts of
        actions, flags), and where and to whom it belongs."""
        ...

    def post_events(self, start: datetime, end: datetime) -> list[tuple[str, str, str | None, bool | None, int]]:
        """(actor, action, from_state, on_time, count) of the log rows in [start, end)."""
        ...

    def event_cases(
        self, start: datetime, end: datetime, actor: str, actions: Sequence[str], on_time: bool | None = None
    ) -> list[str]:
        """Case numbers of one actor's log rows of the given actions in [start, end) (drill-down)."""
        ...

    def returns_by_department(self, start: datetime, end: datetime) -> list[tuple[str, str]]:
        """(department that returned the case, case number) for each return granted in [start, end)."""
        ...

    def late_disposals(self, start: datetime, end: datetime) -> list[tuple[str, str]]:
        """(department, case number) of each disposal step ended after a deadline that fell in [start, end)."""
        ...

    def overdue_open(self, start: datetime, end: datetime) -> list[tuple[str, str]]:
        """(department, case number) of cases still disposing, overdue, their deadline in [start, end)."""
        ...

    def grid_supervisors(self, grids: Sequence[str]) -> dict[str, str]:
        """Unit grid code → the supervisor who patrols it, for the given grids that have one."""
        ...

    def tallies(self, month: str) -> list[tuple[str, str, str, int]]:
        """(object type, code, count, n) of a month's tallies, leaving out counts that came back to zero."""
        ...

    def replace_tallies(self, month: str, rows: Sequence[tuple[str, str, str, int]]) -> None:
        """Set a month's tallies to the given (object type, code, count, n) rows."""
        ...

    def log_span(self) -> tuple[datetime, datetime] | None:
        """The first and last instant of the case log (None when there is no log)."""
        ...

    def grid_areas(self) -> dict[str, float]:
        """Unit grid code → area in m²."""
        ...

    def names(self) -> dict[str, str]:
        """Display names of regions, organisations (by code) and staff (by username)."""
        ...

    def schemes(self) -> list[dict[str, Any]]: ...

    def add_scheme(self, version: str, valid_from: date, body: dict[str, Any], at: datetime, by: str) -> None: ...

    def has_scheme(self, version: str) -> bool: ...

    def latest_result(self, period_key: str) -> tuple[int, str, str] | None:
        """(revision, body, sha256) of the latest frozen revision of a period, if frozen."""
        ...

    def add_result(
        self, period_key: str, revision: int, scheme_version: str, body: str, sha256: str, at: datetime, by: str
    ) -> None: ...

    def add_appeal(self, row: dict[str, Any]) -> int: ...

    def appeal(self, appeal_id: int) -> dict[str, Any] | None: ...

    def appeals(self, period_key: str, status: str | None = None) -> list[dict[str, Any]]: ...

    def decide_appeal(self, appeal_id: int, status: str, by: str, at: datetime, decision: str) -> None: ...

    def add_audit(self, row: dict[str, Any]) -> None: ...

    def audit(self, period_key: str) -> list[dict[str, Any]]: ...

    def campaigns(self) -> list[dict[str, Any]]: ...

    def put_campaign(self, code: str, body: dict[str, Any], at: datetime, by: str) -> None: ...

    def add_progress(self, row: dict[str, Any]) -> None: ...

    def progress_amounts(self, code: str, first: date, last: date) -> list[tuple[str, float, int]]:
        """(unit, amount, record id) of a campaign's reported work done between two local dates."""
        ...

    def campaign_cases(
        self, classes: Sequence[tuple[str, str]], start: datetime, end: datetime
    ) -> list[tuple[str, str, str, tuple[str, str, str, str], datetime, datetime | None, str, int, datetime | None]]:
        """Cases of the given (kind, class prefix) reported in [start, end) and filed (or self-disposed):
        (case_no, kind, class, (city, district, street, community), reported_at, closed_at by ``end``,
        department of the last dispatch, urges, last disposal: feedback or self-disposal), read from the log."""
        ...

    def overdue_open_cases(
        self, classes: Sequence[tuple[str, str]], states: Sequence[str]
    ) -> list[tuple[str, str, str, tuple[str, str, str, str]]]:
        """(case_no, kind, class, regions) of open, overdue cases of the given (kind, class prefix)."""
        ...

    def existing_case_nos(self, case_nos: Sequence[str]) -> set[str]: ...


class EvaluationUnitOfWork(CasesUnitOfWork, Protocol):
    """What the evaluation services use."""

    @property
    def evaluation(self) -> EvaluationStore: ...


class TallyUnitOfWork(UnitOfWork, Protocol):
    """What the tally handlers use, inside the transaction of the case change."""

    @property
    def cases(self) -> Cases: ...
    @property
    def evaluation(self) -> EvaluationStore: ...
