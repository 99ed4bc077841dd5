"""Accounts, login sessions, API keys and the audit trail."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Row, bindparam, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from xiuhua.adapters.db import tables as t
from xiuhua.adapters.db.repositories import upsert
from xiuhua.domain.accounts import Account, AccountKind
from xiuhua.domain.errors import ConflictError

_SESSION_ACTIVE = select(t.auth_sessions.c.username).where(
    t.auth_sessions.c.id == bindparam("b_id"),
    t.auth_sessions.c.revoked_at.is_(None),
    t.auth_sessions.c.expires_at > bindparam("b_now"),
)


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
        failed_attempts=r.failed_attempts,
        locked_until=r.locked_until,
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
        try:
            with self.conn.begin_nested():
                self.conn.execute(t.accounts.insert().values(_values(account)))
        except IntegrityError:
            raise ConflictError(
                "auth.username_taken", f"用户名 {account.username} 已被使用", username=account.username
            ) from None

    def put_many(self, accounts: Sequence[Account]) -> None:
        """Insert or replace (by username) many accounts at once."""
        upsert(self.conn, t.accounts, [_values(a) for a in accounts], ["username"])

    def usernames(self) -> set[str]:
        return set(self.conn.scalars(select(t.accounts.c.username)))

    def set_password(self, username: str, password_hash: str, at: datetime) -> bool:
        stmt = (
            update(t.accounts)
            .where(t.accounts.c.username == username)
            .values(password_hash=password_hash, password_changed_at=at, failed_attempts=0, locked_until=None)
        )
        return bool(cast(CursorResult[Any], self.conn.execute(stmt)).rowcount)

    def set_failures(self, username: str, attempts: int, locked_until: datetime | None) -> None:
        stmt = (
            update(t.accounts)
            .where(t.accounts.c.username == username)
            .values(failed_attempts=attempts, locked_until=locked_until)
        )
        self.conn.execute(stmt)

    def set_active(self, username: str, active: bool) -> bool:
        stmt = update(t.accounts).where(t.accounts.c.username == username).values(active=active)
        return bool(cast(CursorResult[Any], self.conn.execute(stmt)).rowcount)

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
        """Swap the refresh token; False when another request already swapped it (a replay)."""
        s = t.auth_sessions.c
        stmt = (
            update(t.auth_sessions)
            .where(s.id == session_id, s.refresh_hash == old_hash, s.revoked_at.is_(None))
            .values(refresh_hash=new_hash, refreshed_at=now)
        )
        return bool(cast(CursorResult[Any], self.conn.execute(stmt)).rowcount)

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
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    t.api_keys.insert().values(name=name, key_hash=key_hash, created_at=now, created_by=created_by)
                )
        except IntegrityError:
            raise ConflictError("auth.api_key_taken", f"API 密钥名称 {name} 已存在", name=name) from None

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


def _values(a: Account) -> dict[str, Any]:
    return {
        "username": a.username,
        "kind": a.kind.value,
        "password_hash": a.password_hash,
        "display_name": a.display_name,
        "phone": a.phone,
        "active": a.active,
        "failed_attempts": a.failed_attempts,
        "locked_until": a.locked_until,
        "created_at": a.created_at,
        "password_changed_at": a.password_changed_at,
    }
