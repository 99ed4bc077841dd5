"""In-memory repositories of the organisation, for service tests: the same Protocols as the SQL ones
(org.ports), held in plain containers a unit of work can copy and restore."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from xiuhua.kernel.actor import Role
from xiuhua.kernel.errors import ConflictError
from xiuhua.org.domain.accounts import Account, Attempts, ThrottleKey
from xiuhua.org.domain.calendar import Schedule
from xiuhua.org.domain.model import ClassKind, Organization, OrgKind, Region, Staff
from xiuhua.org.domain.standards import CaseClass, CaseStandard
from xiuhua.platform.db.types import as_stored, as_stored_or_none


class FakeRegions:
    def __init__(self) -> None:
        self.rows: dict[str, Region] = {}

    def upsert(self, regions: Sequence[Region]) -> None:
        figures = any(r.population is not None for r in regions)  # a list without figures keeps stored ones
        for r in regions:
            kept = self.rows.get(r.code)
            population = r.population if figures or kept is None else kept.population
            self.rows[r.code] = replace(r, population=population)

    def set_populations(self, populations: dict[str, int]) -> None:
        for code, n in populations.items():
            if code in self.rows:
                self.rows[code] = replace(self.rows[code], population=n)

    def populations(self) -> dict[str, int]:
        return {code: r.population for code, r in self.rows.items() if r.population is not None}

    def all(self) -> list[Region]:
        return [self.rows[code] for code in sorted(self.rows)]

    def codes(self) -> set[str]:
        return set(self.rows)

    def count_by_level(self) -> dict[str, int]:
        return dict(Counter(r.level.value for r in self.rows.values()))


class FakeOrganizations:
    def __init__(self) -> None:
        self.rows: dict[str, Organization] = {}

    def ids_by_code(self) -> dict[str, int]:
        return {code: i for i, code in enumerate(self.rows, start=1)}

    def upsert(self, orgs: Sequence[Organization]) -> None:
        for o in orgs:
            self.rows[o.code] = replace(o, jurisdiction=tuple(sorted(o.jurisdiction)), classes=tuple(sorted(o.classes)))

    def all(self) -> list[Organization]:
        return sorted(self.rows.values(), key=lambda o: (o.level.value, o.region_code, o.code))

    def get(self, code: str) -> Organization | None:
        return self.rows.get(code)

    def kind_of(self, code: str) -> OrgKind | None:
        org = self.rows.get(code)
        return org.kind if org else None

    def count_by_kind(self) -> dict[str, int]:
        return dict(Counter(o.kind.value for o in self.rows.values()))


class FakeStaffDirectory:
    def __init__(self) -> None:
        self.rows: dict[str, Staff] = {}

    def upsert(self, accounts: Sequence[Staff]) -> None:
        for s in accounts:
            self.rows[s.username] = s

    def all(self, username: str | None = None) -> list[Staff]:
        return [s for name, s in sorted(self.rows.items()) if username is None or name == username]

    def get(self, username: str) -> Staff | None:
        return self.rows.get(username)

    def count_by_role(self) -> dict[str, int]:
        return dict(Counter(role.value for s in self.rows.values() for role in s.roles))


class FakeCatalog:
    def __init__(self) -> None:
        self.class_rows: dict[tuple[ClassKind, str], CaseClass] = {}
        self.standard_rows: dict[int, CaseStandard] = {}

    def upsert_classes(self, classes: Sequence[CaseClass]) -> None:
        for c in classes:
            self.class_rows[(c.kind, c.code)] = c

    def classes(self) -> list[CaseClass]:
        return [self.class_rows[key] for key in sorted(self.class_rows)]

    def upsert_standards(self, standards: Sequence[CaseStandard]) -> None:
        """By (class, filing condition): an existing row keeps its id and position."""
        ids = {(s.kind, s.code, s.filing_condition): i for i, s in self.standard_rows.items()}
        for s in standards:
            key = (s.kind, s.code, s.filing_condition)
            id_ = ids.get(key) or max(self.standard_rows, default=0) + 1
            ids[key] = id_
            self.standard_rows[id_] = replace(s, limits=dict(s.limits), id=id_)

    def standards(self) -> list[CaseStandard]:
        return [self.standard_rows[i] for i in sorted(self.standard_rows)]

    def standard(self, standard_id: int) -> CaseStandard | None:
        return self.standard_rows.get(standard_id)

    def has_class(self, kind: ClassKind, code: str) -> bool:
        return (kind, code) in self.class_rows

    def count_classes(self) -> dict[str, int]:
        return dict(Counter(kind.value for kind, _ in self.class_rows))

    def count_standards(self) -> int:
        return len(self.standard_rows)


class FakeCalendarStore:
    def __init__(self) -> None:
        self.schedule_rows: dict[str, Schedule] = {}
        self.override_rows: dict[date, tuple[bool, str]] = {}

    def schedules(self) -> list[Schedule]:
        return list(self.schedule_rows.values())

    def put_schedule(self, schedule: Schedule) -> None:
        self.schedule_rows[schedule.name] = schedule

    def overrides(self) -> dict[date, tuple[bool, str]]:
        return dict(sorted(self.override_rows.items()))

    def set_override(self, day: date, workday: bool, reason: str) -> None:
        self.override_rows[day] = (workday, reason)

    def delete_override(self, day: date) -> bool:
        return self.override_rows.pop(day, None) is not None


class FakeSettingsStore:
    """Values kept as JSON text, as the SQL table keeps them: what comes back is what JSON round-trips."""

    def __init__(self) -> None:
        self.rows: dict[str, str] = {}

    def get(self, key: str, default: Any = None) -> Any:
        value = self.rows.get(key)
        return default if value is None else json.loads(value)

    def set(self, key: str, value: Any) -> None:
        self.rows[key] = json.dumps(value, ensure_ascii=False)


@dataclass(slots=True)
class _Session:
    username: str
    refresh_hash: str
    created_at: datetime
    refreshed_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None


@dataclass(slots=True)
class _ApiKey:
    key_hash: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None


class FakeAccountStore:
    """Logins, throttle rows, sessions with their spent refresh tokens, and API keys.

    Administrators are the accounts whose staff record has the admin role, as the SQL join finds them: the
    store reads the staff records through ``staff``, a function (the unit of work's snapshots copy this
    store's attributes deeply, and a function is kept as it is, so it keeps reading the live directory).
    ``lock_admins`` has nothing to lock in memory and names the active administrators.
    """

    def __init__(self, staff: Callable[[], Sequence[Staff]] = list) -> None:
        self.staff = staff
        self.rows: dict[str, Account] = {}
        self.throttles: dict[ThrottleKey, tuple[Attempts, datetime]] = {}
        """(address, username) → the remembered attempts and when the row was last written."""
        self.sessions: dict[str, _Session] = {}
        self.spent: dict[str, tuple[str, datetime]] = {}
        """Spent refresh-token hash → (session id, spent at)."""
        self.keys: dict[str, _ApiKey] = {}
        """API key name → the key."""

    # ----- accounts --------------------------------------------------------------------------------
    def get(self, username: str) -> Account | None:
        return self.rows.get(username)

    def add(self, account: Account) -> None:
        """Insert a new account; raises ConflictError when the username is taken."""
        if account.username in self.rows:
            raise ConflictError("auth.username_taken", f"用户名 {account.username} 已被使用", username=account.username)
        self.rows[account.username] = _stored(account)

    def put_many(self, accounts: Sequence[Account]) -> None:
        """Insert or replace (by username) many accounts at once."""
        for a in accounts:
            self.rows[a.username] = _stored(a)

    def usernames(self) -> set[str]:
        return set(self.rows)

    def set_password(self, username: str, password_hash: str, at: datetime) -> bool:
        account = self.rows.get(username)
        if account is None:
            return False
        self.rows[username] = replace(account, password_hash=password_hash, password_changed_at=as_stored(at))
        return True

    def set_active(self, username: str, active: bool) -> bool:
        account = self.rows.get(username)
        if account is None:
            return False
        self.rows[username] = replace(account, active=active)
        return True

    def delete(self, username: str) -> bool:
        """Remove a login with its sessions and their spent tokens (the staff record keeps the name)."""
        ended = {sid for sid, s in self.sessions.items() if s.username == username}
        for sid in ended:
            del self.sessions[sid]
        self.spent = {h: (sid, at) for h, (sid, at) in self.spent.items() if sid not in ended}
        return self.rows.pop(username, None) is not None

    # ----- administrators --------------------------------------------------------------------------
    def lock_admins(self) -> list[str]:
        """The active administrators (one writer at a time in memory: there is nothing to lock)."""
        return self.active_admins()

    def active_admins(self) -> list[str]:
        """Administrators who can log in: an active login and an active staff record with the role."""
        return sorted(
            s.username
            for s in self.staff()
            if Role.ADMIN in s.roles and s.active and (a := self.rows.get(s.username)) is not None and a.active
        )

    # ----- login throttles -------------------------------------------------------------------------
    def attempts(self, keys: Sequence[ThrottleKey]) -> dict[ThrottleKey, Attempts]:
        """The remembered state of these (address, username) keys; absent keys have none."""
        return {k: self.throttles[k][0] for k in keys if k in self.throttles}

    def put_attempts(self, states: dict[ThrottleKey, Attempts], now: datetime) -> None:
        for key, a in states.items():
            stored = Attempts(
                a.failures,
                as_stored_or_none(a.last_failure_at),
                as_stored_or_none(a.blocked_until),
                as_stored_or_none(a.succeeded_at),
            )
            self.throttles[key] = (stored, as_stored(now))

    def forget_attempts(self, before: datetime) -> int:
        """Drop throttle rows untouched since ``before``."""
        old = [k for k, (_, updated) in self.throttles.items() if updated < before]
        for k in old:
            del self.throttles[k]
        return len(old)

    # ----- sessions --------------------------------------------------------------------------------
    def open_session(self, session_id: str, username: str, refresh_hash: str, now: datetime, expires: datetime) -> None:
        """Raises ValueError where the SQL table's keys refuse the row (a session id or a refresh token
        already held)."""
        if session_id in self.sessions or self._holder(refresh_hash) is not None:
            raise ValueError(f"session {session_id} or its refresh token is already held")
        self.sessions[session_id] = _Session(username, refresh_hash, as_stored(now), as_stored(now), as_stored(expires))

    def _holder(self, refresh_hash: str) -> str | None:
        return next((sid for sid, s in self.sessions.items() if s.refresh_hash == refresh_hash), None)

    def session_by_refresh(self, refresh_hash: str) -> tuple[str, str, datetime, datetime | None] | None:
        """(session id, username, expires_at, revoked_at) of the session a refresh token belongs to."""
        sid = self._holder(refresh_hash)
        if sid is None:
            return None
        s = self.sessions[sid]
        return sid, s.username, s.expires_at, s.revoked_at

    def rotate_refresh(self, session_id: str, old_hash: str, new_hash: str, now: datetime) -> bool:
        """Swap the refresh token and remember the old one as spent; False when another request already
        swapped it (a replay) or the session was revoked."""
        s = self.sessions.get(session_id)
        if s is None or s.refresh_hash != old_hash or s.revoked_at is not None:
            return False
        s.refresh_hash, s.refreshed_at = new_hash, as_stored(now)
        self.spent[old_hash] = (session_id, as_stored(now))
        return True

    def session_of_spent(self, refresh_hash: str) -> tuple[str, str] | None:
        """(session id, username) of the session a rotated (spent) refresh token belonged to."""
        spent = self.spent.get(refresh_hash)
        if spent is None or spent[0] not in self.sessions:
            return None
        return spent[0], self.sessions[spent[0]].username

    def forget_spent(self, before: datetime) -> int:
        """Drop spent refresh tokens older than ``before``."""
        old = [h for h, (_, at) in self.spent.items() if at < before]
        for h in old:
            del self.spent[h]
        return len(old)

    def session_user(self, session_id: str, now: datetime) -> str | None:
        """The username of a session that is neither revoked nor expired."""
        s = self.sessions.get(session_id)
        return s.username if s is not None and s.revoked_at is None and s.expires_at > now else None

    def revoke_session(self, session_id: str, now: datetime) -> bool:
        s = self.sessions.get(session_id)
        if s is None or s.revoked_at is not None:
            return False
        s.revoked_at = as_stored(now)
        return True

    def revoke_sessions_of(self, username: str, now: datetime) -> int:
        open_ = [s for s in self.sessions.values() if s.username == username and s.revoked_at is None]
        for s in open_:
            s.revoked_at = as_stored(now)
        return len(open_)

    # ----- API keys --------------------------------------------------------------------------------
    def add_api_key(self, name: str, key_hash: str, now: datetime, created_by: str) -> None:
        """Raises ConflictError when the name (or the key) is taken."""
        if name in self.keys or any(k.key_hash == key_hash for k in self.keys.values()):
            raise ConflictError("auth.api_key_taken", f"API 密钥名称 {name} 已存在", name=name)
        self.keys[name] = _ApiKey(key_hash, as_stored(now), created_by)

    def api_key_name(self, key_hash: str) -> str | None:
        return next((n for n, k in self.keys.items() if k.key_hash == key_hash and k.revoked_at is None), None)

    def revoke_api_key(self, name: str, now: datetime) -> bool:
        key = self.keys.get(name)
        if key is None or key.revoked_at is not None:
            return False
        key.revoked_at = as_stored(now)
        return True

    def api_keys(self) -> list[tuple[str, datetime, str, datetime | None]]:
        return [(n, k.created_at, k.created_by, k.revoked_at) for n, k in sorted(self.keys.items())]


def _stored(a: Account) -> Account:
    return replace(a, created_at=as_stored(a.created_at), password_changed_at=as_stored(a.password_changed_at))


class FakeAuditLog:
    """The audit trail, newest first; details kept as the JSON the table holds, fields cut to its widths."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, datetime, str, str, str, str, str]] = []

    def add(self, at: datetime, actor: str, action: str, target: str = "", client: str = "", **details: Any) -> None:
        text = json.dumps(details, ensure_ascii=False, default=str)
        self.rows.append((len(self.rows) + 1, as_stored(at), actor[:64], action, target[:128], client[:64], text))

    def recent(
        self, *, actor: str | None = None, action: str | None = None, before_id: int | None = None, limit: int = 100
    ) -> list[tuple[int, datetime, str, str, str, str, dict[str, Any]]]:
        """(id, at, actor, action, target, client, details), newest first."""
        found = [
            (i, at, who, what, target, client, json.loads(details))
            for i, at, who, what, target, client, details in reversed(self.rows)
            if (not actor or who == actor)
            and (not action or what.startswith(action))
            and (not before_id or i < before_id)
        ]
        return found[:limit]
