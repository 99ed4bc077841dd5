"""The accounts store's contract (org.ports.AccountStore) and the audit trail's: logins, administrators, login
throttles, sessions with refresh-token rotation, API keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from xiuhua.kernel.actor import Role
from xiuhua.kernel.errors import ConflictError
from xiuhua.org.domain.accounts import ANY, Account, AccountKind, Attempts
from xiuhua.org.domain.model import Region, RegionLevel, Staff

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 3, 9, 0, tzinfo=SH)
WEEK = timedelta(days=7)


def account(username: str, password_hash: str = "hash-1", **fields: Any) -> Account:
    kind = fields.pop("kind", AccountKind.STAFF)
    return Account(username, kind, password_hash, T0, T0, **fields)


def staff(username: str, *roles: Role, active: bool = True) -> Staff:
    return Staff(username, username.upper(), frozenset(roles), None, "410200", active=active)


def test_an_account_is_added_once_and_read_back(uow: Any) -> None:
    alice = account("alice", kind=AccountKind.CITIZEN, display_name="张三", phone="13812345678")
    with uow:
        uow.accounts.add(alice)
        with pytest.raises(ConflictError) as taken:
            uow.accounts.add(account("alice", "hash-2"))
        assert taken.value.code == "auth.username_taken" and taken.value.details["username"] == "alice"
        uow.accounts.add(account("bob"))  # the transaction goes on after the refusal
        uow.commit()
    with uow:
        got = uow.accounts.get("alice")
        assert got == alice and got.password_hash == "hash-1" and got.created_at.utcoffset() == timedelta(0)
        assert got.kind is AccountKind.CITIZEN and got.active
        assert uow.accounts.get("nobody") is None and uow.accounts.get("") is None
        assert uow.accounts.usernames() == {"alice", "bob"}


def test_an_uncommitted_account_or_key_is_gone(uow: Any) -> None:
    """Also when adding is the transaction's first write (on SQLite a savepoint taken then would commit)."""
    with uow:
        uow.accounts.add(account("alice"))
        uow.accounts.add_api_key("hotline", "k1", T0, "admin")
        assert uow.accounts.get("alice") is not None and uow.accounts.api_key_name("k1") == "hotline"
    with uow:
        assert uow.accounts.get("alice") is None and uow.accounts.usernames() == set()
        assert uow.accounts.api_keys() == []
        uow.accounts.add_api_key("hotline", "k1", T0, "admin")
        uow.rollback()
        uow.accounts.add(account("bob"))
        uow.commit()
    with uow:
        assert uow.accounts.api_keys() == [] and uow.accounts.usernames() == {"bob"}


def test_put_many_inserts_and_replaces_by_username(uow: Any) -> None:
    with uow:
        uow.accounts.put_many([])
        assert uow.accounts.usernames() == set()
        uow.accounts.put_many([account("alice"), account("bob")])
        later = T0 + timedelta(days=1)
        carol = Account("carol", AccountKind.CITIZEN, "hash-c", later, later, "卡罗", "021-1234", False)
        replaced = Account("alice", AccountKind.CITIZEN, "hash-9", later, later, "爱丽丝", None, False)
        uow.accounts.put_many([replaced, carol])
        uow.commit()
    with uow:
        assert uow.accounts.usernames() == {"alice", "bob", "carol"}
        assert uow.accounts.get("alice") == replaced and uow.accounts.get("carol") == carol
        assert uow.accounts.get("bob") == account("bob")


def test_password_and_active_flag_change_only_existing_logins(uow: Any) -> None:
    with uow:
        uow.accounts.add(account("alice"))
        later = T0 + timedelta(hours=5)
        assert uow.accounts.set_password("alice", "hash-new", later)
        assert not uow.accounts.set_password("nobody", "hash-new", later)
        assert uow.accounts.set_active("alice", False)
        assert not uow.accounts.set_active("nobody", False)
        uow.commit()
    with uow:
        alice = uow.accounts.get("alice")
        assert alice is not None and alice.password_hash == "hash-new" and alice.password_changed_at == later
        assert alice.created_at == T0 and not alice.active
        assert uow.accounts.set_active("alice", True) and uow.accounts.set_active("alice", True)  # no change, found
        uow.commit()
    with uow:
        assert uow.accounts.get("alice").active
        assert uow.accounts.usernames() == {"alice"}


