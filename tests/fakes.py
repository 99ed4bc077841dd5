"""An in-memory unit of work over the fake repositories: service tests without a database.

It keeps the SQL unit of work's promise: what a use case wrote is kept only if it committed; leaving
without a commit, or rolling back, restores what the last commit left.
"""

from __future__ import annotations

import copy
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Select
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import (
    BinaryExpression,
    BindParameter,
    BooleanClauseList,
    ColumnElement,
    False_,
    True_,
)

from xiuhua.cases.adapters.fakes import FakeCases, FakeOutbox, FakePolicyStore
from xiuhua.cases.domain.case import Case
from xiuhua.evaluation.adapters.fakes import FakeTallies
from xiuhua.geo.adapters.fakes import FakeComponentLookup
from xiuhua.handlers import event_bus
from xiuhua.kernel.bus import MessageBus
from xiuhua.org.adapters.fakes import (
    FakeCalendarStore,
    FakeCatalog,
    FakeOrganizations,
    FakeRegions,
    FakeSettingsStore,
    FakeStaffDirectory,
)

REPOSITORIES = (
    "regions", "organizations", "staff", "catalog", "calendar", "settings", "policy", "cases", "outbox", "components",
    "evaluation",
)  # fmt: skip


class FakeUnitOfWork:
    """Satisfies cases.ports.CaseReadsUnitOfWork (its connection answers reporting's scope check only) and
    org.ports.StaffUnitOfWork."""

    def __init__(self, bus: MessageBus | None = None) -> None:
        self.bus = bus or event_bus()
        """The product's handlers of case events by default: the outbox rows and the tallies, as in SQL."""
        self.regions = FakeRegions()
        self.organizations = FakeOrganizations()
        self.staff = FakeStaffDirectory()
        self.catalog = FakeCatalog()
        self.calendar = FakeCalendarStore()
        self.settings = FakeSettingsStore()
        self.policy = FakePolicyStore()
        self.cases = FakeCases()
        self.outbox = FakeOutbox()
        self.components = FakeComponentLookup()
        self.evaluation = FakeTallies()
        self.connection = ScopeConnection(self.cases)
        self.committed = False
        self.commits = 0
        self._saved = self._state()

    def _state(self) -> dict[str, dict[str, Any]]:
        return {name: copy.deepcopy(vars(getattr(self, name))) for name in REPOSITORIES}

    def _restore(self) -> None:
        for name, state in self._saved.items():
            vars(getattr(self, name)).update(copy.deepcopy(state))

    def __enter__(self) -> Self:
        self.committed = False
        self._saved = self._state()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._restore()  # after a commit the state is the saved one: nothing changes
        self.cases.forget()

    def commit(self) -> None:
        events = self.cases.collect_events()
        self.bus.publish(events, self)  # in the transaction: a failure leaves nothing behind
        self._saved = self._state()
        self.committed = True
        self.commits += 1
        self.bus.published(events)

    def rollback(self) -> None:
        self._restore()
        self.cases.forget()


class ScopeConnection:
    """Stands for the connection in the one statement reporting runs on it (queries.visible_case_nos: the case
    numbers a scope covers): its WHERE clause is evaluated on each fake case. Anything else is refused."""

    def __init__(self, cases: FakeCases) -> None:
        self.cases = cases

    def scalars(self, stmt: Select[Any]) -> list[str]:
        where = stmt.whereclause
        assert where is not None
        return [no for no, case in self.cases.rows.items() if _holds(where, _columns(case))]


def _columns(case: Case) -> dict[str, Any]:
    loc = case.location
    return {
        "case_no": case.case_no, "department_code": case.department_code, "district_code": loc.district_code,
        "street_code": loc.street_code, "community_code": loc.community_code,
    }  # fmt: skip


def _holds(expr: ColumnElement[Any], row: dict[str, Any]) -> bool:
    if isinstance(expr, True_ | False_):
        return isinstance(expr, True_)
    if isinstance(expr, BooleanClauseList):
        parts = [_holds(c, row) for c in expr.clauses]
        return all(parts) if expr.operator is operators.and_ else any(parts)
    assert isinstance(expr, BinaryExpression) and isinstance(expr.right, BindParameter), f"unsupported: {expr}"
    left, right = row[expr.left.name], expr.right.value  # type: ignore[attr-defined]
    if expr.operator is operators.eq:
        return bool(left == right)
    if expr.operator is operators.in_op:
        return left in right
    if expr.operator is operators.startswith_op:
        return left is not None and str(left).startswith(right)
    raise AssertionError(f"unsupported operator: {expr.operator}")
