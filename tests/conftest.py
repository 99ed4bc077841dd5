"""Database fixtures: every storage test runs on SQLite and on PostgreSQL.

SQLite gets a fresh in-memory database per test. PostgreSQL (XIUHUA_TEST_PG_URL) is migrated once per
run and each test runs inside a transaction that is rolled back. Without a reachable PostgreSQL the
PostgreSQL half is skipped, unless XIUHUA_REQUIRE_PG=1 (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool

from xiuhua.platform.db.engine import make_engine, recreate_database, upgrade
from xiuhua.unit_of_work import SqlUnitOfWork

SHARED = Path(__file__).resolve().parents[2] / "shared"
"""Test data kept beside the checkout (real standards tables, divisions, landmarks), never in the product."""
REQUIRE_SHARED = os.environ.get("XIUHUA_REQUIRE_SHARED") == "1"


def shared(*parts: str) -> Path:
    """A file of the shared test data; without it the test is skipped, or fails where XIUHUA_REQUIRE_SHARED=1
    (CI), so that a fresh clone alone passes and CI never silently skips."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        reason = f"{path} is absent (the shared test data lives beside the checkout)"
        if REQUIRE_SHARED:
            pytest.fail(f"shared test data is required but missing: {reason}", pytrace=False)
        pytest.skip(reason)
    return path


PG_URL = os.environ.get("XIUHUA_TEST_PG_URL", "")
REQUIRE_PG = os.environ.get("XIUHUA_REQUIRE_PG") == "1"


def pg_unavailable(reason: str) -> None:
    if REQUIRE_PG:
        pytest.fail(f"PostgreSQL tests are required but cannot run: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not available: {reason}")


def fresh_pg_database(url: str) -> str:
    """Create (or re-create) the database named in ``url`` and return the URL."""
    return recreate_database(url)


@pytest.fixture(scope="session")
def pg_url() -> str:
    if not PG_URL:
        pg_unavailable("XIUHUA_TEST_PG_URL is not set")
    try:
        return fresh_pg_database(PG_URL)
    except OperationalError as exc:
        pg_unavailable(str(exc.orig))
        raise


@pytest.fixture(scope="session")
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def sqlite_memory_engine() -> Engine:
    engine = make_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    upgrade(engine)
    return engine


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def uow(request: pytest.FixtureRequest) -> Iterator[SqlUnitOfWork]:
    if request.param == "sqlite":
        engine = sqlite_memory_engine()
        yield SqlUnitOfWork(engine)
        engine.dispose()
        return
    pg: Engine = request.getfixturevalue("pg_engine")
    connection = pg.connect()
    outer = connection.begin()
    yield SqlUnitOfWork(connection)  # each use case a savepoint inside a transaction rolled back at the end
    outer.rollback()
    connection.close()
