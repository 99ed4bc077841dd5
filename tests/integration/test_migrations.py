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


def test_ratings_kept_as_audit_rows_move_to_their_table(empty_engine: Engine) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tests.integration.test_case_loop import City
    from tests.integration.test_rating import CITIZEN, citizens_case
    from xiuhua.cases.services.policy import load_policy
    from xiuhua.cases.services.rating import RATED, case_rating
    from xiuhua.demo.city import build_demo
    from xiuhua.demo.sources import demo_sources
    from xiuhua.kernel.clock import FakeClock
    from xiuhua.kernel.errors import NotFoundError
    from xiuhua.org.adapters import holidays
    from xiuhua.unit_of_work import SqlUnitOfWork

    ensure_schema(empty_engine)
    uow = SqlUnitOfWork(empty_engine)
    build_demo(demo_sources(geometry=False), uow, load_policy(uow, holidays.statutory_days).timing.calendar)
    clock = FakeClock(datetime(2026, 3, 3, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    city = City(uow, load_policy(uow, holidays.statutory_days), clock)
    rated, unrated = citizens_case(city, close=True), citizens_case(city, close=True)
    command.downgrade(alembic_config(empty_engine), "0013")  # as a database from before the table
    with uow:  # how 0013 kept a rating; the second row for a case could only come from two requests racing
        uow.audit.add(clock.now(), CITIZEN.username, RATED, rated, "", score=2, comment="较慢")
        uow.audit.add(clock.now(), CITIZEN.username, RATED, rated, "", score=5, comment="")
        uow.audit.add(clock.now(), CITIZEN.username, RATED, "20991231000001", "", score=1, comment="")  # no such case
        uow.commit()
    command.upgrade(alembic_config(empty_engine), "head")
    found = case_rating(CITIZEN, rated, uow)
    assert (found.score, found.comment, found.rated_by, found.rated_at) == (2, "较慢", CITIZEN.username, clock.now())
    with pytest.raises(NotFoundError, match=r"rating\.not_found"):
        case_rating(CITIZEN, unrated, uow)
    empty_engine.dispose()


def test_new_count_definitions_fold_every_state_and_tally_afresh(empty_engine: Engine) -> None:
    """0016: states and tallies kept under the earlier definitions are replaced by those folded from the log."""
    import json

    from sqlalchemy import func, select, text

    from tests.integration.test_evaluation import make_city, make_march
    from xiuhua.evaluation.domain.tallies import TallyState
    from xiuhua.evaluation.services import evaluate as ev
    from xiuhua.platform.db import tables as t
    from xiuhua.unit_of_work import SqlUnitOfWork

    ensure_schema(empty_engine)
    city = make_city(SqlUnitOfWork(empty_engine))
    make_march(city)
    kept = ev.canonical_json(ev.evaluate(ev.Evaluate("2026-03", trend_periods=0), city.uow))
    command.downgrade(alembic_config(empty_engine), "0015")
    with empty_engine.begin() as conn:  # what the earlier code left: stale tallies, states one field short
        conn.execute(text("UPDATE evaluation_tallies SET n = n + 5"))
        case_id = conn.scalar(select(func.min(t.cases.c.id)))
        short = '["x", "", "", "", "", false, "", "", "", "", "", "", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]'
        conn.execute(text(f"INSERT INTO evaluation_case_states (case_id, state) VALUES ({case_id}, '{short}')"))
    assert ev.check_tallies("2026-03", city.uow).differences != []
    command.upgrade(alembic_config(empty_engine), "head")
    check = ev.check_tallies("2026-03", city.uow)
    assert check.rows > 0 and check.differences == []
    assert ev.canonical_json(ev.evaluate(ev.Evaluate("2026-03", trend_periods=0), city.uow)) == kept
    with city.uow:
        states = city.uow.connection.execute(select(t.evaluation_case_states.c.state)).scalars().all()
        assert len(states) == city.uow.connection.scalar(select(func.count()).select_from(t.cases))
        assert all(len(json.loads(s)) == len(TallyState().to_list()) for s in states)
    empty_engine.dispose()
