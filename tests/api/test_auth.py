"""Login, token expiry and refresh, refresh-token reuse, logout and revocation, disabled accounts, the signing
secret, and the audit trail."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path
from typing import Literal

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from pydantic import ValidationError

from tests.api.conftest import FAST_RULES, PASSWORD, Api
from xiuhua.bootstrap import Runtime
from xiuhua.config import Settings
from xiuhua.entrypoints.http.app import create_app
from xiuhua.entrypoints.http.deps import ApiClient
from xiuhua.org.services import accounts
from xiuhua.platform.db import tables
from xiuhua.platform.db.engine import make_engine, upgrade
from xiuhua.unit_of_work import SqlUnitOfWork


def _login(api: Api, username: str, password: str) -> object:
    return api.client.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_login_gives_roles_and_a_working_token(api: Api) -> None:
    tokens = api.login("dispatcher_410202")
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 15 * 60
    me = api.get("/api/v1/auth/me", "dispatcher_410202").json()
    assert me == {"username": "dispatcher_410202", "kind": "staff", "roles": ["dispatcher"],
                  "scope_region_code": "410202", "scope_organization_code": None}  # fmt: skip
    assert api.client.get("/api/v1/auth/me").json()["code"] == "auth.missing_token"
    r = api.client.get("/api/v1/auth/me", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and r.json()["code"] == "auth.invalid_token"
    assert r.headers["www-authenticate"] == "Bearer"


def test_access_token_expires_and_refresh_rotates(api: Api) -> None:
    tokens = api.login("acceptor1")
    header = {"Authorization": f"Bearer {tokens['access_token']}"}
    api.clock.advance(minutes=14)
    assert api.client.get("/api/v1/auth/me", headers=header).status_code == 200
    api.clock.advance(minutes=2)
    expired = api.client.get("/api/v1/auth/me", headers=header)
    assert expired.status_code == 401 and expired.json()["code"] == "auth.token_expired"
    fresh = api.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert fresh.status_code == 200, fresh.text
    new_header = {"Authorization": f"Bearer {fresh.json()['access_token']}"}
    assert api.client.get("/api/v1/auth/me", headers=new_header).status_code == 200
    unknown = api.client.post("/api/v1/auth/refresh", json={"refresh_token": "never-issued"})
    assert unknown.status_code == 401 and unknown.json()["code"] == "auth.invalid_refresh"
    api.clock.advance(days=8)
    late = api.client.post("/api/v1/auth/refresh", json={"refresh_token": fresh.json()["refresh_token"]})
    assert late.status_code == 401 and late.json()["code"] == "auth.session_ended"


def test_reusing_a_rotated_refresh_token_ends_the_whole_session(api: Api) -> None:
    """RFC 9700 §4.14.2: a refresh token presented twice means it leaked, so its whole family is revoked."""
    first = api.login("acceptor1")
    other = api.login("acceptor1")  # another login of the same account is another family
    second = api.client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()
    newest = api.client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}).json()
    header = {"Authorization": f"Bearer {newest['access_token']}"}
    assert api.client.get("/api/v1/auth/me", headers=header).status_code == 200
    reused = api.client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401 and reused.json()["code"] == "auth.refresh_reused"
    after = api.client.post("/api/v1/auth/refresh", json={"refresh_token": newest["refresh_token"]})
    assert after.status_code == 401 and after.json()["code"] == "auth.session_ended"
    for token in (newest, second, first):
        gone = api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token['access_token']}"})
        assert gone.status_code == 401 and gone.json()["code"] == "auth.session_ended"
    still = api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {other['access_token']}"})
    assert still.status_code == 200
    audit = api.get("/api/v1/admin/audit?action=refresh", "admin").json()
    assert [a["action"] for a in audit] == ["refresh.reused"] and audit[0]["target"] == "acceptor1"


def test_logout_revokes_the_session_at_once(api: Api) -> None:
    tokens = api.login("leader")
    header = {"Authorization": f"Bearer {tokens['access_token']}"}
    other = api.login("leader")  # a second session of the same account stays open
    assert api.client.post("/api/v1/auth/logout", headers=header).status_code == 204
    gone = api.client.get("/api/v1/auth/me", headers=header)
    assert gone.status_code == 401 and gone.json()["code"] == "auth.session_ended"
    refresh = api.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.json()["code"] == "auth.session_ended"
    still = api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {other['access_token']}"})
    assert still.status_code == 200


def test_disabling_an_account_ends_its_sessions(api: Api) -> None:
    header = api.auth("supervisor_410202001")
    admin = api.auth("admin")
    assert api.client.post("/api/v1/admin/accounts/supervisor_410202001/disable", headers=admin).status_code == 204
    assert api.client.get("/api/v1/auth/me", headers=header).json()["code"] == "auth.session_ended"
    assert _login(api, "supervisor_410202001", PASSWORD).json()["code"] == "auth.inactive"  # type: ignore[attr-defined]
    assert api.client.post("/api/v1/admin/accounts/supervisor_410202001/enable", headers=admin).status_code == 204
    assert _login(api, "supervisor_410202001", PASSWORD).status_code == 200  # type: ignore[attr-defined]
    actions = {a["action"] for a in api.get("/api/v1/admin/audit?action=admin.account", "admin").json()}
    assert actions == {"admin.account_disabled", "admin.account_enabled"}


def test_citizens_sign_up_with_a_sound_password(api: Api) -> None:
    body = {"username": "zhang3", "password": "abc", "display_name": "张三"}
    assert api.client.post("/api/v1/auth/citizens", json=body).status_code == 422
    body["password"] = "zhang3zhang3"
    weak = api.client.post("/api/v1/auth/citizens", json=body)
    assert weak.status_code == 422 and weak.json()["code"] == "auth.weak_password"
    body["password"] = "Sunny2026day"
    assert api.client.post("/api/v1/auth/citizens", json=body).status_code == 201
    taken = api.client.post("/api/v1/auth/citizens", json=body)
    assert taken.status_code == 409 and taken.json()["code"] == "auth.username_taken"
    staff_name = api.client.post("/api/v1/auth/citizens", json={**body, "username": "acceptor1"})
    assert staff_name.status_code == 409
    assert api.login("zhang3", "Sunny2026day")["roles"] == ["citizen"]


def test_password_change_and_admin_reset(api: Api) -> None:
    header = api.auth("dispatcher1")
    bad = api.client.put("/api/v1/auth/me/password", headers=header,
                         json={"old_password": "nope", "new_password": "NewPass2026x"})  # fmt: skip
    assert bad.status_code == 401
    ok = api.client.put("/api/v1/auth/me/password", headers=header,
                        json={"old_password": PASSWORD, "new_password": "NewPass2026x"})  # fmt: skip
    assert ok.status_code == 204
    assert _login(api, "dispatcher1", PASSWORD).status_code == 401  # type: ignore[attr-defined]
    reset = api.client.put("/api/v1/admin/staff/dispatcher1/password", headers=api.auth("admin"),
                           json={"password": "Reset2026abc"})  # fmt: skip
    assert reset.status_code == 204
    assert api.client.get("/api/v1/auth/me", headers=header).status_code == 401  # a reset ends old sessions
    assert _login(api, "dispatcher1", "Reset2026abc").status_code == 200  # type: ignore[attr-defined]


def test_api_keys_identify_partner_systems_until_revoked(api: Api) -> None:
    app = api.client.app

    @app.get("/partner-only")  # type: ignore[attr-defined, untyped-decorator]
    def partner_only(client: ApiClient) -> dict[str, str]:
        return {"client": client}

    created = api.post("/api/v1/admin/api-keys", "admin", json={"name": "12345热线"})
    assert created.status_code == 201
    key = created.json()["key"]
    assert accounts.api_key_client(key, api_uow(api)) == "12345热线"
    assert api.client.get("/partner-only", headers={"X-API-Key": key}).json() == {"client": "12345热线"}
    assert api.client.get("/partner-only").json()["code"] == "auth.missing_api_key"
    assert api.client.get("/partner-only", headers={"X-API-Key": "xh_guess"}).status_code == 401
    assert api.client.delete("/api/v1/admin/api-keys/12345热线", headers=api.auth("admin")).status_code == 204
    assert api.client.get("/partner-only", headers={"X-API-Key": key}).json()["code"] == "auth.invalid_api_key"
    with pytest.raises(accounts.AuthenticationError):
        accounts.api_key_client(key, api_uow(api))
    listed = api.get("/api/v1/admin/api-keys", "admin").json()
    assert listed[0]["name"] == "12345热线" and listed[0]["revoked_at"] is not None


def api_uow(api: Api) -> accounts.UnitOfWork:
    from xiuhua.unit_of_work import SqlUnitOfWork

    return SqlUnitOfWork(api.engine)


def test_placeholder_secret_is_refused_outside_dev() -> None:
    with pytest.raises(ValidationError):
        Settings(environment="production")
    with pytest.raises(ValidationError):
        Settings(environment="production", jwt_secret="short")
    with pytest.raises(ValidationError):
        Settings(environment="production", jwt_secret="change-me" * 4)
    with pytest.raises(ValidationError):
        Settings(environment="production", jwt_secret="x" * 40)
    assert Settings(environment="production", jwt_secret="Qm8vR2tLx9pW4nZa7cYe3uHs6bJd1fGk").placeholder_secret is False
    assert Settings().placeholder_secret is True


def test_dev_keeps_its_signing_secret_in_a_private_file_not_in_the_database(sqlite_template: Path,
                                                                            tmp_path: Path) -> None:  # fmt: skip
    path = tmp_path / "city.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    settings = Settings(database_url=f"sqlite:///{path}", evidence_dir=str(tmp_path / "evidence"))
    first = create_app(Runtime(engine), settings=settings, rules=FAST_RULES)
    second = create_app(Runtime(engine), settings=settings, rules=FAST_RULES)  # another worker process
    secret_file = tmp_path / "city.jwt-secret"
    assert secret_file.exists() and stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert len(secret_file.read_text().strip()) >= 32
    with SqlUnitOfWork(engine) as uow:
        assert uow.settings.get("auth.jwt_secret") is None
    tokens = TestClient(first).post("/api/v1/auth/token", data={"username": "leader", "password": PASSWORD}).json()
    header = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert TestClient(second).get("/api/v1/auth/me", headers=header).status_code == 200
    configured = Settings(database_url=f"sqlite:///{path}", jwt_secret="y" * 40)
    third = create_app(Runtime(engine), settings=configured, rules=FAST_RULES)
    assert TestClient(third).get("/api/v1/auth/me", headers=header).json()["code"] == "auth.invalid_token"
    engine.dispose()


def test_upgrading_removes_a_secret_kept_in_the_database(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0012")
    with engine.begin() as conn:
        conn.execute(tables.settings.insert().values(key="auth.jwt_secret", value='"old-secret-from-the-db"'))
    upgrade(engine)
    with SqlUnitOfWork(engine) as uow:
        assert uow.settings.get("auth.jwt_secret") is None
    engine.dispose()


def test_unknown_usernames_cost_one_password_check_like_known_ones(api: Api) -> None:
    checks: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            checks.append(str(hash))
            return super().verify(hash, password)

    rules = accounts.AuthRules(hasher=Counting(time_cost=1, memory_cost=1024, parallelism=1))
    for username in ("leader", "nobody_here"):
        with pytest.raises(accounts.AuthenticationError) as refused:
            accounts.log_in(accounts.LogIn(username, "wrong-guess-1", "192.0.2.1"), api_uow(api), api.clock, rules)
        assert (refused.value.code, refused.value.message) == ("auth.invalid_credentials", "用户名或密码错误")
    assert len(checks) == 2 and checks[0] != checks[1]  # the unknown name is checked against a dummy hash
