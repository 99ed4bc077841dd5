"""Use cases of accounts: log in (throttled), refresh, log out, citizens' sign-up, passwords, API keys.

Passwords are hashed with argon2id. Failed logins slow down the address and the name that make them
(domain.accounts.Throttle), never locking an account. A login opens a session; refresh tokens are random,
stored only as SHA-256 and rotated on every use, and a rotated one used again revokes its whole session
(RFC 9700 §4.14.2). Logging out or disabling an account revokes its sessions, which every request checks.
No change leaves the city without an active administrator. Logins, their failures and every change made
by an administrator are audited.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from xiuhua.kernel.actor import Role
from xiuhua.kernel.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from xiuhua.kernel.ports import Clock
from xiuhua.org.domain.accounts import (
    Account,
    AccountKind,
    Attempts,
    AuthenticationError,
    Principal,
    Throttle,
    ThrottledError,
    check_admins_remain,
    check_citizen_username,
    check_password,
)
from xiuhua.org.ports import OrgUnitOfWork

BAD_CREDENTIALS = "用户名或密码错误"


@dataclass(frozen=True)
class AuthRules:
    throttle: Throttle = field(default_factory=Throttle)
    session_days: int = 7
    hasher: PasswordHasher = field(default_factory=PasswordHasher)

    def __post_init__(self) -> None:
        # Verifying against this when the username is unknown takes as long as a real check.
        object.__setattr__(self, "_dummy", self.hasher.hash(secrets.token_hex(16)))

    @property
    def dummy_hash(self) -> str:
        return str(self.__dict__["_dummy"])


@dataclass(frozen=True, slots=True)
class LogIn:
    username: str
    password: str
    client: str = ""


@dataclass(frozen=True, slots=True)
class LoggedIn:
    principal: Principal
    refresh_token: str
    refresh_expires_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def principal_of(account: Account, uow: OrgUnitOfWork, session_id: str = "") -> Principal:
    """The roles and scope of an account now (a staff account's come from its staff record)."""
    if account.kind is AccountKind.CITIZEN:
        return Principal(account.username, account.kind, frozenset({Role.CITIZEN}), session_id=session_id)
    staff = uow.staff.get(account.username)
    if staff is None or not staff.active:
        raise AuthenticationError("auth.inactive", f"账号 {account.username} 已停用", username=account.username)
    return Principal(
        account.username,
        account.kind,
        staff.roles,
        staff.scope_region_code,
        staff.scope_organization_code,
        session_id,
    )


def log_in(cmd: LogIn, uow: OrgUnitOfWork, clock: Clock, rules: AuthRules) -> LoggedIn:
    """Check the password and open a session. Raises ThrottledError while the address or the name must
    wait, else AuthenticationError; an unknown name and a wrong password answer alike, after the same work."""
    now = clock.now()
    throttle = rules.throttle
    if not cmd.username:
        _verify(rules, rules.dummy_hash, cmd.password)
        raise AuthenticationError("auth.invalid_credentials", BAD_CREDENTIALS)
    keys = throttle.keys((cmd.client or "-")[:64], cmd.username[:64])
    with uow:
        seen = uow.accounts.attempts(keys)
        pair, address, name = (seen.get(k) for k in keys)
        wait = throttle.retry_after(pair, address, name, now)
        if wait:
            uow.audit.add(now, cmd.username, "login.throttled", cmd.username, cmd.client, retry_after_seconds=wait)
            uow.commit()
            raise ThrottledError(wait)
        account = uow.accounts.get(cmd.username)
        # an unknown name is checked against a dummy hash: as slow as a wrong password, so timing tells nothing
        verified = _verify(rules, account.password_hash if account else rules.dummy_hash, cmd.password)
        if account is None or not verified:
            backoffs = (throttle.pair, throttle.address, throttle.account)
            failed = {k: throttle.after_failure(b, seen.get(k), now) for k, b in zip(keys, backoffs, strict=True)}
            uow.accounts.put_attempts(failed, now)
            reason = "unknown_user" if account is None else "bad_password"
            uow.audit.add(now, cmd.username, "login.failed", cmd.username, cmd.client, reason=reason)
            uow.commit()
            raise AuthenticationError("auth.invalid_credentials", BAD_CREDENTIALS)
        if not account.active:
            uow.audit.add(now, cmd.username, "login.failed", cmd.username, cmd.client, reason="inactive")
            uow.commit()
            raise AuthenticationError("auth.inactive", f"账号 {cmd.username} 已停用")
        uow.accounts.put_attempts({keys[0]: Attempts(succeeded_at=now)}, now)  # this address is now known
        if rules.hasher.check_needs_rehash(account.password_hash):
            uow.accounts.set_password(account.username, rules.hasher.hash(cmd.password), account.password_changed_at)
        session_id = secrets.token_hex(16)
        principal = principal_of(account, uow, session_id)
        refresh = secrets.token_urlsafe(32)
        expires = now + timedelta(days=rules.session_days)
        uow.accounts.open_session(session_id, account.username, token_hash(refresh), now, expires)
        uow.audit.add(now, cmd.username, "login.ok", cmd.username, cmd.client, session=session_id)
        # housekeeping, small and indexed: throttle rows and spent refresh tokens nobody needs any more
        uow.accounts.forget_attempts(now - timedelta(days=throttle.trusted_days))
        uow.accounts.forget_spent(now - timedelta(days=rules.session_days))
        uow.commit()
    return LoggedIn(principal, refresh, expires)


def _verify(rules: AuthRules, password_hash: str, password: str) -> bool:
    try:
        return rules.hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def refresh_session(refresh_token: str, uow: OrgUnitOfWork, clock: Clock, client: str = "") -> LoggedIn:
    """Swap a refresh token for a new one (and new roles, if they changed). A token already swapped, used
    again, ends its whole session: the newest refresh token and every access token of it stop working
    (RFC 9700 §4.14.2, refresh token rotation). Raises AuthenticationError."""
    now = clock.now()
    old = token_hash(refresh_token)
    with uow:
        found = uow.accounts.session_by_refresh(old)
        if found is None:
            spent = uow.accounts.session_of_spent(old)
            if spent is None:
                raise AuthenticationError("auth.invalid_refresh", "刷新令牌无效，请重新登录")
            _end_reused(uow, *spent, now, client)
        session_id, username, expires, revoked = found
        if revoked is not None or expires <= now:
            raise AuthenticationError("auth.session_ended", "登录已失效，请重新登录")
        account = uow.accounts.get(username)
        if account is None or not account.active:
            raise AuthenticationError("auth.inactive", f"账号 {username} 已停用")
        principal = principal_of(account, uow, session_id)
        new = secrets.token_urlsafe(32)
        if not uow.accounts.rotate_refresh(session_id, old, token_hash(new), now):
            _end_reused(uow, session_id, username, now, client)  # another request swapped it first
        uow.commit()
    return LoggedIn(principal, new, expires)


def _end_reused(uow: OrgUnitOfWork, session_id: str, username: str, now: datetime, client: str) -> NoReturn:
    """Revoke the session of a refresh token used twice, audit it, commit, and refuse."""
    if not uow.accounts.revoke_session(session_id, now):
        raise AuthenticationError("auth.session_ended", "登录已失效，请重新登录")
    uow.audit.add(now, username, "refresh.reused", username, client, session=session_id)
    uow.commit()
    raise AuthenticationError("auth.refresh_reused", "刷新令牌被重复使用，为安全起见本次登录已失效，请重新登录")


def check_session(session_id: str, uow: OrgUnitOfWork, now: datetime) -> None:
    """Raises AuthenticationError unless the session is still open (not logged out, revoked or expired)."""
    with uow:
        if uow.accounts.session_user(session_id, now) is None:
            raise AuthenticationError("auth.session_ended", "登录已失效，请重新登录")


def log_out(principal: Principal, uow: OrgUnitOfWork, clock: Clock, client: str = "") -> None:
    now = clock.now()
    with uow:
        uow.accounts.revoke_session(principal.session_id, now)
        uow.audit.add(now, principal.username, "logout", principal.username, client, session=principal.session_id)
        uow.commit()


@dataclass(frozen=True, slots=True)
class RegisterCitizen:
    username: str
    password: str
    display_name: str
    phone: str | None = None
    client: str = ""


def register_citizen(cmd: RegisterCitizen, uow: OrgUnitOfWork, clock: Clock, rules: AuthRules) -> str:
    """Open a citizen account (they report and follow their own cases); raises InvalidInputError, ConflictError."""
    check_citizen_username(cmd.username)
    check_password(cmd.password, cmd.username)
    name = cmd.display_name.strip()
    if not 1 <= len(name) <= 64:
        raise InvalidInputError("auth.bad_name", "称呼应为 1–64 个字符")
    now = clock.now()
    with uow:
        if uow.staff.get(cmd.username) is not None:
            raise ConflictError("auth.username_taken", f"用户名 {cmd.username} 已被使用", username=cmd.username)
        account = Account(cmd.username, AccountKind.CITIZEN, rules.hasher.hash(cmd.password), now, now, name,
                          cmd.phone)  # fmt: skip
        uow.accounts.add(account)
        uow.audit.add(now, cmd.username, "citizen.registered", cmd.username, cmd.client)
        uow.commit()
    return cmd.username


@dataclass(frozen=True, slots=True)
class SetPassword:
    admin: Principal
    username: str
    password: str
    client: str = ""


def set_staff_password(cmd: SetPassword, uow: OrgUnitOfWork, clock: Clock, rules: AuthRules) -> None:
    """An administrator sets a staff member's password (creating the login); other sessions end."""
    require_admin(cmd.admin)
    check_password(cmd.password, cmd.username)
    now = clock.now()
    with uow:
        staff = uow.staff.get(cmd.username)
        if staff is None:
            raise NotFoundError("staff.not_found", f"账号 {cmd.username} 不存在", username=cmd.username)
        hashed = rules.hasher.hash(cmd.password)
        if not uow.accounts.set_password(cmd.username, hashed, now):
            uow.accounts.add(Account(cmd.username, AccountKind.STAFF, hashed, now, now, staff.name))
        uow.accounts.revoke_sessions_of(cmd.username, now)
        uow.audit.add(now, cmd.admin.username, "admin.password_set", cmd.username, cmd.client)
        uow.commit()


def change_own_password(
    principal: Principal, old: str, new: str, uow: OrgUnitOfWork, clock: Clock, rules: AuthRules
) -> None:
    check_password(new, principal.username)
    now = clock.now()
    with uow:
        account = uow.accounts.get(principal.username)
        if account is None or not _verify(rules, account.password_hash, old):
            raise AuthenticationError("auth.invalid_credentials", "原密码错误")
        uow.accounts.set_password(principal.username, rules.hasher.hash(new), now)
        uow.audit.add(now, principal.username, "password.changed", principal.username)
        uow.commit()


@contextmanager
def keeping_an_admin(uow: OrgUnitOfWork) -> Iterator[None]:
    """Around a change, inside an open unit of work, that may disable, demote or delete administrators:
    locks their rows first (so two such changes run one after the other), and raises LastAdminError after
    the change if it left no active administrator (the unit of work then rolls it back)."""
    before = uow.accounts.lock_admins()
    yield
    check_admins_remain(before, uow.accounts.active_admins())


def set_account_active(admin: Principal, username: str, active: bool, uow: OrgUnitOfWork, clock: Clock,
                       client: str = "") -> None:  # fmt: skip
    """Enable or disable a login; disabling ends its sessions at once. Raises NotFoundError, LastAdminError."""
    require_admin(admin)
    now = clock.now()
    with uow:
        with keeping_an_admin(uow):
            if not uow.accounts.set_active(username, active):
                raise NotFoundError("auth.no_account", f"账号 {username} 没有登录凭据", username=username)
        if not active:
            uow.accounts.revoke_sessions_of(username, now)
        action = "admin.account_enabled" if active else "admin.account_disabled"
        uow.audit.add(now, admin.username, action, username, client)
        uow.commit()


def delete_account(admin: Principal, username: str, uow: OrgUnitOfWork, clock: Clock, client: str = "") -> None:
    """Remove a login and its sessions (a staff member keeps the staff record). Raises NotFoundError,
    LastAdminError."""
    require_admin(admin)
    now = clock.now()
    with uow:
        with keeping_an_admin(uow):
            if not uow.accounts.delete(username):
                raise NotFoundError("auth.no_account", f"账号 {username} 没有登录凭据", username=username)
        uow.audit.add(now, admin.username, "admin.account_deleted", username, client)
        uow.commit()


def ensure_staff_logins(usernames: Sequence[str], password: str, uow: OrgUnitOfWork, clock: Clock,
                        rules: AuthRules) -> int:  # fmt: skip
    """Give staff without a login one with this password (the demo's known password); returns how many."""
    now = clock.now()
    hashed = rules.hasher.hash(password)  # one hash for all: argon2 salts it, and these are demo accounts
    with uow:
        existing = uow.accounts.usernames()
        staff = {s.username: s for s in uow.staff.all()}
        new = [
            Account(u, AccountKind.STAFF, hashed, now, now, staff[u].name)
            for u in usernames
            if u not in existing and u in staff
        ]
        uow.accounts.put_many(new)
        uow.commit()
    return len(new)


def create_api_key(admin: Principal, name: str, uow: OrgUnitOfWork, clock: Clock) -> str:
    """A new API key for a partner system (Open311 clients, hotlines); shown once, stored as SHA-256."""
    require_admin(admin)
    if not 2 <= len(name.strip()) <= 64:
        raise InvalidInputError("auth.bad_key_name", "API 密钥名称应为 2–64 个字符")
    key = "xh_" + secrets.token_urlsafe(32)
    now = clock.now()
    with uow:
        uow.accounts.add_api_key(name.strip(), token_hash(key), now, admin.username)
        uow.audit.add(now, admin.username, "admin.api_key_created", name.strip())
        uow.commit()
    return key


def revoke_api_key(admin: Principal, name: str, uow: OrgUnitOfWork, clock: Clock) -> None:
    require_admin(admin)
    now = clock.now()
    with uow:
        if not uow.accounts.revoke_api_key(name, now):
            raise NotFoundError("auth.no_api_key", f"API 密钥 {name} 不存在或已吊销", name=name)
        uow.audit.add(now, admin.username, "admin.api_key_revoked", name)
        uow.commit()


def api_key_client(key: str, uow: OrgUnitOfWork) -> str:
    """The name of the partner system holding this key; raises AuthenticationError."""
    with uow:
        name = uow.accounts.api_key_name(token_hash(key))
    if name is None:
        raise AuthenticationError("auth.invalid_api_key", "API 密钥无效或已吊销")
    return name


def require_admin(principal: Principal) -> None:
    if Role.ADMIN not in principal.roles:
        raise ForbiddenError("auth.admin_only", "此操作仅限管理员", roles=[Role.ADMIN.value])


def record(uow: OrgUnitOfWork, clock: Clock, actor: str, action: str, target: str = "", client: str = "",
           **details: object) -> None:  # fmt: skip
    """Append one audit event in its own transaction (denials, which roll back everything else)."""
    with uow:
        uow.audit.add(clock.now(), actor, action, target, client, **details)
        uow.commit()
