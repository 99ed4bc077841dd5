"""The only place that wires adapters to services: engine, units of work, calendar, data sources."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path

from sqlalchemy import Engine

from xiuhua.cases.domain.commands import ActOnCase, ReportCase
from xiuhua.cases.domain.events import CaseFlaggedOverdue, CaseReported, CasesImported, CaseTransitioned
from xiuhua.cases.services import outbox
from xiuhua.cases.services.lifecycle import act_on_case, report_case
from xiuhua.cases.services.policy import CasePolicy, load_policy
from xiuhua.config import get_settings
from xiuhua.demo.city import DemoSources
from xiuhua.evaluation import handlers as evaluation_handlers
from xiuhua.kernel.bus import MessageBus
from xiuhua.kernel.clock import SystemClock
from xiuhua.kernel.ports import Clock, UnitOfWork
from xiuhua.org.adapters import holidays
from xiuhua.org.domain.calendar import WorkCalendar
from xiuhua.org.services import calendar as calendar_service
from xiuhua.platform import packagedata
from xiuhua.platform.db.engine import ensure_schema, make_engine
from xiuhua.platform.files import FileEvidenceStore
from xiuhua.unit_of_work import SqlUnitOfWork


@dataclass
class Runtime:
    engine: Engine
    clock: SystemClock = field(default_factory=SystemClock)

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)

    def calendar(self) -> WorkCalendar:
        return calendar_service.load_calendar(self.uow(), holidays.statutory_days)

    def policy(self) -> CasePolicy:
        """The city's case rules as stored now (load again after changing them)."""
        return load_policy(self.uow(), holidays.statutory_days)

    @cached_property
    def evidence(self) -> FileEvidenceStore:
        return FileEvidenceStore(Path(get_settings().evidence_dir))


def bootstrap(database_url: str | None = None, *, migrate: bool = True) -> Runtime:
    """Connect to the configured database, creating or upgrading its schema unless told not to."""
    engine = make_engine(database_url or get_settings().database_url)
    if migrate:
        ensure_schema(engine)
    return Runtime(engine)


def messagebus(
    uow: UnitOfWork | None = None, clock: Clock | None = None, policy: CasePolicy | None = None
) -> MessageBus:
    """The message bus with the product's handlers: the in-transaction handlers of case events (the outbox
    rows, the evaluation tallies) always, which every unit of work runs at commit; and, given the unit of
    work, clock and case policy they run with, the commands of the cases subject (``bus.handle(ReportCase)``)."""
    bus = MessageBus()
    for logged in (CaseReported, CaseTransitioned):
        bus.on(logged, outbox.record_case_logged)
        bus.on(logged, evaluation_handlers.tally_case_logged)
    bus.on(CaseFlaggedOverdue, outbox.record_case_overdue)
    bus.on(CasesImported, evaluation_handlers.tally_cases_imported)
    if uow is not None and clock is not None and policy is not None:
        bus.command(ReportCase, partial(report_case, uow=uow, clock=clock, policy=policy))
        bus.command(ActOnCase, partial(act_on_case, uow=uow, clock=clock, policy=policy))
    return bus


def demo_sources(*, geometry: bool = True, census_scale: float = 1.0) -> DemoSources:
    """The demo city's package data; without geometry (no outlines, no unit grids) it builds in a fraction
    of the time, which is what tests of the closed loop want."""
    return DemoSources(
        regions=packagedata.read(packagedata.DIVISIONS),
        classes=packagedata.read(packagedata.DIRECTORY),
        standards=packagedata.read(packagedata.DEFAULT_STANDARDS),
        organizations=packagedata.read(packagedata.DEPARTMENTS),
        geometry=packagedata.read_features(packagedata.DEMO_GEOMETRY) if geometry else (),
        census_scale=census_scale,
    )
