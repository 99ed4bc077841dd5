"""The account services on the in-memory fakes: logging in (throttled), refresh-token rotation and replay,
logging out, citizens' sign-up, passwords, the last administrator, staff logins and API keys."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from tests.fakes import FakeUnitOfWork
from tests.unit.services.conftest import T0
from xiuhua.kernel.actor import Role
from xiuhua.kernel.clock import FakeClock
from xiuhua.kernel.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from xiuhua.org.domain.accounts import (
    ANY,
    AccountKind,
    AuthenticationError,
    Backoff,
    LastAdminError,
    Principal,
    Throttle,
    ThrottledError,
)
from xiuhua.org.domain.model import Staff
from xiuhua.org.services import accounts
from xiuhua.org.services.accounts import AuthRules, LogIn

HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
"""Cheap argon2id parameters: the product's defaults take tens of milliseconds a hash."""
RULES = AuthRules(hasher=HASHER)
PASSWORD = "Kaifeng2026"
HOME, STRANGER, NEW_PLACE = "198.51.100.7", "203.0.113.9", "192.0.2.33"

ADMIN = Principal("admin", AccountKind.STAFF, frozenset({Role.ADMIN}))
DISPATCHER = Principal("dispatcher1", AccountKind.STAFF, frozenset({Role.DISPATCHER}))


@pytest.fixture
def city(uow: FakeUnitOfWork, clock: FakeClock) -> FakeUnitOfWork:
    """An administrator, a dispatcher and a leader, each with a login; a handler without one."""
    uow.staff.upsert(
        [
            Staff("admin", "管理员", frozenset({Role.ADMIN}), None, "410200"),
            Staff("dispatcher1", "派遣员", frozenset({Role.DISPATCHER}), None, "410202"),
            Staff("leader", "领导", frozenset({Role.LEADER}), None, "410200"),
            Staff("handler1", "处置员", frozenset({Role.HANDLER}), None, "410202"),
        ]
    )
    assert accounts.ensure_staff_logins(["admin", "dispatcher1", "leader"], PASSWORD, uow, clock, RULES) == 3
    return uow


def log_in(uow: FakeUnitOfWork, clock: FakeClock, username: str, password: str = PASSWORD,
           client: str = HOME) -> accounts.LoggedIn:  # fmt: skip
    return accounts.log_in(LogIn(username, password, client), uow, clock, RULES)


def actions(uow: FakeUnitOfWork) -> list[str]:
    """The audited actions, oldest first."""
    return [row[3] for row in reversed(uow.audit.recent())]


def refused(call: object, code: str) -> None:
    assert callable(call)
    with pytest.raises(AuthenticationError) as err:
        call()
    assert err.value.code == code, err.value


# ----- logging in ----------------------------------------------------------------------------------
def test_a_login_opens_a_session_with_the_staff_records_roles(city: FakeUnitOfWork, clock: FakeClock) -> None:
    done = log_in(city, clock, "dispatcher1")
    p = done.principal
    assert (p.username, p.kind, p.roles, p.scope_region_code) == (
        "dispatcher1", AccountKind.STAFF, frozenset({Role.DISPATCHER}), "410202"
    )  # fmt: skip
    assert p.session_id and done.refresh_token and done.refresh_expires_at == clock.now() + timedelta(days=7)
    assert city.accounts.session_user(p.session_id, clock.now()) == "dispatcher1"
    found = city.accounts.session_by_refresh(accounts.token_hash(done.refresh_token))
    assert found == (p.session_id, "dispatcher1", done.refresh_expires_at, None)
    assert city.accounts.attempts([(HOME, "dispatcher1")])[(HOME, "dispatcher1")].succeeded_at == clock.now()
    assert actions(city) == ["login.ok"]
    accounts.check_session(p.session_id, city, clock.now())
    assert log_in(city, clock, "dispatcher1").principal.session_id != p.session_id  # each login its own session