def test_deleting_a_login_ends_its_sessions_and_forgets_their_spent_tokens(uow: Any) -> None:
    with uow:
        uow.accounts.put_many([account("alice"), account("bob")])
        uow.accounts.open_session("s-alice", "alice", "h1", T0, T0 + WEEK)
        uow.accounts.open_session("s-bob", "bob", "hb", T0, T0 + WEEK)
        assert uow.accounts.rotate_refresh("s-alice", "h1", "h2", T0)
        uow.commit()
    with uow:
        assert uow.accounts.delete("alice")
        assert not uow.accounts.delete("alice")
        assert not uow.accounts.delete("nobody")
        uow.commit()
    with uow:
        assert uow.accounts.get("alice") is None and uow.accounts.usernames() == {"bob"}
        assert uow.accounts.session_user("s-alice", T0) is None
        assert uow.accounts.session_by_refresh("h2") is None and uow.accounts.session_of_spent("h1") is None
        assert not uow.accounts.revoke_session("s-alice", T0)
        assert uow.accounts.session_user("s-bob", T0) == "bob"  # another login keeps its session


def test_deleting_a_name_without_a_login_still_ends_its_sessions(uow: Any) -> None:
    with uow:
        uow.accounts.open_session("s1", "ghost", "h1", T0, T0 + WEEK)
        assert not uow.accounts.delete("ghost")
        assert uow.accounts.session_user("s1", T0) is None and uow.accounts.session_by_refresh("h1") is None


def seed_admins(uow: Any) -> None:
    with uow:
        uow.regions.upsert([Region("410200", "开封市", RegionLevel.CITY)])
        uow.staff.upsert(
            [
                staff("admin1", Role.ADMIN),
                staff("admin2", Role.ADMIN, Role.LEADER),
                staff("admin3", Role.ADMIN, active=False),  # the staff record is disabled
                staff("admin4", Role.ADMIN),  # no login
                staff("admin5", Role.ADMIN),  # a disabled login
                staff("clerk", Role.DISPATCHER),
            ]
        )
        uow.accounts.put_many([account(u) for u in ("admin2", "admin1", "admin3", "clerk")])
        uow.accounts.add(account("admin5", active=False))
        uow.accounts.add(account("citizen", kind=AccountKind.CITIZEN))
        uow.commit()


def test_active_administrators_have_an_active_login_and_an_active_staff_record(uow: Any) -> None:
    with uow:
        assert uow.accounts.active_admins() == [] and uow.accounts.lock_admins() == []
    seed_admins(uow)
    with uow:
        assert uow.accounts.lock_admins() == ["admin1", "admin2"]
        assert uow.accounts.active_admins() == ["admin1", "admin2"]
        uow.accounts.set_active("admin1", False)
        assert uow.accounts.active_admins() == ["admin2"]
        uow.staff.upsert([staff("admin2", Role.LEADER)])  # demoted
        assert uow.accounts.active_admins() == []
        uow.accounts.set_active("admin5", True)
        uow.accounts.delete("admin2")
        assert uow.accounts.active_admins() == ["admin5"]
        # rolled back: what was committed stands
    with uow:
        assert uow.accounts.lock_admins() == ["admin1", "admin2"]
        assert uow.accounts.delete("admin1")
        uow.staff.upsert([staff("admin2", Role.ADMIN, active=False)])
        assert uow.accounts.active_admins() == []
        uow.commit()
    with uow:
        assert uow.accounts.lock_admins() == [] and uow.accounts.get("admin2") is not None


