"""Accounts, login throttles, login sessions and their spent refresh tokens, API keys and the audit trail."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Row, Table, bindparam, delete, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult

from xiuhua.kernel.actor import Role
from xiuhua.kernel.errors import ConflictError
from xiuhua.org.domain.accounts import Account, AccountKind, Attempts, ThrottleKey
from xiuhua.platform.db import tables as t
from xiuhua.platform.db.upsert import upsert

_SESSION_ACTIVE = select(t.auth_sessions.c.username).where(
    t.auth_sessions.c.id == bindparam("b_id"),
    t.auth_sessions.c.revoked_at.is_(None),
    t.auth_sessions.c.expires_at > bindparam("b_now"),
)

_ADMINS = (
    select(t.accounts.c.username, t.accounts.c.active, t.staff.c.active.label("staff_active"))
    .join_from(t.accounts, t.staff, t.staff.c.username == t.accounts.c.username)
    .where(
        t.staff.c.id.in_(select(t.staff_roles.c.staff_id).where(t.staff_roles.c.role == Role.ADMIN.value)),
    )
    .order_by(t.accounts.c.username)
)


def _active(rows: Iterable[Row[Any]]) -> list[str]:
    return [r.username for r in rows if r.active and r.staff_active]


def _account(r: Row[Any]) -> Account:
    return Account(
        username=r.username,
        kind=AccountKind(r.kind),
        password_hash=r.password_hash,
        created_at=r.created_at,
        password_changed_at=r.password_changed_at,
        display_name=r.display_name,
        phone=r.phone,
        active=r.active,
    )


class AccountRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # ----- accounts ------------------------------------------------------------------------------
    def get(self, username: str) -> Account | None:
        row = self.conn.execute(select(t.accounts).where(t.accounts.c.username == username)).first()
        return _account(row) if row else None

    def add(self, account: Account) -> None:
        """Insert a new account; raises ConflictError when the username is taken."""
        if not _insert_new(self.conn, t.accounts, _values(account)):
            raise ConflictError("auth.username_taken", f"用户名 {account.username} 已被使用", username=account.username)

    def put_many(self, accounts: Sequence[Account]) -> None:
        """Insert or replace (by username) many accounts at once."""
        upsert(self.conn, t.accounts, [_values(a) for a in accounts], ["username"])

    def usernames(self) -> set[str]:
        return set(self.conn.scalars(select(t.accounts.c.username)))

    def set_password(self, username: str, password_hash: str, at: datetime) -> bool:
        stmt = (
            update(t.accounts)
            .where(t.accounts.c.username == username)
            .values(password_hash=password_hash, password_changed_at=at)
        )
        return bool(cast(CursorResult[Any], self.conn.execute(stmt)).rowcount)

    def set_active(self, username: str, active: bool) -> bool:
        stmt = update(t.accounts).where(t.accounts.c.username == username).values(active=active)
        return bool(cast(CursorResult[Any], self.conn.execute(stmt)).rowcount)

    def delete(self, username: str) -> bool:
        """Remove a login with its sessions (the staff record, the log and the audit trail keep the name)."""
        self.conn.execute(delete(t.auth_sessions).where(t.auth_sessions.c.username == username))
        stmt = delete(t.accounts).where(t.accounts.c.username == username)
        return bool(cast(CursorResult[Any], self.conn.execute(stmt)).rowcount)

    # ----- administrators --------------------------------------------------------------------------
    def lock_admins(self) -> list[str]:
        """Lock the rows of every administrator's login and staff record until the transaction ends
        (SELECT … FOR UPDATE on PostgreSQL; SQLite lets one writer in at a time anyway) and name the active
        ones, as committed by whoever held the rows before."""
        return _active(self.conn.execute(_ADMINS.with_for_update(of=[t.accounts, t.staff])))

    def active_admins(self) -> list[str]:
        """Administrators who can log in: an active login and an active staff record with the role."""
        return _active(self.conn.execute(_ADMINS))

    # ----- login throttles ---------------------------------------------------------------------------
    def attempts(self, keys: Sequence[ThrottleKey]) -> dict[ThrottleKey, Attempts]:
        """The remembered state of these (address, username) keys; absent keys have none."""
        lt = t.login_throttles.c
        stmt = select(t.login_throttles).where(tuple_(lt.address, lt.username).in_(list(keys)))
        return {
            (r.address, r.username): Attempts(r.failures, r.last_failure_at, r.blocked_until, r.succeeded_at)
            for r in self.conn.execute(stmt)
        }

    def put_attempts(self, states: dict[ThrottleKey, Attempts], now: datetime) -> None:
        rows = [
            {
                "address": address,
                "username": username,
                "failures": a.failures,
                "last_failure_at": a.last_failure_at,
                "blocked_until": a.blocked_until,
                "succeeded_at": a.succeeded_at,
                "updated_at": now,
            }
            for (address, username), a in sorted(states.items())
        ]
        upsert(self.conn, t.login_throttles, rows, ["address", "username"])

    def forget_attempts(self, before: datetime) -> int:
        """Drop throttle rows untouched since ``before``."""
        stmt = delete(t.login_throttles).where(t.login_throttles.c.updated_at < before)
        return cast(CursorResult[Any], self.conn.execute(stmt)).rowcount

    # ----- sessions ------------------------------------------------------------------------------
    def open_session(self, session_id: str, username: str, refresh_hash: str, now: datetime, expires: datetime) -> None:
        self.conn.execute(
            t.auth_sessions.insert().values(
                id=session_id,
                username=username,
                refresh_hash=refresh_hash,
                created_at=now,
                refreshed_at=now,
                expires_at=expires,
            )
        )

    def session_by_refresh(self, refresh_hash: str) -> tuple[str, str, datetime, datetime | None] | None:
        """(session id, username, expires_at, revoked_at) of the session a refresh token belongs to."""
        s = t.auth_sessions.c
        row = self.conn.execute(
            select(s.id, s.username, s.expires_at, s.revoked_at).where(s.refresh_hash == refresh_hash)
        ).first()
        return (row.id, row.username, row.expires_at, row.revoked_at) if row else None

    def rotate_refresh(self, session_id: str, old_hash: str, new_hash: str, now: datetime) -> bool:
        """Swap the refresh token and remember the old one as spent; False when another request already
        swapped it (a replay)."""
        s = t.auth_sessions.c
        stmt = (
            update(t.auth_sessions)
            .where(s.id == session_id, s.refresh_hash == old_hash, s.revoked_at.is_(None))
            .values(refresh_hash=new_hash, refreshed_at=now)
        )
        if not cast(CursorResult[Any], self.conn.execute(stmt)).rowcount:
            return False
        self.conn.execute(t.spent_refresh_tokens.insert().values(refresh_hash=old_hash, session_id=session_id,
                                                                 spent_at=now))  # fmt: skip
        return True

    def session_of_spent(self, refresh_hash: str) -> tuple[str, str] | None:
        """(session id, username) of the session a rotated (spent) refresh token belonged to."""
        sp, s = t.spent_refresh_tokens.c, t.auth_sessions.c
        stmt = select(s.id, s.username).join_from(t.spent_refresh_tokens, t.auth_sessions, sp.session_id == s.id)
        row = self.conn.execute(stmt.where(sp.refresh_hash == refresh_hash)).first()
        return (row.id, row.username) if row else None

    def forget_spent(self, before: datetime) -> int:
        """Drop spent refresh tokens older than ``before`` (their sessions have expired by then)."""
        stmt = delete(t.spent_refresh_tokens).where(t.spent_refresh_tokens.c.spent_at < before)
        return cast(CursorResult[Any], self.conn.execute(stmt)).rowcount

    def session_user(self, session_id: str, now: datetime) -> str | None:
        """The username of a session that is neither revoked nor expired."""
        return self.conn.scalar(_SESSION_ACTIVE, {"b_id": session_id, "b_now": now})

    def revoke_session(self, session_id: str, now: datetime) -> bool:
        s = t.auth_sessions.c
        stmt = update(t.auth_sessions).where(s.id == session_id, s.revoked_at.is_(None)).values(revoked_at=now)
        return bool(cast(CursorResult[Any], self.conn.execute(stmt)).rowcount)

    def revoke_sessions_of(self, username: str, now: datetime) -> int:
        s = t.auth_sessions.c
        stmt = update(t.auth_sessions).where(s.username == username, s.revoked_at.is_(None)).values(revoked_at=now)
        return cast(CursorResult[Any], self.conn.execute(stmt)).rowcount

    # ----- API keys ------------------------------------------------------------------------------
    def add_api_key(self, name: str, key_hash: str, now: datetime, created_by: str) -> None:
        values = {"name": name, "key_hash": key_hash, "created_at": now, "created_by": created_by}
        if not _insert_new(self.conn, t.api_keys, values):
            raise ConflictError("auth.api_key_taken", f"API 密钥名称 {name} 已存在", name=name)

    def api_key_name(self, key_hash: str) -> str | None:
        k = t.api_keys.c
        return self.conn.scalar(select(k.name).where(k.key_hash == key_hash, k.revoked_at.is_(None)))

    def revoke_api_key(self, name: str, now: datetime) -> bool:
        k = t.api_keys.c
        stmt = update(t.api_keys).where(k.name == name, k.revoked_at.is_(None)).values(revoked_at=now)
        return bool(cast(CursorResult[Any], self.conn.execute(stmt)).rowcount)

    def api_keys(self) -> list[tuple[str, datetime, str, datetime | None]]:
        k = t.api_keys.c
        stmt = select(k.name, k.created_at, k.created_by, k.revoked_at).order_by(k.name)
        return [(r.name, r.created_at, r.created_by, r.revoked_at) for r in self.conn.execute(stmt)]


class AuditRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, at: datetime, actor: str, action: str, target: str = "", client: str = "", **details: Any) -> None:
        self.conn.execute(
            t.audit_events.insert().values(
                at=at,
                actor=actor[:64],
                action=action,
                target=target[:128],
                client=client[:64],
                details=json.dumps(details, ensure_ascii=False, default=str),
            )
        )

    def recent(
        self, *, actor: str | None = None, action: str | None = None, before_id: int | None = None, limit: int = 100
    ) -> list[tuple[int, datetime, str, str, str, str, dict[str, Any]]]:
        """(id, at, actor, action, target, client, details), newest first."""
        a = t.audit_events.c
        stmt = select(t.audit_events).order_by(a.id.desc()).limit(limit)
        if actor:
            stmt = stmt.where(a.actor == actor)
        if action:
            stmt = stmt.where(a.action.startswith(action, autoescape=True))
        if before_id:
            stmt = stmt.where(a.id < before_id)
        return [
            (r.id, r.at, r.actor, r.action, r.target, r.client, json.loads(r.details)) for r in self.conn.execute(stmt)
        ]


def _insert_new(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING: whether the row went in, leaving the transaction usable either way.
    (Not a savepoint around a plain INSERT: on SQLite the driver opens no transaction before the first write,
    so a savepoint taken first becomes the transaction and its release commits it.)"""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table).values(values).on_conflict_do_nothing().returning(*table.primary_key.columns)
    return conn.execute(stmt).first() is not None


def _values(a: Account) -> dict[str, Any]:
    return {
        "username": a.username,
        "kind": a.kind.value,
        "password_hash": a.password_hash,
        "display_name": a.display_name,
        "phone": a.phone,
        "active": a.active,
        "created_at": a.created_at,
        "password_changed_at": a.password_changed_at,
    }
