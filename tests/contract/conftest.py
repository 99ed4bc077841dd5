"""The contract suite: each test runs on the in-memory fakes, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.conftest import sqlite_memory_engine
from tests.fakes import FakeUnitOfWork
from xiuhua.unit_of_work import SqlUnitOfWork


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def uow(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "fake":
        yield FakeUnitOfWork()
        return
    if request.param == "sqlite":
        engine = sqlite_memory_engine()
        yield SqlUnitOfWork(engine)
        engine.dispose()
        return
    pg: Engine = request.getfixturevalue("pg_engine")
    connection = pg.connect()
    outer = connection.begin()
    yield SqlUnitOfWork(connection)
    outer.rollback()
    connection.close()
