"""Accounts: who may log in (staff or citizens), lockout after failures, and masking of reporters' details."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from xiuhua.domain.case import Actor
from xiuhua.domain.errors import DomainError, InvalidInputError, Kind
from xiuhua.domain.org import Role


class AuthenticationError(DomainError):
    """The caller could not be identified (bad password, expired or revoked token): HTTP 401."""

    kind = Kind.FORBIDDEN


class AccountKind(StrEnum):
    STAFF = "staff"
    CITIZEN = "citizen"


# Roles that run the command center and so see reporters' names and phones in full.
SEES_REPORTER = frozenset({Role.ACCEPTOR, Role.SHIFT_LEADER, Role.DISPATCHER, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    kind: AccountKind
    password_hash: str
    created_at: datetime
    password_changed_at: datetime
    display_name: str = ""
    phone: str | None = None
    active: bool = True
    failed_attempts: int = 0
    locked_until: datetime | None = None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


@dataclass(frozen=True, slots=True)
class Lockout:
    """After ``threshold`` consecutive failures the account is locked for ``minutes``."""

    threshold: int = 5
    minutes: int = 15

    def after_failure(self, account: Account, now: datetime) -> tuple[int, datetime | None]:
        """(failed attempts, locked until) once one more failure is counted."""
        attempts = account.failed_attempts + 1
        if attempts >= self.threshold:
            return 0, now + timedelta(minutes=self.minutes)
        return attempts, account.locked_until


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an account's roles and scope, and the login session the call belongs to."""

    username: str
    kind: AccountKind
    roles: frozenset[Role]
    scope_region_code: str | None = None
    scope_organization_code: str | None = None
    session_id: str = ""

    @property
    def actor(self) -> Actor:
        return Actor(self.username, self.roles, self.scope_region_code, self.scope_organization_code)

    @property
    def is_citizen(self) -> bool:
        return self.kind is AccountKind.CITIZEN

    @property
    def sees_reporter(self) -> bool:
        return bool(self.roles & SEES_REPORTER)


def check_password(password: str, username: str) -> str:
    """A password the city accepts: 8–128 characters, letters and digits, not the username."""
    if not 8 <= len(password) <= 128:
        raise InvalidInputError("auth.weak_password", "密码长度应为 8–128 个字符")
    if not (re.search(r"[A-Za-z]", password) and re.search(r"[0-9]", password)):
        raise InvalidInputError("auth.weak_password", "密码须同时包含字母和数字")
    if username and username.lower() in password.lower():
        raise InvalidInputError("auth.weak_password", "密码不能包含用户名")
    return password


def check_citizen_username(username: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.\-]{3,64}", username):
        raise InvalidInputError("auth.bad_username", "用户名应为 3–64 位字母、数字或 _ . -")
    return username


def mask_name(name: str) -> str:
    """王小明 → 王**; the first character only."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def mask_phone(phone: str | None) -> str | None:
    """13812345678 → 138****5678; short numbers keep only their last two digits."""
    if not phone:
        return phone
    if len(phone) >= 7:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:] if len(phone) > 7 else phone[:3] + "****"
    return "*" * (len(phone) - 2) + phone[-2:]
