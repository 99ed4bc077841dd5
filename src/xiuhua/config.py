"""Settings read from the environment (prefix XIUHUA_); defaults run on embedded SQLite."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XIUHUA_", env_nested_delimiter="__", extra="ignore")

    database_url: str = "sqlite:///var/xiuhua.db"
    """Any SQLAlchemy URL: sqlite:///path/to.db or postgresql+psycopg://user@host/db."""
    evidence_dir: str = "var/evidence"
    """Where photos and frames are stored by content hash."""


@lru_cache
def get_settings() -> Settings:
    return Settings()