def test_an_unknown_name_and_a_wrong_password_answer_alike(city: FakeUnitOfWork, clock: FakeClock) -> None:
    answers = []
    for username, password in (("nobody_here", PASSWORD), ("leader", "Wrong2026x"), ("", PASSWORD)):
        with pytest.raises(AuthenticationError) as err:
            log_in(city, clock, username, password)
        answers.append((err.value.code, err.value.message))
    assert answers == [("auth.invalid_credentials", accounts.BAD_CREDENTIALS)] * 3
    reasons = [(r[3], r[6]) for r in reversed(city.audit.recent())]
    assert reasons == [("login.failed", {"reason": "unknown_user"}), ("login.failed", {"reason": "bad_password"})]
    seen = city.accounts.attempts([(HOME, "leader"), (HOME, ANY), (ANY, "leader"), (ANY, "nobody_here")])
    assert seen[(HOME, ANY)].failures == 2 and seen[(HOME, "leader")].failures == 1
    assert seen[(ANY, "leader")].failures == 1 and seen[(ANY, "nobody_here")].failures == 1
    assert city.accounts.sessions == {}


def test_repeated_wrong_passwords_make_the_pair_wait_and_waiting_does_not_count(
    city: FakeUnitOfWork, clock: FakeClock
) -> None:
    for _ in range(3):
        refused(lambda: log_in(city, clock, "leader", "Wrong2026x", STRANGER), "auth.invalid_credentials")
    for _ in range(2):  # even the right password waits, and asking again does not lengthen the wait
        with pytest.raises(ThrottledError) as err:
            log_in(city, clock, "leader", PASSWORD, STRANGER)
        assert err.value.code == "auth.throttled" and err.value.retry_after_seconds == 2
    assert city.accounts.attempts([(STRANGER, "leader")])[(STRANGER, "leader")].failures == 3
    assert actions(city)[-2:] == ["login.throttled", "login.throttled"]
    assert log_in(city, clock, "leader", PASSWORD, HOME).principal.username == "leader"  # elsewhere at once
    clock.advance(seconds=1)
    with pytest.raises(ThrottledError) as err:
        log_in(city, clock, "leader", PASSWORD, STRANGER)
    assert err.value.retry_after_seconds == 1
    clock.advance(seconds=1)
    refused(lambda: log_in(city, clock, "leader", "Wrong2026x", STRANGER), "auth.invalid_credentials")
    with pytest.raises(ThrottledError) as err:  # the fourth failure in a row: the wait doubles
        log_in(city, clock, "leader", PASSWORD, STRANGER)
    assert err.value.retry_after_seconds == 4
    clock.advance(seconds=4)
    assert log_in(city, clock, "leader", PASSWORD, STRANGER).principal.username == "leader"
    pair = city.accounts.attempts([(STRANGER, "leader")])[(STRANGER, "leader")]
    assert (pair.failures, pair.blocked_until, pair.succeeded_at) == (0, None, clock.now())  # a success starts afresh
    refused(lambda: log_in(city, clock, "leader", "Wrong2026x", STRANGER), "auth.invalid_credentials")
    assert log_in(city, clock, "leader", PASSWORD, STRANGER).principal.username == "leader"


def test_a_names_wait_spares_the_address_it_logged_in_from(city: FakeUnitOfWork, clock: FakeClock) -> None:
    rules = AuthRules(Throttle(account=Backoff(2, 5, 30)), hasher=HASHER)
    accounts.log_in(LogIn("leader", PASSWORD, HOME), city, clock, rules)
    for address in ("192.0.2.1", "192.0.2.2"):  # one failure each: no address nor pair waits
        with pytest.raises(AuthenticationError):
            accounts.log_in(LogIn("leader", "Wrong2026x", address), city, clock, rules)
    with pytest.raises(ThrottledError) as err:
        accounts.log_in(LogIn("leader", PASSWORD, NEW_PLACE), city, clock, rules)
    assert err.value.retry_after_seconds == 5
    assert accounts.log_in(LogIn("leader", PASSWORD, HOME), city, clock, rules).principal.username == "leader"


def test_a_disabled_login_or_staff_record_cannot_log_in(city: FakeUnitOfWork, clock: FakeClock) -> None:
    accounts.set_account_active(ADMIN, "leader", False, city, clock)
    refused(lambda: log_in(city, clock, "leader"), "auth.inactive")
    assert actions(city)[-1] == "login.failed" and city.audit.recent()[0][6] == {"reason": "inactive"}
    city.staff.upsert([Staff("dispatcher1", "派遣员", frozenset({Role.DISPATCHER}), None, "410202", active=False)])
    refused(lambda: log_in(city, clock, "dispatcher1"), "auth.inactive")
    assert city.accounts.sessions == {}  # nothing of that attempt was kept


