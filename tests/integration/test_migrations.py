"""Alembic migrations upgrade an empty database on both backends and match the models exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect

from tests.conftest import PG_URL, fresh_pg_database
from xiuhua.platform.db.engine import alembic_config, current_revision, ensure_schema, head_revision, make_engine
from xiuhua.platform.db.tables import metadata


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    if request.param == "sqlite":
        return make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    request.getfixturevalue("pg_url")  # skips or fails as the run requires
    url = PG_URL.rsplit("/", 1)[0] + "/xiuhua_migration_test"
    return make_engine(fresh_pg_database(url))


def test_upgrade_empty_database_then_check_no_drift(empty_engine: Engine) -> None:
    assert current_revision(empty_engine) is None
    ensure_schema(empty_engine)
    assert current_revision(empty_engine) == head_revision()
    assert set(inspect(empty_engine).get_table_names()) == set(metadata.tables) | {"alembic_version"}
    command.check(alembic_config(empty_engine))  # raises if the models and the migrations differ
    command.downgrade(alembic_config(empty_engine), "base")
    assert set(inspect(empty_engine).get_table_names()) == {"alembic_version"}
    command.upgrade(alembic_config(empty_engine), "head")
    assert current_revision(empty_engine) == head_revision()
    empty_engine.dispose()


def test_sqlite_file_database_uses_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")
    ensure_schema(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_tallies_are_built_from_the_log_when_a_database_with_cases_is_upgraded(empty_engine: Engine) -> None:
    from tests.integration.test_evaluation import make_city, make_march
    from xiuhua.evaluation.services import evaluate as ev
    from xiuhua.unit_of_work import SqlUnitOfWork

    ensure_schema(empty_engine)
    city = make_city(SqlUnitOfWork(empty_engine))
    make_march(city)
    kept = ev.canonical_json(ev.evaluate(ev.Evaluate("2026-03", trend_periods=0), city.uow))
    command.downgrade(alembic_config(empty_engine), "0010")  # as a database from before monthly tallies
    assert "evaluation_tallies" not in inspect(empty_engine).get_table_names()
    command.upgrade(alembic_config(empty_engine), "head")
    check = ev.check_tallies("2026-03", city.uow)
    assert check.rows > 0 and check.differences == []
    assert ev.canonical_json(ev.evaluate(ev.Evaluate("2026-03", trend_periods=0), city.uow)) == kept
    empty_engine.dispose()
