"""Ports of the organisation: the repositories its services use, and the units of work that carry them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol

from xiuhua.kernel.ports import UnitOfWork
from xiuhua.org.domain.accounts import Account, Attempts, ThrottleKey
from xiuhua.org.domain.calendar import Schedule
from xiuhua.org.domain.model import (
    ClassKind,
    Organization,
    OrgKind,
    Region,
    Staff,
)
from xiuhua.org.domain.standards import CaseClass, CaseStandard


class Regions(Protocol):
    """Administrative regions: city, districts, streets, communities."""

    def upsert(self, regions: Sequence[Region]) -> None: ...

    def set_populations(self, populations: dict[str, int]) -> None:
        """Set the residents of the given regions (code → number)."""
        ...

    def populations(self) -> dict[str, int]:
        """Region code → residents, for the regions that have the figure."""
        ...

    def all(self) -> list[Region]: ...

    def codes(self) -> set[str]: ...

    def count_by_level(self) -> dict[str, int]: ...


class Organizations(Protocol):
    """Departments and other organisations, with their jurisdiction and classes."""

    def ids_by_code(self) -> dict[str, int]: ...

    def upsert(self, orgs: Sequence[Organization]) -> None:
        """Insert or update by credit code; jurisdiction and classes of these organisations are replaced."""
        ...

    def all(self) -> list[Organization]: ...

    def get(self, code: str) -> Organization | None: ...

    def kind_of(self, code: str) -> OrgKind | None: ...

    def count_by_kind(self) -> dict[str, int]: ...


class StaffDirectory(Protocol):
    """Staff accounts with their roles and scope."""

    def upsert(self, accounts: Sequence[Staff]) -> None:
        """Insert or update by username; the roles of these accounts are replaced."""
        ...

    def all(self, username: str | None = None) -> list[Staff]: ...

    def get(self, username: str) -> Staff | None: ...

    def count_by_role(self) -> dict[str, int]: ...


class Catalog(Protocol):
    """Case classes and their filing standards."""

    def upsert_classes(self, classes: Sequence[CaseClass]) -> None: ...

    def classes(self) -> list[CaseClass]: ...

    def upsert_standards(self, standards: Sequence[CaseStandard]) -> None:
        """Insert or update by (class, filing condition); the limits of these rows are replaced."""
        ...

    def standards(self) -> list[CaseStandard]: ...

    def standard(self, standard_id: int) -> CaseStandard | None: ...

    def has_class(self, kind: ClassKind, code: str) -> bool: ...

    def count_classes(self) -> dict[str, int]: ...

    def count_standards(self) -> int: ...


class CalendarStore(Protocol):
    """Working schedules and the city's own day overrides."""

    def schedules(self) -> list[Schedule]: ...

    def put_schedule(self, schedule: Schedule) -> None: ...

    def overrides(self) -> dict[date, tuple[bool, str]]: ...

    def set_override(self, day: date, workday: bool, reason: str) -> None: ...

    def delete_override(self, day: date) -> bool: ...


class SettingsStore(Protocol):
    """Settings by key (JSON values)."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...


class AccountStore(Protocol):
    """Login accounts, sessions, API keys and sign-in attempts."""

    def get(self, username: str) -> Account | None: ...

    def add(self, account: Account) -> None:
        """Insert a new account; raises ConflictError when the username is taken."""
        ...

    def put_many(self, accounts: Sequence[Account]) -> None:
        """Insert or replace (by username) many accounts at once."""
        ...

    def usernames(self) -> set[str]: ...

    def set_password(self, username: str, password_hash: str, at: datetime) -> bool: ...

    def set_active(self, username: str, active: bool) -> bool: ...

    def delete(self, username: str) -> bool:
        """Remove a login with its sessions (the staff record, the log and the audit trail keep the name)."""
        ...

    def lock_admins(self) -> list[str]:
        """Lock the rows of every administrator's login and staff record until the transaction ends
        (SELECT … FOR UPDATE on PostgreSQL; SQLite lets one writer in at a time anyway) and name the active
        ones, as committed by whoever held the rows before."""
        ...

    def active_admins(self) -> list[str]:
        """Administrators who can log in: an active login and an active staff record with the role."""
        ...

    def attempts(self, keys: Sequence[ThrottleKey]) -> dict[ThrottleKey, Attempts]:
        """The remembered state of these (address, username) keys; absent keys have none."""
        ...

    def put_attempts(self, states: dict[ThrottleKey, Attempts], now: datetime) -> None: ...

    def forget_attempts(self, before: datetime) -> int:
        """Drop throttle rows untouched since ``before``."""
        ...

    def open_session(
        self, session_id: str, username: str, refresh_hash: str, now: datetime, expires: datetime
    ) -> None: ...

    def session_by_refresh(self, refresh_hash: str) -> tuple[str, str, datetime, datetime | None] | None:
        """(session id, username, expires_at, revoked_at) of the session a refresh token belongs to."""
        ...

    def rotate_refresh(self, session_id: str, old_hash: str, new_hash: str, now: datetime) -> bool:
        """Swap the refresh token and remember the old one as spent; False when another request already
        swapped it (a replay)."""
        ...

    def session_of_spent(self, refresh_hash: str) -> tuple[str, str] | None:
        """(session id, username) of the session a rotated (spent) refresh token belonged to."""
        ...

    def forget_spent(self, before: datetime) -> int:
        """Drop spent refresh tokens older than ``before`` (their sessions have expired by then)."""
        ...

    def session_user(self, session_id: str, now: datetime) -> str | None:
        """The username of a session that is neither revoked nor expired."""
        ...

    def revoke_session(self, session_id: str, now: datetime) -> bool: ...

    def revoke_sessions_of(self, username: str, now: datetime) -> int: ...

    def add_api_key(self, name: str, key_hash: str, now: datetime, created_by: str) -> None: ...

    def api_key_name(self, key_hash: str) -> str | None: ...

    def revoke_api_key(self, name: str, now: datetime) -> bool: ...

    def api_keys(self) -> list[tuple[str, datetime, str, datetime | None]]: ...


class AuditLog(Protocol):
    """What administrators and users did, newest first."""

    def add(
        self, at: datetime, actor: str, action: str, target: str = "", client: str = "", **details: Any
    ) -> None: ...

    def recent(
        self, *, actor: str | None = None, action: str | None = None, before_id: int | None = None, limit: int = 100
    ) -> list[tuple[int, datetime, str, str, str, str, dict[str, Any]]]:
        """(id, at, actor, action, target, client, details), newest first."""
        ...


class StaffUnitOfWork(UnitOfWork, Protocol):
    @property
    def staff(self) -> StaffDirectory: ...


class CalendarUnitOfWork(UnitOfWork, Protocol):
    @property
    def calendar(self) -> CalendarStore: ...
    @property
    def settings(self) -> SettingsStore: ...


class OrgUnitOfWork(StaffUnitOfWork, CalendarUnitOfWork, Protocol):
    """What the organisation's services use."""

    @property
    def regions(self) -> Regions: ...
    @property
    def organizations(self) -> Organizations: ...
    @property
    def catalog(self) -> Catalog: ...
    @property
    def accounts(self) -> AccountStore: ...
    @property
    def audit(self) -> AuditLog: ...