def test_a_login_upgrades_a_hash_made_with_older_parameters(city: FakeUnitOfWork, clock: FakeClock) -> None:
    old = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1).hash(PASSWORD)
    city.accounts.set_password("leader", old, T0 - timedelta(days=30))
    clock.advance(hours=1)
    log_in(city, clock, "leader")
    account = city.accounts.get("leader")
    assert account is not None and account.password_hash != old and not HASHER.check_needs_rehash(account.password_hash)
    assert HASHER.verify(account.password_hash, PASSWORD)
    assert account.password_changed_at == T0 - timedelta(days=30)  # the password itself did not change


# ----- refresh and logout ----------------------------------------------------------------------------
def test_a_refresh_token_is_swapped_once(city: FakeUnitOfWork, clock: FakeClock) -> None:
    first = log_in(city, clock, "dispatcher1")
    clock.advance(minutes=20)
    city.staff.upsert([Staff("dispatcher1", "派遣员", frozenset({Role.DISPATCHER, Role.LEADER}), None, "410202")])
    second = accounts.refresh_session(first.refresh_token, city, clock)
    assert second.principal.session_id == first.principal.session_id
    assert second.refresh_token != first.refresh_token
    assert second.refresh_expires_at == first.refresh_expires_at  # a session does not outlive its login
    assert second.principal.roles == frozenset({Role.DISPATCHER, Role.LEADER})  # the roles of now
    third = accounts.refresh_session(second.refresh_token, city, clock)
    assert accounts.refresh_session(third.refresh_token, city, clock).principal.username == "dispatcher1"
    refused(lambda: accounts.refresh_session("never-issued", city, clock), "auth.invalid_refresh")


def test_a_rotated_token_used_again_ends_its_whole_session(city: FakeUnitOfWork, clock: FakeClock) -> None:
    first = log_in(city, clock, "leader")
    other = log_in(city, clock, "leader")
    newest = accounts.refresh_session(first.refresh_token, city, clock)
    refused(lambda: accounts.refresh_session(first.refresh_token, city, clock, "203.0.113.9"), "auth.refresh_reused")
    assert city.accounts.session_user(first.principal.session_id, clock.now()) is None
    refused(lambda: accounts.refresh_session(newest.refresh_token, city, clock), "auth.session_ended")
    refused(lambda: accounts.check_session(first.principal.session_id, city, clock.now()), "auth.session_ended")
    accounts.check_session(other.principal.session_id, city, clock.now())  # another login stays open
    reused = city.audit.recent(action="refresh")
    assert [(r[3], r[4], r[5]) for r in reused] == [("refresh.reused", "leader", "203.0.113.9")]
    assert reused[0][6] == {"session": first.principal.session_id}
    # used once more, the session is already ended: no second audit entry
    refused(lambda: accounts.refresh_session(first.refresh_token, city, clock), "auth.session_ended")
    assert len(city.audit.recent(action="refresh")) == 1


