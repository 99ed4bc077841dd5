"""Ports: what the services need from the outside world."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self

from xiuhua.kernel.evidence import StoredFile

if TYPE_CHECKING:  # the repositories' signatures are the contract; the SQL ones are the only kind
    from sqlalchemy import Connection

    from xiuhua.cases.adapters.case_repository import CaseRepository
    from xiuhua.cases.adapters.outbox_repository import OutboxRepository
    from xiuhua.cases.adapters.rating_repository import RatingRepository
    from xiuhua.evaluation.adapters.evaluation_repository import EvaluationRepository
    from xiuhua.geo.adapters.component_repository import ComponentRepository
    from xiuhua.geo.adapters.geo_repository import GeoRepository
    from xiuhua.geo.adapters.layer_repository import LayerRepository
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
    video: VideoRepository
    evaluation: EvaluationRepository
    sensing: SensingRepository
    layers: LayerRepository
    accounts: AccountRepository
    audit: AuditRepository
    outbox: OutboxRepository
    ratings: RatingRepository
    connection: Connection
    """For the read side (services.queries) only: SQL straight into DTOs."""

    def __enter__(self) -> Self: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class EvidenceStore(Protocol):
    def put(self, data: bytes) -> StoredFile:
        """Store the picture rebuilt without metadata, by the hash of what is stored (idempotent); raises
        InvalidInputError for non-images."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...


StatutoryDays = Callable[[], dict[date, bool]]
"""Returns the statutory calendar: False for a holiday, True for a make-up workday."""

Progress = Callable[[str, int, int], None]
"""Reports progress of a long job: (step description, done, total)."""


def no_progress(_step: str, _done: int, _total: int) -> None:
    """A Progress that reports nothing."""
