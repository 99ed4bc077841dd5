"""The console's read models: today's key figures in the viewer's scope, names for codes, the departments,
and what a dispatcher or shift leader is offered for one case (a department, the filing standards)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select

from xiuhua.cases.domain.workflow import State
from xiuhua.cases.ports import CaseReadsUnitOfWork
from xiuhua.cases.services.access import access_case
from xiuhua.cases.services.lifecycle import suggest_department
from xiuhua.cases.services.policy import CasePolicy
from xiuhua.cases.views import queries
from xiuhua.kernel.actor import Actor
from xiuhua.org.domain.standards import CaseStandard
from xiuhua.org.views import names as org_names
from xiuhua.platform.db import tables as t

SH = ZoneInfo("Asia/Shanghai")
OPEN = [s.value for s in State if not s.final]
RANKED_DEPARTMENTS = 15
_C = t.cases.c
_L = t.case_log.c


@dataclass(frozen=True, slots=True)
class Ranked:
    """Open and overdue cases of one district or department."""

    code: str
    name: str
    open: int
    overdue: int


@dataclass(frozen=True, slots=True)
class DayFigures:
    day: str
    """The local (Asia/Shanghai) date, ISO."""
    reported: int
    filed: int
    dispatched: int
    closed: int
    overdue: int
    on_time_rate: float | None
    """Steps done on time today, of all steps done today (4 decimals); None before the first."""
    districts: list[Ranked] = field(default_factory=list)
    departments: list[Ranked] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Names:
    regions: dict[str, str]
    organizations: dict[str, str]


def day_start(now: datetime) -> datetime:
    """Local midnight of the day ``now`` falls in."""
    return datetime.combine(now.astimezone(SH).date(), time(0), SH)


def _ranked(rows: Any, names: dict[str, str]) -> list[Ranked]:
    out = [Ranked(c, names.get(c, c), int(n), int(o or 0)) for c, n, o in rows]
    return sorted(out, key=lambda r: -r.open)


def day_figures(actor: Actor, now: datetime, uow: CaseReadsUnitOfWork) -> DayFigures:
    """Today's reports, filings, dispatches, closings and on-time rate, and the open and overdue cases by
    district and by department, all within the actor's scope."""
    start = day_start(now)
    scope = queries.scope_clause(actor)
    in_scope = select(_C.id).where(scope)
    with uow:
        conn = uow.connection
        reported = conn.execute(select(func.count()).where(scope, _C.reported_at >= start)).scalar_one()
        acted: dict[str, int] = dict(
            conn.execute(
                select(_L.action, func.count())
                .where(_L.at >= start, _L.case_id.in_(in_scope), _L.action.in_(["file", "dispatch", "close"]))
                .group_by(_L.action)
            ).all()
        )
        timed = conn.execute(
            select(func.count(), func.sum(case((_L.on_time.is_(True), 1), else_=0))).where(
                _L.at >= start, _L.case_id.in_(in_scope), _L.on_time.is_not(None)
            )
        ).one()
        overdue = conn.execute(select(func.count()).where(scope, _C.overdue.is_(True), _C.state.in_(OPEN))).scalar_one()
        open_count = func.count()
        late = func.sum(case((_C.overdue.is_(True), 1), else_=0))
        districts = conn.execute(
            select(_C.district_code, open_count, late).where(scope, _C.state.in_(OPEN)).group_by(_C.district_code)
        ).all()
        departments = conn.execute(
            select(_C.department_code, open_count, late)
            .where(scope, _C.state.in_(OPEN), _C.department_code.is_not(None))
            .group_by(_C.department_code)
        ).all()
        region_names = org_names.region_names(conn)
        organization_names = org_names.organization_names(conn)
    total, on_time = int(timed[0] or 0), int(timed[1] or 0)
    return DayFigures(
        day=start.date().isoformat(),
        reported=int(reported),
        filed=int(acted.get("file", 0)),
        dispatched=int(acted.get("dispatch", 0)),
        closed=int(acted.get("close", 0)),
        overdue=int(overdue),
        on_time_rate=round(on_time / total, 4) if total else None,
        districts=_ranked(districts, region_names),
        departments=_ranked(departments, organization_names)[:RANKED_DEPARTMENTS],
    )


def code_names(uow: CaseReadsUnitOfWork) -> Names:
    """The names of every region and organisation, by code."""
    with uow:
        return Names(org_names.region_names(uow.connection), org_names.organization_names(uow.connection))


def departments(uow: CaseReadsUnitOfWork) -> list[tuple[str, str]]:
    """(code, name) of the departments cases may be dispatched to, by name."""
    with uow:
        return org_names.departments(uow.connection)


def dispatch_suggestion(
    actor: Actor, case_no: str, uow: CaseReadsUnitOfWork, policy: CasePolicy
) -> tuple[str | None, str | None]:
    """(code, name) of the department a case in the actor's scope would go to: the owner of its registered
    component, else the routing rules; raises NotFoundError or ForbiddenError."""
    with uow:
        found = access_case(uow, actor, case_no)
        code = suggest_department(uow, found, policy)
        name = org_names.organization_name(uow.connection, code) if code else None
    return code, name


def filing_standards(actor: Actor, case_no: str, uow: CaseReadsUnitOfWork) -> list[CaseStandard]:
    """The filing standards of a case's class, for a case in the actor's scope."""
    with uow:
        found = access_case(uow, actor, case_no)
        return [s for s in uow.catalog.standards() if s.kind is found.kind and s.code == found.class_code]
