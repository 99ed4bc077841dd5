"""API fixtures: a TestClient over a fresh demo city per test, on SQLite and on PostgreSQL.

The demo city (without geometry) and its logins are built once per backend into a template: SQLite
tests copy the template file, PostgreSQL tests create their database from the template database.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import shapely
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, fresh_pg_database
from xiuhua.bootstrap import Runtime
from xiuhua.cases.services.policy import load_policy
from xiuhua.config import Settings
from xiuhua.demo.city import build_demo
from xiuhua.demo.sources import demo_sources
from xiuhua.entrypoints.http.app import create_app
from xiuhua.kernel.clock import FakeClock
from xiuhua.org.adapters import holidays
from xiuhua.org.services import accounts
from xiuhua.platform import packagedata
from xiuhua.platform.db.engine import make_engine, recreate_database, upgrade
from xiuhua.platform.files import FileEvidenceStore
from xiuhua.unit_of_work import SqlUnitOfWork

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 3, 9, 0, tzinfo=SH)
PASSWORD = "Xiuhua2026demo"
# argon2id still, with parameters cheap enough for a test suite that logs in hundreds of times
FAST_RULES = accounts.AuthRules(hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
HERE = {"lon": 114.34902, "lat": 34.81873, "address": "龙亭公园东门", "community_code": "410202001009"}
THERE = {"lon": 114.35963, "lat": 34.79699, "address": "顺河某路", "community_code": "410203001010"}  # 顺河回族区
DISTRICT_DISPATCHER = "dispatcher_410202"
SUPERVISOR = "supervisor_410202001"
OTHER_SUPERVISOR = "supervisor_410203001"


def store_outlines(uow: SqlUnitOfWork) -> None:
    """The demo city's district, street and community outlines (reports are located by them), no unit grids."""
    features = packagedata.read_features(packagedata.DEMO_GEOMETRY)
    with uow:
        known = uow.regions.codes()
        shapes = [(f["properties"]["code"], shapely.geometry.shape(f["geometry"]), True, "demo") for f in features]
        uow.geo.put_region_shapes([s for s in shapes if s[0] in known])
        uow.commit()


def build_city(engine: Engine) -> None:
    upgrade(engine)
    uow = SqlUnitOfWork(engine)
    build_demo(demo_sources(geometry=False), uow, load_policy(uow, holidays.statutory_days).timing.calendar)
    store_outlines(uow)
    with uow:
        usernames = [s.username for s in uow.staff.all()]
    accounts.ensure_staff_logins(usernames, PASSWORD, uow, FakeClock(START), FAST_RULES)
    citizens = (("citizen_wang", "王小明", "13812345678"), ("citizen_li", "李雷", "13987654321"))
    for username, name, phone in citizens:
        cmd = accounts.RegisterCitizen(username, PASSWORD, name, phone)
        accounts.register_citizen(cmd, uow, FakeClock(START), FAST_RULES)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "city.db"
    engine = make_engine(f"sqlite:///{path}")
    build_city(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _pg_name(suffix: str) -> str:
    return f"{make_url(PG_URL).database}{suffix}"


@pytest.fixture(scope="session")
def pg_template(pg_url: str) -> str:
    """A template database holding the demo city (pg_url skips or fails as the run requires)."""
    url = make_url(PG_URL).set(database=_pg_name("_tpl")).render_as_string(hide_password=False)
    engine = make_engine(fresh_pg_database(url))
    build_city(engine)
    engine.dispose()
    return _pg_name("_tpl")


def _pg_from_template(template: str) -> str:
    return recreate_database(make_url(PG_URL).set(database=_pg_name("_case")).render_as_string(False), template)


@dataclass
class Api:
    """A client of the API with a controlled clock and remembered logins."""

    client: TestClient
    clock: FakeClock
    engine: Engine
    evidence: FileEvidenceStore
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)

    def login(self, username: str, password: str = PASSWORD) -> dict[str, Any]:
        r = self.client.post("/api/v1/auth/token", data={"username": username, "password": password})
        if r.status_code == 429:  # others' failed logins from this address: wait as a real client would
            self.clock.advance(seconds=int(r.headers["Retry-After"]))
            r = self.client.post("/api/v1/auth/token", data={"username": username, "password": password})
        assert r.status_code == 200, r.text
        self.tokens[username] = {**r.json(), "issued": self.clock.now()}
        return r.json()

    def auth(self, username: str) -> dict[str, str]:
        """A bearer header, logging in again when the remembered token is near its 15 minutes."""
        token = self.tokens.get(username)
        if token is None or self.clock.now() - token["issued"] > timedelta(minutes=10):
            self.login(username)
        return {"Authorization": f"Bearer {self.tokens[username]['access_token']}"}

    def get(self, path: str, user: str | None = None, **kw: Any) -> Any:
        return self.client.get(path, headers=self.auth(user) if user else {}, **kw)

    def post(self, path: str, user: str | None = None, **kw: Any) -> Any:
        return self.client.post(path, headers={**(self.auth(user) if user else {}), **kw.pop("headers", {})}, **kw)

    def report(self, user: str = SUPERVISOR, **overrides: Any) -> Any:
        body = {"kind": "component", "class_code": "01001", "description": "井盖缺失，有安全隐患", **HERE, **overrides}
        return self.post("/api/v1/cases", user, json=body)

    def act(self, case_no: str, action: str, user: str, minutes: float = 5, **body: Any) -> Any:
        self.clock.advance(minutes=minutes)
        return self.post(f"/api/v1/cases/{case_no}/{action}", user, json=body or None)

    def standard_id(self, code: str = "01001") -> int:
        rows = self.get("/api/v1/tables/standards", "admin").json()
        with SqlUnitOfWork(self.engine) as uow:
            ids = [s.id for s in uow.catalog.standards() if s.code == code]
        assert rows["rows"] and ids
        return int(ids[0])  # type: ignore[arg-type]


def make_api(engine: Engine, tmp_path: Path) -> Iterator[Api]:
    clock = FakeClock(START)
    evidence = FileEvidenceStore(tmp_path / "evidence")
    settings = Settings(database_url=str(engine.url), evidence_dir=str(tmp_path / "evidence"))
    app = create_app(Runtime(engine), settings=settings, clock=clock, rules=FAST_RULES, evidence=evidence)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, clock, engine, evidence)
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    if request.param == "sqlite":
        path = tmp_path / "city.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield from make_api(make_engine(f"sqlite:///{path}"), tmp_path)
        return
    template = request.getfixturevalue("pg_template")
    yield from make_api(make_engine(_pg_from_template(template)), tmp_path)


@pytest.fixture
def sqlite_api(sqlite_template: Path, tmp_path: Path) -> Iterator[Api]:
    """SQLite only: for checks whose subject is not storage (parsing, limits, tokens)."""
    path = tmp_path / "city.db"
    shutil.copy(sqlite_template, path)
    yield from make_api(make_engine(f"sqlite:///{path}"), tmp_path)