def test_losing_a_race_to_rotate_counts_as_a_replay(
    city: FakeUnitOfWork, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = log_in(city, clock, "leader")
    monkeypatch.setattr(city.accounts, "rotate_refresh", lambda *args: False)  # another request swapped it first
    refused(lambda: accounts.refresh_session(done.refresh_token, city, clock), "auth.refresh_reused")
    assert city.accounts.session_user(done.principal.session_id, clock.now()) is None


def test_a_session_ends_when_it_expires_or_its_account_is_disabled(city: FakeUnitOfWork, clock: FakeClock) -> None:
    done = log_in(city, clock, "leader")
    kept = log_in(city, clock, "dispatcher1")
    accounts.set_account_active(ADMIN, "dispatcher1", False, city, clock)
    refused(lambda: accounts.check_session(kept.principal.session_id, city, clock.now()), "auth.session_ended")
    refused(lambda: accounts.refresh_session(kept.refresh_token, city, clock), "auth.session_ended")
    clock.advance(days=7)
    refused(lambda: accounts.refresh_session(done.refresh_token, city, clock), "auth.session_ended")
    refused(lambda: accounts.check_session(done.principal.session_id, city, clock.now()), "auth.session_ended")


def test_a_disabled_account_cannot_refresh_a_session_revoked_behind_its_back(
    city: FakeUnitOfWork, clock: FakeClock
) -> None:
    done = log_in(city, clock, "leader")
    city.accounts.set_active("leader", False)  # disabled without ending its sessions (an import, say)
    refused(lambda: accounts.refresh_session(done.refresh_token, city, clock), "auth.inactive")
    city.accounts.delete("leader")
    refused(lambda: accounts.refresh_session(done.refresh_token, city, clock), "auth.invalid_refresh")


def test_logging_out_ends_that_session_only(city: FakeUnitOfWork, clock: FakeClock) -> None:
    done = log_in(city, clock, "leader")
    other = log_in(city, clock, "leader")
    accounts.log_out(done.principal, city, clock, HOME)
    refused(lambda: accounts.check_session(done.principal.session_id, city, clock.now()), "auth.session_ended")
    refused(lambda: accounts.refresh_session(done.refresh_token, city, clock), "auth.session_ended")
    accounts.check_session(other.principal.session_id, city, clock.now())
    assert actions(city)[-1] == "logout" and city.audit.recent()[0][6] == {"session": done.principal.session_id}


# ----- citizens and passwords ------------------------------------------------------------------------
def test_a_citizen_signs_up_with_a_sound_password_and_a_free_name(city: FakeUnitOfWork, clock: FakeClock) -> None:
    def sign_up(username: str = "zhang3", password: str = "Sunny2026day", name: str = " 张三 ") -> str:
        cmd = accounts.RegisterCitizen(username, password, name, "13812345678", HOME)
        return accounts.register_citizen(cmd, city, clock, RULES)

    for args, code in [
        (("zhang3", "abc"), "auth.weak_password"),
        (("zhang3", "zhang3zhang3"), "auth.weak_password"),
        (("zhang3", "onlyletters"), "auth.weak_password"),
        (("z", "Sunny2026day"), "auth.bad_username"),
        (("zhang 3", "Sunny2026day"), "auth.bad_username"),
        (("zhang3", "Sunny2026day", "   "), "auth.bad_name"),
        (("zhang3", "Sunny2026day", "名" * 65), "auth.bad_name"),
    ]:
        with pytest.raises(InvalidInputError) as err:
            sign_up(*args)
        assert err.value.code == code, args
    assert city.accounts.usernames() == {"admin", "dispatcher1", "leader"} and city.audit.recent() == []
    assert sign_up() == "zhang3"
    for taken in ("zhang3", "handler1", "leader"):  # a citizen's, a staff name without a login, a staff login
        with pytest.raises(ConflictError) as conflict:
            sign_up(taken)
        assert conflict.value.code == "auth.username_taken"
    account = city.accounts.get("zhang3")
    assert account is not None and account.kind is AccountKind.CITIZEN and account.display_name == "张三"
    assert account.phone == "13812345678" and HASHER.verify(account.password_hash, "Sunny2026day")
    assert actions(city) == ["citizen.registered"]
    assert log_in(city, clock, "zhang3", "Sunny2026day").principal.roles == frozenset({Role.CITIZEN})


def test_changing_ones_own_password_needs_the_old_one(city: FakeUnitOfWork, clock: FakeClock) -> None:
    with pytest.raises(InvalidInputError):
        accounts.change_own_password(DISPATCHER, PASSWORD, "short", city, clock, RULES)
    refused(
        lambda: accounts.change_own_password(DISPATCHER, "Wrong2026x", "NewPass2026x", city, clock, RULES),
        "auth.invalid_credentials",
    )
    clock.advance(hours=1)
    accounts.change_own_password(DISPATCHER, PASSWORD, "NewPass2026x", city, clock, RULES)
    refused(lambda: log_in(city, clock, "dispatcher1"), "auth.invalid_credentials")
    assert log_in(city, clock, "dispatcher1", "NewPass2026x").principal.username == "dispatcher1"
    assert city.accounts.get("dispatcher1").password_changed_at == clock.now()  # type: ignore[union-attr]
    nobody = Principal("ghost", AccountKind.STAFF, frozenset({Role.LEADER}))
    refused(lambda: accounts.change_own_password(nobody, PASSWORD, "NewPass2026x", city, clock, RULES),
            "auth.invalid_credentials")  # fmt: skip


def test_an_administrator_sets_a_staff_password_and_ends_other_sessions(city: FakeUnitOfWork, clock: FakeClock) -> None:
    def set_password(admin: Principal, username: str, password: str = "Reset2026abc") -> None:
        accounts.set_staff_password(accounts.SetPassword(admin, username, password, HOME), city, clock, RULES)

    with pytest.raises(ForbiddenError) as forbidden:
        set_password(DISPATCHER, "leader")
    assert forbidden.value.code == "auth.admin_only"
    with pytest.raises(NotFoundError) as missing:
        set_password(ADMIN, "nobody")
    assert missing.value.code == "staff.not_found"
    with pytest.raises(InvalidInputError):
        set_password(ADMIN, "leader", "leader2026")  # contains the name
    session = log_in(city, clock, "leader").principal.session_id
    set_password(ADMIN, "leader")
    refused(lambda: accounts.check_session(session, city, clock.now()), "auth.session_ended")
    refused(lambda: log_in(city, clock, "leader"), "auth.invalid_credentials")
    assert log_in(city, clock, "leader", "Reset2026abc").principal.username == "leader"
    set_password(ADMIN, "handler1")  # a staff member without a login gets one
    handler = city.accounts.get("handler1")
    assert handler is not None and handler.kind is AccountKind.STAFF and handler.display_name == "处置员"
    assert [r[4] for r in city.audit.recent(action="admin.password_set")] == ["handler1", "leader"]


def test_ensure_staff_logins_adds_only_missing_ones(city: FakeUnitOfWork, clock: FakeClock) -> None:
    before = city.accounts.get("leader")
    assert (
        accounts.ensure_staff_logins(["leader", "handler1", "nobody", "admin"], "Other2026x", city, clock, RULES) == 1
    )
    assert city.accounts.get("leader") == before
    assert city.accounts.usernames() == {"admin", "dispatcher1", "leader", "handler1"}
    assert log_in(city, clock, "handler1", "Other2026x").principal.roles == frozenset({Role.HANDLER})
    assert accounts.ensure_staff_logins([], PASSWORD, city, clock, RULES) == 0


# ----- the last administrator -------------------------------------------------------------------------
def test_the_last_active_administrator_cannot_be_disabled_or_deleted(city: FakeUnitOfWork, clock: FakeClock) -> None:
    session = log_in(city, clock, "admin").principal.session_id
    audited = actions(city)
    with pytest.raises(LastAdminError) as err:
        accounts.set_account_active(ADMIN, "admin", False, city, clock)
    assert err.value.code == "accounts.last_admin" and err.value.details == {"username": "admin"}
    with pytest.raises(LastAdminError) as err:
        accounts.delete_account(ADMIN, "admin", city, clock)
    assert err.value.code == "accounts.last_admin"
    admin = city.accounts.get("admin")
    assert admin is not None and admin.active and actions(city) == audited  # nothing was written
    accounts.check_session(session, city, clock.now())
    accounts.set_account_active(ADMIN, "leader", False, city, clock)  # others may go
    accounts.delete_account(ADMIN, "leader", city, clock)
    assert city.accounts.get("leader") is None
    assert actions(city)[-2:] == ["admin.account_disabled", "admin.account_deleted"]


def test_one_of_two_administrators_may_go(city: FakeUnitOfWork, clock: FakeClock) -> None:
    city.staff.upsert([Staff("admin2", "第二管理员", frozenset({Role.ADMIN, Role.LEADER}), None, "410200")])
    accounts.ensure_staff_logins(["admin2"], PASSWORD, city, clock, RULES)
    assert city.accounts.active_admins() == ["admin", "admin2"]
    accounts.set_account_active(ADMIN, "admin", False, city, clock)
    with pytest.raises(LastAdminError):
        accounts.set_account_active(ADMIN, "admin2", False, city, clock)
    with pytest.raises(LastAdminError):
        accounts.delete_account(ADMIN, "admin2", city, clock)
    accounts.set_account_active(ADMIN, "admin", True, city, clock)
    accounts.delete_account(ADMIN, "admin2", city, clock)
    assert city.accounts.active_admins() == ["admin"]
    # a staff record disabled outside the accounts leaves admin the only one who counts
    city.staff.upsert([Staff("admin2", "第二管理员", frozenset({Role.ADMIN}), None, "410200", active=False)])
    accounts.ensure_staff_logins(["admin2"], PASSWORD, city, clock, RULES)
    with pytest.raises(LastAdminError):
        accounts.set_account_active(ADMIN, "admin", False, city, clock)


def test_a_city_without_administrators_yet_is_left_alone(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    uow.staff.upsert([Staff("leader", "领导", frozenset({Role.LEADER}), None, "410200")])
    accounts.ensure_staff_logins(["leader"], PASSWORD, uow, clock, RULES)
    accounts.set_account_active(ADMIN, "leader", False, uow, clock)
    assert uow.accounts.get("leader").active is False  # type: ignore[union-attr]
    accounts.delete_account(ADMIN, "leader", uow, clock)
    assert uow.accounts.usernames() == set()


def test_only_administrators_manage_logins_and_unknown_ones_are_not_found(
    city: FakeUnitOfWork, clock: FakeClock
) -> None:
    for call in (
        lambda: accounts.set_account_active(DISPATCHER, "leader", False, city, clock),
        lambda: accounts.delete_account(DISPATCHER, "leader", city, clock),
        lambda: accounts.create_api_key(DISPATCHER, "hotline", city, clock),
        lambda: accounts.revoke_api_key(DISPATCHER, "hotline", city, clock),
    ):
        with pytest.raises(ForbiddenError):
            call()
    for call in (
        lambda: accounts.set_account_active(ADMIN, "nobody", True, city, clock),
        lambda: accounts.set_account_active(ADMIN, "handler1", False, city, clock),  # staff, but no login
        lambda: accounts.delete_account(ADMIN, "nobody", city, clock),
    ):
        with pytest.raises(NotFoundError) as err:
            call()
        assert err.value.code == "auth.no_account"
    assert city.accounts.get("leader").active and city.audit.recent() == []  # type: ignore[union-attr]


# ----- API keys ----------------------------------------------------------------------------------------
def test_an_api_key_names_its_partner_until_revoked(city: FakeUnitOfWork, clock: FakeClock) -> None:
    for bad in ("x", " x ", "k" * 65):
        with pytest.raises(InvalidInputError) as err:
            accounts.create_api_key(ADMIN, bad, city, clock)
        assert err.value.code == "auth.bad_key_name"
    key = accounts.create_api_key(ADMIN, " 12345热线 ", city, clock)
    other = accounts.create_api_key(ADMIN, "城管通", city, clock)
    assert key.startswith("xh_") and key != other
    assert accounts.api_key_client(key, city) == "12345热线" and accounts.api_key_client(other, city) == "城管通"
    assert city.accounts.api_key_name(key) is None  # only the hash is kept
    with pytest.raises(ConflictError) as taken:
        accounts.create_api_key(ADMIN, "12345热线", city, clock)
    assert taken.value.code == "auth.api_key_taken"
    refused(lambda: accounts.api_key_client("xh_guess", city), "auth.invalid_api_key")
    accounts.revoke_api_key(ADMIN, "12345热线", city, clock)
    refused(lambda: accounts.api_key_client(key, city), "auth.invalid_api_key")
    assert accounts.api_key_client(other, city) == "城管通"
    with pytest.raises(NotFoundError) as gone:
        accounts.revoke_api_key(ADMIN, "12345热线", city, clock)
    assert gone.value.code == "auth.no_api_key"
    assert actions(city) == ["admin.api_key_created", "admin.api_key_created", "admin.api_key_revoked"]


def test_record_appends_one_audit_event(city: FakeUnitOfWork, clock: FakeClock) -> None:
    accounts.record(city, clock, "leader", "access.denied", "/admin", HOME, path="/admin")
    [(_, at, actor, action, target, client, details)] = city.audit.recent()
    assert (at, actor, action, target, client, details) == (
        clock.now(), "leader", "access.denied", "/admin", HOME, {"path": "/admin"}
    )  # fmt: skip
    assert city.committed