def test_throttle_attempts_are_kept_by_address_and_name(uow: Any) -> None:
    pair, address, name, other = ("192.0.2.1", "alice"), ("192.0.2.1", ANY), (ANY, "alice"), ("192.0.2.9", "bob")
    t1 = T0 + timedelta(minutes=1)
    failed = Attempts(3, T0, T0 + timedelta(seconds=2), None)
    with uow:
        assert uow.accounts.attempts([]) == {}
        assert uow.accounts.attempts([pair, address, name]) == {}
        uow.accounts.put_attempts({}, T0)
        uow.accounts.put_attempts({pair: failed, address: Attempts(1, T0), name: Attempts(1, T0)}, T0)
        uow.accounts.put_attempts({other: Attempts(succeeded_at=T0)}, t1)
        uow.commit()
    with uow:
        seen = uow.accounts.attempts([pair, address, name, other, ("192.0.2.1", "carol")])
        assert seen == {pair: failed, address: Attempts(1, T0), name: Attempts(1, T0), other: Attempts(succeeded_at=T0)}
        assert seen[pair].blocked_until == T0 + timedelta(seconds=2) and seen[other].failures == 0
        assert uow.accounts.attempts([name]) == {name: Attempts(1, T0)}
        later = Attempts(0, None, None, t1)  # a success replaces the failures
        uow.accounts.put_attempts({pair: later}, t1)
        assert uow.accounts.attempts([pair]) == {pair: later}
        uow.commit()
    with uow:
        assert uow.accounts.forget_attempts(T0) == 0  # strictly before
        assert uow.accounts.forget_attempts(T0 + timedelta(seconds=30)) == 2  # the address and the name
        assert uow.accounts.forget_attempts(T0 + timedelta(seconds=30)) == 0
        assert uow.accounts.attempts([pair, address, name, other]) == {pair: later, other: Attempts(succeeded_at=T0)}
        assert uow.accounts.forget_attempts(t1 + timedelta(seconds=1)) == 2
        assert uow.accounts.attempts([pair, other]) == {}


def test_a_refresh_token_rotates_once_and_its_spent_hash_names_the_session(uow: Any) -> None:
    expires = T0 + WEEK
    with uow:
        uow.accounts.add(account("alice"))
        uow.accounts.open_session("s1", "alice", "h1", T0, expires)
        uow.accounts.open_session("s2", "alice", "other", T0, expires)
        uow.commit()
    t1 = T0 + timedelta(minutes=20)
    with uow:
        assert uow.accounts.session_by_refresh("h1") == ("s1", "alice", expires, None)
        assert uow.accounts.session_by_refresh("h2") is None and uow.accounts.session_of_spent("h1") is None
        assert not uow.accounts.rotate_refresh("s1", "wrong", "h2", t1)  # not this session's token
        assert not uow.accounts.rotate_refresh("s2", "h1", "h2", t1)  # another session's token
        assert not uow.accounts.rotate_refresh("nope", "h1", "h2", t1)
        assert uow.accounts.session_by_refresh("h1") is not None
        assert uow.accounts.rotate_refresh("s1", "h1", "h2", t1)
        assert not uow.accounts.rotate_refresh("s1", "h1", "h3", t1)  # a replay of the spent token
        uow.commit()
    with uow:
        assert uow.accounts.session_by_refresh("h1") is None and uow.accounts.session_by_refresh("h3") is None
        found = uow.accounts.session_by_refresh("h2")
        assert found == ("s1", "alice", expires, None) and found[2].utcoffset() == timedelta(0)
        assert uow.accounts.session_of_spent("h1") == ("s1", "alice")
        assert uow.accounts.session_of_spent("h2") is None and uow.accounts.session_of_spent("other") is None
        assert uow.accounts.rotate_refresh("s1", "h2", "h3", t1 + timedelta(minutes=20))
        assert uow.accounts.forget_spent(t1) == 0  # strictly before
        assert uow.accounts.forget_spent(t1 + timedelta(minutes=1)) == 1
        assert uow.accounts.session_of_spent("h1") is None and uow.accounts.session_of_spent("h2") == ("s1", "alice")
        assert uow.accounts.revoke_session("s1", t1)
        assert not uow.accounts.rotate_refresh("s1", "h3", "h4", t1)  # a revoked session does not rotate
        assert uow.accounts.session_of_spent("h2") == ("s1", "alice")  # still named after the revocation
        uow.commit()


def test_a_session_is_open_until_it_expires_or_is_revoked(uow: Any) -> None:
    expires = T0 + WEEK
    with uow:
        uow.accounts.open_session("s1", "alice", "h1", T0, expires)
        uow.accounts.open_session("s2", "alice", "h2", T0, expires)
        uow.commit()
    with uow:
        assert uow.accounts.session_user("s1", T0) == "alice"
        assert uow.accounts.session_user("s1", expires - timedelta(microseconds=1)) == "alice"
        assert uow.accounts.session_user("s1", expires) is None  # expired at its end
        assert uow.accounts.session_user("nope", T0) is None
        revoked_at = T0 + timedelta(hours=1)
        assert uow.accounts.revoke_session("s1", revoked_at)
        assert not uow.accounts.revoke_session("s1", revoked_at + timedelta(hours=1))  # revoked once
        assert not uow.accounts.revoke_session("nope", revoked_at)
        uow.commit()
    with uow:
        assert uow.accounts.session_user("s1", T0) is None and uow.accounts.session_user("s2", T0) == "alice"
        assert uow.accounts.session_by_refresh("h1") == ("s1", "alice", expires, revoked_at)


