"""An in-memory unit of work over the fake repositories: service tests without a database.

It keeps the SQL unit of work's promise: what a use case wrote is kept only if it committed; leaving
without a commit, or rolling back, restores what the last commit left.
"""

from __future__ import annotations

import copy
from types import TracebackType
from typing import Any, Self

from xiuhua.cases.adapters.fakes import FakeCases, FakeOutbox, FakePolicyStore, FakeRatings
from xiuhua.evaluation.adapters.fakes import FakeTallies
from xiuhua.geo.adapters.fakes import FakeComponents, FakeGeoStore
from xiuhua.handlers import event_bus
from xiuhua.kernel.bus import MessageBus
from xiuhua.org.adapters.fakes import (
    FakeAccountStore,
    FakeAuditLog,
    FakeCalendarStore,
    FakeCatalog,
    FakeOrganizations,
    FakeRegions,
    FakeSettingsStore,
    FakeStaffDirectory,
)
from xiuhua.sensing.adapters.fakes import FakeSensingStore
from xiuhua.video.adapters.fakes import FakeVideoStore

REPOSITORIES = (
    "regions", "organizations", "staff", "accounts", "audit", "catalog", "calendar", "settings", "policy", "cases",
    "outbox", "ratings", "geo", "components", "evaluation", "sensing", "video",
)  # fmt: skip
"""The repositories a commit keeps and a rollback restores: every one the unit of work holds."""


class FakeUnitOfWork:
    """Satisfies the services' units of work: cases, org, geo (less the layers), sensing, video, and the
    evaluation's tallies."""

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
        self.components = FakeComponents()
        self.evaluation = FakeTallies()
        self.sensing = FakeSensingStore(lambda no: c.state if (c := self.cases.rows.get(no)) else None)
        self.accounts = FakeAccountStore(lambda: self.staff.all())
        self.audit = FakeAuditLog()
        self.ratings = FakeRatings()
        self.geo = FakeGeoStore()
        self.video = FakeVideoStore()
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
