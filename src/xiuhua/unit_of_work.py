"""The unit of work: one connection and one transaction per use case, rolled back unless committed.

At commit it collects the events of the cases its repository added or loaded (``seen``), and of anything
else recorded in the transaction, and hands them to the message bus: the in-transaction handlers (the
evaluation tallies, the outbox rows) run before the database commits, the after-commit ones after it.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import Transaction

from xiuhua.cases.adapters.case_repository import CaseRepository
from xiuhua.cases.adapters.outbox_repository import OutboxRepository
from xiuhua.cases.adapters.rating_repository import RatingRepository
from xiuhua.evaluation.adapters.evaluation_repository import EvaluationRepository
from xiuhua.geo.adapters.component_repository import ComponentRepository
from xiuhua.geo.adapters.geo_repository import GeoRepository
from xiuhua.geo.adapters.layer_repository import LayerRepository
from xiuhua.handlers import event_bus
from xiuhua.kernel.bus import MessageBus
from xiuhua.org.adapters.account_repository import AccountRepository, AuditRepository
from xiuhua.org.adapters.repositories import (
    CalendarRepository,
    CatalogRepository,
    OrganizationRepository,
    PolicyRepository,
    RegionRepository,
    SettingsRepository,
    StaffRepository,
)
from xiuhua.sensing.adapters.sensing_repository import SensingRepository
from xiuhua.video.adapters.video_repository import VideoRepository


class SqlUnitOfWork:
    """Bound to an Engine (a connection per use case), or to an open Connection, where each use case
    becomes a savepoint: how the tests run many use cases inside one transaction they roll back."""

    def __init__(self, bind: Engine | Connection, bus: MessageBus | None = None) -> None:
        self.bind = bind
        self.bus = bus or _PRODUCT_BUS
        self.committed = False

    def __enter__(self) -> SqlUnitOfWork:
        if isinstance(self.bind, Engine):
            self.connection = self.bind.connect()
            self._tx: Transaction = self.connection.begin()
        else:
            self.connection = self.bind
            self._tx = self.connection.begin_nested()
        conn = self.connection
        self.regions = RegionRepository(conn)
        self.organizations = OrganizationRepository(conn)
        self.staff = StaffRepository(conn)
        self.catalog = CatalogRepository(conn)
        self.calendar = CalendarRepository(conn)
        self.settings = SettingsRepository(conn)
        self.policy = PolicyRepository(conn)
        self.cases = CaseRepository(conn)
        self.geo = GeoRepository(conn)
        self.components = ComponentRepository(conn)
        self.video = VideoRepository(conn)
        self.evaluation = EvaluationRepository(conn)
        self.sensing = SensingRepository(conn)
        self.layers = LayerRepository(conn)
        self.accounts = AccountRepository(conn)
        self.audit = AuditRepository(conn)
        self.outbox = OutboxRepository(conn)
        self.ratings = RatingRepository(conn)
        self.committed = False
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._tx.is_active:
            self._tx.rollback()
        if isinstance(self.bind, Engine):
            self.connection.close()

    def rollback(self) -> None:
        """Undo this use case's writes and start afresh within the same unit of work."""
        self._tx.rollback()
        self.cases.forget()
        self.evaluation.forget()
        self._tx = self.connection.begin() if isinstance(self.bind, Engine) else self.connection.begin_nested()

    def commit(self) -> None:
        """Run the in-transaction handlers of the events recorded, commit, then run the after-commit ones."""
        events = self.cases.collect_events()
        self.bus.publish(events, self)  # raises: nothing is committed (the exit rolls back)
        self._tx.commit()
        self.committed = True
        self.bus.published(events)


_PRODUCT_BUS = event_bus()
"""The product's event handlers, for a unit of work built without a bus of its own."""
