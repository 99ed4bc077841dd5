"""Who is acting: a staff account turned into an Actor for the workflow."""

from __future__ import annotations

from xiuhua.kernel.actor import Actor
from xiuhua.kernel.errors import ForbiddenError, NotFoundError
from xiuhua.org.domain.model import Staff
from xiuhua.org.ports import StaffUnitOfWork


def actor_of(staff: Staff) -> Actor:
    return Actor(staff.username, staff.roles, staff.scope_region_code, staff.scope_organization_code)


def load_actor(uow: StaffUnitOfWork, username: str) -> Actor:
    """The active staff account's Actor; raises NotFoundError or ForbiddenError (disabled account)."""
    with uow:
        staff = uow.staff.get(username)
    if staff is None:
        raise NotFoundError("staff.not_found", f"账号 {username} 不存在", username=username)
    if not staff.active:
        raise ForbiddenError("staff.inactive", f"账号 {username} 已停用", username=username)
    return actor_of(staff)
