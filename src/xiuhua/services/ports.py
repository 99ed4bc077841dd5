"""Ports: what the services need from the outside world."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self

from xiuhua.domain.evidence import StoredFile

if TYPE_CHECKING:  # the repositories' signatures are the contract; the SQL ones are the only kind
    from xiuhua.adapters.db.case_repository import CaseRepository
    from xiuhua.adapters.db.component_repository import ComponentRepository
    from xiuhua.adapters.db.geo_repository import GeoRepository
    from xiuhua.adapters.db.repositories import (
        CalendarRepository,
        CatalogRepository,
        OrganizationRepository,
        PolicyRepository,
        RegionRepository,
        SettingsRepository,
        StaffRepository,
    )


class UnitOfWork(Protocol):
    regions: RegionRepository
    organizations: OrganizationRepository
    staff: StaffRepository
    catalog: CatalogRepository
    calendar: CalendarRepository
    settings: SettingsRepository
    policy: PolicyRepository
    cases: CaseRepository
    geo: GeoRepository
    components: ComponentRepository

    def __enter__(self) -> Self: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class EvidenceStore(Protocol):
    def put(self, data: bytes) -> StoredFile:
        """Store bytes by content hash (idempotent); raises InvalidInputError for non-images."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...


StatutoryDays = Callable[[], dict[date, bool]]
"""Returns the statutory calendar: False for a holiday, True for a make-up workday."""

Progress = Callable[[str, int, int], None]
"""Reports progress of a long job: (step description, done, total)."""


def no_progress(_step: str, _done: int, _total: int) -> None:
    """A Progress that reports nothing."""