def test_revoking_an_accounts_sessions_leaves_the_others(uow: Any) -> None:
    with uow:
        for sid, user in (("a1", "alice"), ("a2", "alice"), ("a3", "alice"), ("b1", "bob")):
            uow.accounts.open_session(sid, user, "h-" + sid, T0, T0 + WEEK)
        uow.accounts.open_session("a-old", "alice", "h-old", T0 - 2 * WEEK, T0 - WEEK)  # expired, not revoked
        assert uow.accounts.revoke_session("a1", T0)
        uow.commit()
    with uow:
        assert uow.accounts.revoke_sessions_of("alice", T0) == 3  # a2, a3 and the expired one
        assert uow.accounts.revoke_sessions_of("alice", T0) == 0
        assert uow.accounts.revoke_sessions_of("nobody", T0) == 0
        assert uow.accounts.session_user("b1", T0) == "bob"
        assert [uow.accounts.session_user(s, T0) for s in ("a1", "a2", "a3")] == [None, None, None]
        uow.commit()
    with uow:
        assert uow.accounts.session_by_refresh("h-a2")[3] == T0
        assert uow.accounts.session_by_refresh("h-b1")[3] is None


def test_api_keys_name_their_holder_until_revoked(uow: Any) -> None:
    with uow:
        assert uow.accounts.api_keys() == []
        uow.accounts.add_api_key("hotline", "k1", T0, "admin")
        uow.accounts.add_api_key("city-app", "k2", T0, "admin2")
        with pytest.raises(ConflictError) as same_name:
            uow.accounts.add_api_key("hotline", "k3", T0, "admin")
        assert same_name.value.code == "auth.api_key_taken"
        with pytest.raises(ConflictError) as same_key:
            uow.accounts.add_api_key("another", "k1", T0, "admin")
        assert same_key.value.code == "auth.api_key_taken"
        uow.commit()
    revoked_at = T0 + timedelta(days=1)
    with uow:
        assert uow.accounts.api_key_name("k1") == "hotline" and uow.accounts.api_key_name("k2") == "city-app"
        assert uow.accounts.api_key_name("k3") is None and uow.accounts.api_key_name("") is None
        assert uow.accounts.revoke_api_key("hotline", revoked_at)
        assert not uow.accounts.revoke_api_key("hotline", revoked_at)
        assert not uow.accounts.revoke_api_key("nobody", revoked_at)
        uow.commit()
    with uow:
        assert uow.accounts.api_key_name("k1") is None and uow.accounts.api_key_name("k2") == "city-app"
        assert uow.accounts.api_keys() == [("city-app", T0, "admin2", None), ("hotline", T0, "admin", revoked_at)]
        with pytest.raises(ConflictError):
            uow.accounts.add_api_key("hotline", "k9", T0, "admin")  # a revoked name stays taken


def test_the_audit_trail_filters_newest_first(uow: Any) -> None:
    with uow:
        assert uow.audit.recent() == []
        uow.audit.add(T0, "admin", "admin.account_disabled", "alice", "192.0.2.1")
        uow.audit.add(T0, "alice", "login.failed", "alice", reason="bad_password", day=T0.astimezone(UTC).date())
        uow.audit.add(T0, "x" * 80, "login.ok", "t" * 200, "c" * 80)
        uow.commit()
    with uow:
        rows = uow.audit.recent()
        assert [r[3] for r in rows] == ["login.ok", "login.failed", "admin.account_disabled"]
        assert rows[0][2:6] == ("x" * 64, "login.ok", "t" * 128, "c" * 64)
        newest, failed, disabled = rows
        assert failed[6] == {"reason": "bad_password", "day": "2026-03-03"} and disabled[6] == {}
        assert disabled[1] == T0 and disabled[4:6] == ("alice", "192.0.2.1")
        assert [r[3] for r in uow.audit.recent(action="login")] == ["login.ok", "login.failed"]
        assert uow.audit.recent(action="login_") == []  # a prefix, taken literally
        assert [r[3] for r in uow.audit.recent(actor="alice")] == ["login.failed"]
        assert uow.audit.recent(before_id=newest[0]) == [failed, disabled]
        assert uow.audit.recent(limit=1) == [newest]
        assert uow.audit.recent(actor="nobody") == []
