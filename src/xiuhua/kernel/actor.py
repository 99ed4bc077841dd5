"""Who acts: the roles of the closed loop and an actor (a staff account, a citizen or the system itself)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from xiuhua.kernel.errors import InvalidInputError


class Role(StrEnum):
    SUPERVISOR = "supervisor"  # 监督员
    ACCEPTOR = "acceptor"  # 受理员
    SHIFT_LEADER = "shift_leader"  # 值班长
    DISPATCHER = "dispatcher"  # 派遣员
    HANDLER = "handler"  # 部门处置员
    LEADER = "leader"  # 领导
    ADMIN = "admin"  # 管理员
    CITIZEN = "citizen"  # 市民: a citizen account, never a staff account's role
    SYSTEM = "system"  # 系统（定时任务、传感器、视频）: never a staff account's role

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]

    @classmethod
    def parse(cls, text: str) -> Role:
        word = text.strip()
        for role, label in _ROLE_LABELS.items():
            if word in (role.value, label) and role is not Role.SYSTEM:
                return role
        names = "、".join(label for role, label in _ROLE_LABELS.items() if role is not Role.SYSTEM)
        raise InvalidInputError("staff.bad_role", f"角色“{text}”无效，可用：{names}", role=text)


_ROLE_LABELS = {
    Role.SUPERVISOR: "监督员",
    Role.ACCEPTOR: "受理员",
    Role.SHIFT_LEADER: "值班长",
    Role.DISPATCHER: "派遣员",
    Role.HANDLER: "部门处置员",
    Role.LEADER: "领导",
    Role.ADMIN: "管理员",
    Role.CITIZEN: "市民",
    Role.SYSTEM: "系统",
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a staff account (roles and scope) or the system itself."""

    username: str
    roles: frozenset[Role]
    scope_region_code: str | None = None
    scope_organization_code: str | None = None


SYSTEM_ACTOR = Actor("system", frozenset({Role.SYSTEM}))
