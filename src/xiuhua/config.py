"""Settings read from the environment (prefix XIUHUA_); defaults run on embedded SQLite."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-change-me"
"""The placeholder: in dev each database generates and keeps its own secret instead; elsewhere it is refused."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XIUHUA_", env_nested_delimiter="__", extra="ignore")

    environment: str = "dev"
    """dev | test | production: anything but dev refuses placeholder secrets."""
    database_url: str = "sqlite:///var/xiuhua.db"
    """Any SQLAlchemy URL: sqlite:///path/to.db or postgresql+psycopg://user@host/db."""
    evidence_dir: str = "var/evidence"
    """Where photos and frames are stored by content hash."""
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    """Signs access tokens; every API process of a city must share it."""
    access_token_minutes: int = 15
    refresh_token_days: int = 7
    lockout_threshold: int = 5
    """Consecutive failed logins that lock an account."""
    lockout_minutes: int = 15
    max_upload_bytes: int = 10 * 1024 * 1024
    """Largest photo accepted by the API."""
    max_body_bytes: int = 1024 * 1024
    """Largest JSON request body accepted by the API (uploads have their own limit)."""
    phone_key: SecretStr = SecretStr("")
    """Encrypts vehicle owners' phone numbers at rest; required outside dev (dev falls back to jwt_secret)."""
    sms_provider: str = "fake"
    """The SMS gateway: a short name from the provider registry or a dotted path."""
    sms_options: dict[str, Any] = {}
    """The gateway's options (JSON in XIUHUA_SMS_OPTIONS), validated by the provider's own model."""
    outbox_retention_days: int = Field(default=30, ge=1)
    """How long events stay in the outbox (the live stream's replay) before the worker prunes them."""

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> Settings:
        if self.environment != "dev" and self.jwt_secret.get_secret_value() in (DEV_JWT_SECRET, ""):
            raise ValueError("XIUHUA_JWT_SECRET must be set to a real secret outside the dev environment")
        if self.environment != "dev" and len(self.jwt_secret.get_secret_value()) < 32:
            raise ValueError("XIUHUA_JWT_SECRET must be at least 32 characters outside the dev environment")
        return self

    @property
    def placeholder_secret(self) -> bool:
        return self.jwt_secret.get_secret_value() == DEV_JWT_SECRET


@lru_cache
def get_settings() -> Settings:
    return Settings()
