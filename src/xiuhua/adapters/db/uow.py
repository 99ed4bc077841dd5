"""The unit of work: one session, one transaction per use case, rolled back unless committed."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from xiuhua.adapters.db.case_repository import CaseRepository
from xiuhua.adapters.db.repositories import (
    CalendarRepository,
    CatalogRepository,
    OrganizationRepository,
    PolicyRepository,
    RegionRepository,
    SettingsRepository,
    StaffRepository,
)


class SqlUnitOfWork:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory
        self.committed = False

    def __enter__(self) -> SqlUnitOfWork:
        self.session = self.session_factory()
        self.regions = RegionRepository(self.session)
        self.organizations = OrganizationRepository(self.session)
        self.staff = StaffRepository(self.session)
        self.catalog = CatalogRepository(self.session)
        self.calendar = CalendarRepository(self.session)
        self.settings = SettingsRepository(self.session)
        self.policy = PolicyRepository(self.session)
        self.cases = CaseRepository(self.session)
        self.committed = False
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self.committed:
            self.session.rollback()
        self.session.close()

    def rollback(self) -> None:
        self.session.rollback()

    def commit(self) -> None:
        self.session.commit()
        self.committed = True
