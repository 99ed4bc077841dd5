"""The one scope check for cases, shared by every entry point."""

from __future__ import annotations

from xiuhua.domain.case import Actor, Case
from xiuhua.domain.errors import ForbiddenError, NotFoundError
from xiuhua.domain.org import Role
from xiuhua.services.ports import UnitOfWork


def in_scope(actor: Actor, case: Case) -> bool:
    """A region scope covers the cases located in it; an organisation scope, the cases it disposes."""
    if Role.SYSTEM in actor.roles:
        return True
    if actor.scope_organization_code:
        return case.department_code == actor.scope_organization_code
    return actor.scope_region_code in case.location.region_codes


def access_case(uow: UnitOfWork, actor: Actor, case_no: str) -> Case:
    """Load a case the actor may act on; raises NotFoundError or ForbiddenError."""
    case = uow.cases.get(case_no)
    if case is None:
        raise NotFoundError("case.not_found", f"案件 {case_no} 不存在", case_no=case_no)
    if not in_scope(actor, case):
        raise ForbiddenError("case.out_of_scope", f"案件 {case_no} 不在您的管辖范围内", case_no=case_no)
    return case
