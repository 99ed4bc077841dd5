"""The city always keeps one active administrator: disabling, demoting or deleting the last one is refused
over HTTP and on the command line, also when two administrators act on each other at the same time."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from tests.api.conftest import FAST_RULES, PASSWORD, START, Api
from xiuhua.config import get_settings
from xiuhua.entrypoints.cli.main import app as cli
from xiuhua.kernel.actor import Role
from xiuhua.kernel.clock import FakeClock
from xiuhua.kernel.errors import ConflictError
from xiuhua.org.domain.model import Staff
from xiuhua.org.services import accounts
from xiuhua.platform.db import tables as t
from xiuhua.unit_of_work import SqlUnitOfWork


def staff_row(api: Api, username: str) -> dict[str, str]:
    table = api.get("/api/v1/tables/staff", "admin").json()
    row = next(r for r in table["rows"] if r[0] == username)
    return dict(zip(table["columns"], row, strict=True))


def put_staff(api: Api, user: str, **changes: str) -> Any:
    row = {**staff_row(api, "admin"), **changes}
    return api.client.put("/api/v1/admin/tables/staff", headers=api.auth(user), json={"rows": [row]})


def add_admin(api: Api, username: str = "admin2") -> None:
    with SqlUnitOfWork(api.engine) as uow:
        admin = uow.staff.get("admin")
        assert admin is not None
        uow.staff.upsert([Staff(username, "第二管理员", frozenset({Role.ADMIN}), admin.organization_code,
                                admin.scope_region_code)])  # fmt: skip
        uow.commit()
    accounts.ensure_staff_logins([username], PASSWORD, SqlUnitOfWork(api.engine), FakeClock(START), FAST_RULES)


def refused(r: Any) -> bool:
    body = r.json()
    return r.status_code == 409 and body["code"] == "accounts.last_admin" and "管理员" in body["message"]


def test_the_last_administrator_cannot_be_disabled_demoted_or_deleted(api: Api) -> None:
    assert refused(api.post("/api/v1/admin/accounts/admin/disable", "admin"))
    assert refused(api.client.delete("/api/v1/admin/accounts/admin", headers=api.auth("admin")))
    assert refused(put_staff(api, "admin", roles="领导"))
    assert refused(put_staff(api, "admin", active="否"))
    assert api.get("/api/v1/auth/me", "admin").status_code == 200  # nothing was written
    assert staff_row(api, "admin")["roles"] == "管理员" and staff_row(api, "admin")["active"] == "是"
    assert put_staff(api, "admin", name="管理员甲").status_code == 200  # other changes to the row go through


def test_one_of_two_administrators_may_go(api: Api) -> None:
    add_admin(api)
    assert api.post("/api/v1/admin/accounts/admin/disable", "admin2").status_code == 204
    assert refused(api.post("/api/v1/admin/accounts/admin2/disable", "admin2"))
    assert api.post("/api/v1/admin/accounts/admin/enable", "admin2").status_code == 204
    assert api.client.delete("/api/v1/admin/accounts/admin2", headers=api.auth("admin")).status_code == 204
    assert api.client.post("/api/v1/auth/token", data={"username": "admin2", "password": PASSWORD}).status_code == 401
    assert api.client.delete("/api/v1/admin/accounts/admin2", headers=api.auth("admin")).status_code == 404
    actions = [a["action"] for a in api.get("/api/v1/admin/audit?action=admin.account", "admin").json()]
    assert actions == ["admin.account_deleted", "admin.account_enabled", "admin.account_disabled"]


def test_two_administrators_disabling_each_other_leave_one(api: Api) -> None:
    """While one transaction has disabled admin2 and not yet committed, disabling admin waits for it and
    is then refused (it would leave nobody)."""
    add_admin(api)
    first = api.engine.connect()
    first.begin()
    first.execute(update(t.accounts).where(t.accounts.c.username == "admin2").values(active=False))
    outcome: list[object] = []

    def second() -> None:
        principal = accounts.Principal("admin2", accounts.AccountKind.STAFF, frozenset({Role.ADMIN}))
        try:
            accounts.set_account_active(principal, "admin", False, SqlUnitOfWork(api.engine), api.clock)
            outcome.append("disabled")
        except ConflictError as exc:
            outcome.append(exc.code)

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive()  # waits on the first transaction's rows
    first.commit()
    first.close()
    thread.join(10)
    assert outcome == ["accounts.last_admin"]
    with SqlUnitOfWork(api.engine) as uow:
        admin = uow.accounts.get("admin")
        assert admin is not None and admin.active


@pytest.fixture
def city_db(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    path = tmp_path / "city.db"
    shutil.copy(sqlite_template, path)
    monkeypatch.setenv("XIUHUA_DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def test_the_command_line_refuses_too(city_db: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["account", "disable", "admin"])
    assert result.exit_code == 1 and "错误 [accounts.last_admin]" in result.stderr
    staff = tmp_path / "staff.csv"
    assert runner.invoke(cli, ["org", "export", "staff", str(staff)]).exit_code == 0
    lines = staff.read_text(encoding="utf-8").splitlines()
    demoted = [line.replace(",管理员,", ",领导,") if line.startswith("admin,") else line for line in lines]
    staff.write_text("\n".join(demoted) + "\n", encoding="utf-8")
    result = runner.invoke(cli, ["org", "import", "staff", str(staff)])
    assert result.exit_code == 1 and "错误 [accounts.last_admin]" in result.stderr
    result = runner.invoke(cli, ["account", "delete", "admin"])
    assert result.exit_code == 1 and "accounts.last_admin" in result.stderr
    assert runner.invoke(cli, ["account", "disable", "leader"]).exit_code == 0
    assert runner.invoke(cli, ["account", "enable", "leader"]).exit_code == 0
    result = runner.invoke(cli, ["account", "disable", "nobody_here"])
    assert result.exit_code == 1 and "auth.no_account" in result.stderr
