"""The one scope check for cases (and for who may report what, where), shared by every entry point."""

from __future__ import annotations

from xiuhua.cases.domain.case import Case
from xiuhua.cases.domain.scope import CaseScope, in_region
from xiuhua.cases.domain.workflow import Source, reporting_sources
from xiuhua.cases.ports import CasesUnitOfWork
from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.actor import Actor, Role
from xiuhua.kernel.errors import ForbiddenError, NotFoundError
from xiuhua.org.domain.accounts import Principal


def in_scope(actor: Actor, case: Case) -> bool:
    """Whether the actor's scope covers the case (domain/scope.py)."""
    loc = case.location
    return CaseScope.of(actor).covers(loc.district_code, loc.street_code, loc.community_code, case.department_code)


def check_reporter(actor: Actor, source: Source, location: Location) -> None:
    """A role reports only under its own sources, and a region-scoped account only inside its region;
    raises ForbiddenError."""
    allowed = reporting_sources(actor.roles)
    if source not in allowed:
        raise ForbiddenError(
            "case.source_not_allowed",
            f"您的角色不能以“{source.label}”来源上报"
            + (f"，可用：{'、'.join(s.label for s in allowed)}" if allowed else "，也无权上报"),
            source=source.value,
            allowed=[s.value for s in allowed],
        )
    region = actor.scope_region_code
    if region and not in_region(region, location.district_code, location.street_code, location.community_code):
        raise ForbiddenError(
            "case.outside_your_area",
            f"上报位置（社区 {location.community_code}）不在您的责任区域 {actor.scope_region_code} 内",
            community_code=location.community_code,
        )


def access_case(uow: CasesUnitOfWork, actor: Actor, case_no: str) -> Case:
    """Load a case the actor may act on; raises NotFoundError or ForbiddenError."""
    case = uow.cases.get(case_no)
    if case is None:
        raise NotFoundError("case.not_found", f"案件 {case_no} 不存在", case_no=case_no)
    if not in_scope(actor, case):
        raise ForbiddenError("case.out_of_scope", f"案件 {case_no} 不在您的管辖范围内", case_no=case_no)
    return case


def viewable_case(uow: CasesUnitOfWork, viewer: Principal, case_no: str) -> Case:
    """Load a case the viewer may read: staff within their scope (as access_case), a citizen only a case
    their own account reported (its first log row is theirs; a typed name proves nothing). Raises
    NotFoundError, as if the case did not exist, for another citizen's case."""
    if not viewer.is_citizen:
        return access_case(uow, viewer.actor, case_no)
    case = uow.cases.get(case_no)
    first = uow.cases.log(case_no)[:1] if case is not None else []
    if case is None or not first or first[0].actor != viewer.username or first[0].role is not Role.CITIZEN:
        raise NotFoundError("case.not_found", f"案件 {case_no} 不存在", case_no=case_no)
    return case
