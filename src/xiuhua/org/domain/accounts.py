"""Accounts: who may log in (staff or citizens), throttling of failed logins, the rule that keeps an
administrator, and masking of reporters' details."""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from xiuhua.kernel.actor import Actor, Role
from xiuhua.kernel.errors import ConflictError, DomainError, InvalidInputError, Kind


class AuthenticationError(DomainError):
    """The caller could not be identified (bad password, expired or revoked token): HTTP 401."""

    kind = Kind.FORBIDDEN


class ThrottledError(AuthenticationError):
    """Too many failed logins from this address or against this name: HTTP 429 with Retry-After."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            "auth.throttled",
            f"登录失败次数过多，请 {retry_after_seconds} 秒后再试",
            retry_after_seconds=retry_after_seconds,
        )
        self.retry_after_seconds = retry_after_seconds


class LastAdminError(ConflictError):
    """The change would leave the city without an active administrator."""

    def __init__(self, username: str) -> None:
        super().__init__(
            "accounts.last_admin",
            f"不能停用、删除 {username} 或取消其管理员角色：系统至少需要一位启用的管理员，"
            "请先为另一位工作人员开通管理员",
            username=username,
        )


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


def check_admins_remain(before: Collection[str], after: Collection[str]) -> None:
    """Raises LastAdminError when a change leaves none of the active administrators ``before`` (a city with
    none yet, before its first administrator is set up, is left alone)."""
    if before and not after:
        raise LastAdminError("、".join(sorted(before)))


# ----- throttling of failed logins ---------------------------------------------------------------------
ANY = ""
"""The open side of a throttle key: (address, ANY) counts an address's failures against every name,
(ANY, username) a name's failures from every address."""

ThrottleKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Backoff:
    """``free`` failures cost nothing; each further one doubles the wait, from ``base_seconds`` up to
    ``cap_seconds``."""

    free: int
    base_seconds: int
    cap_seconds: int

    def __post_init__(self) -> None:
        if self.free < 1 or self.base_seconds < 1 or self.cap_seconds < self.base_seconds:
            raise ValueError(f"bad backoff: {self.free}, {self.base_seconds}, {self.cap_seconds}")

    def wait(self, failures: int) -> timedelta:
        if failures < self.free:
            return timedelta(0)
        return timedelta(seconds=min(self.cap_seconds, self.base_seconds * 2 ** min(failures - self.free, 32)))


@dataclass(frozen=True, slots=True)
class Attempts:
    """What is remembered of one throttle key: failures in a row, when the last was, until when the key
    must wait, and (for an address with a name) when that name last logged in from there."""

    failures: int = 0
    last_failure_at: datetime | None = None
    blocked_until: datetime | None = None
    succeeded_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Throttle:
    """Failed logins slow down with waits that double (OWASP Authentication Cheat Sheet, login throttling):

    - the pair (address, name) most: one guesser at one account;
    - the address next: one guesser trying many names;
    - the name from every address only briefly (at most ``account.cap_seconds``), and never at an address
      it has logged in from within ``trusted_days``: a stranger's failures elsewhere cost the real user a
      few seconds at most, and nothing at their usual address.

    An attempt during a wait is refused without looking at the password and is not counted, so hammering
    does not lengthen anyone's wait. A key's failures are forgotten after ``forget_minutes`` without one.
    """

    pair: Backoff = field(default_factory=lambda: Backoff(3, 2, 900))
    address: Backoff = field(default_factory=lambda: Backoff(10, 2, 900))
    account: Backoff = field(default_factory=lambda: Backoff(10, 1, 30))
    forget_minutes: int = 60
    trusted_days: int = 30

    @staticmethod
    def keys(address: str, username: str) -> tuple[ThrottleKey, ThrottleKey, ThrottleKey]:
        """The keys of the pair, the address and the name."""
        return (address, username), (address, ANY), (ANY, username)

    def trusted(self, pair: Attempts | None, now: datetime) -> bool:
        """Whether the name logged in from this address lately (the name-wide wait does not apply)."""
        return bool(pair and pair.succeeded_at and pair.succeeded_at > now - timedelta(days=self.trusted_days))

    def retry_after(self, pair: Attempts | None, address: Attempts | None, account: Attempts | None,
                    now: datetime) -> int:  # fmt: skip
        """Whole seconds this attempt must still wait; 0 when it may go ahead."""
        considered = [pair, address] if self.trusted(pair, now) else [pair, address, account]
        until = max((a.blocked_until for a in considered if a and a.blocked_until), default=None)
        if until is None or until <= now:
            return 0
        return max(1, math.ceil((until - now).total_seconds()))

    def after_failure(self, backoff: Backoff, seen: Attempts | None, now: datetime) -> Attempts:
        """A key's state once one more failure is counted."""
        seen = seen or Attempts()
        forgotten = seen.last_failure_at is None or now - seen.last_failure_at >= timedelta(minutes=self.forget_minutes)
        failures = 1 if forgotten else seen.failures + 1
        wait = backoff.wait(failures)
        return Attempts(failures, now, now + wait if wait else None, seen.succeeded_at)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an account's roles and scope, and the login session the call belongs to."""

    username: str
    kind: AccountKind
    roles: frozenset[Role]
    scope_region_code: str | None = None
    scope_organization_code: str | None = None
    session_id: str = ""
    """The login session (the family of its refresh tokens) the call belongs to."""
    expires_at: datetime | None = None
    """When the access token that named this principal lapses."""

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
