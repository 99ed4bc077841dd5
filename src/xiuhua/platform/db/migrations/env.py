"""Alembic environment: the engine comes from the caller (xiuhua db upgrade) or from Settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from xiuhua.platform.db.tables import metadata

config = context.config


def _engine() -> Engine:
    engine: Engine | None = config.attributes.get("engine")
    if engine is None:
        from xiuhua.config import get_settings
        from xiuhua.platform.db.engine import make_engine

        engine = make_engine(get_settings().database_url)
    return engine


def run_migrations_online() -> None:
    engine = _engine()
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            compare_type=True,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        context.run_migrations()


run_migrations_online()
