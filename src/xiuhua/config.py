"""Settings read from the environment (prefix XIUHUA_); defaults run on embedded SQLite."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

DEV_JWT_SECRET = "dev-only-change-me"
"""The placeholder: in dev a secret generated once is kept in a private file instead; elsewhere it is refused."""
_PLACEHOLDER_WORDS = ("changeme", "changethis", "placeholder", "devonly", "example", "yoursecret")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XIUHUA_", env_nested_delimiter="__", extra="ignore")

    environment: str = "dev"
    """dev | test | production: anything but dev refuses placeholder secrets."""
    database_url: str = "sqlite:///var/xiuhua.db"
    """Any SQLAlchemy URL: sqlite:///path/to.db or postgresql+psycopg://user@host/db."""
    evidence_dir: str = "var/evidence"
    """Where photos and frames are stored by content hash."""
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    """Signs access tokens; every API process of a city must share it. Required outside dev (≥ 32 characters,
    no placeholder); in dev, left unset, a secret generated once is kept in ``jwt_secret_path``."""
    jwt_secret_file: str = ""
    """Dev only: the file keeping the generated secret (default beside a SQLite database, else var/)."""
    access_token_minutes: int = 15
    refresh_token_days: int = 7
    login_free_failures: int = Field(default=3, ge=1)
    """Failed logins from one address against one name before each further attempt must wait."""
    login_address_free_failures: int = Field(default=10, ge=1)
    """Failed logins from one address (any names), and against one name (any addresses), before waits."""
    login_max_wait_seconds: int = Field(default=900, ge=2)
    """The longest wait (the waits double from 2 s) for an address, or an address with a name."""
    login_account_max_wait_seconds: int = Field(default=30, ge=1)
    """The longest wait for a name from every address: a brief slow-down, never a lockout."""
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
    mqtt_host: str = "127.0.0.1"
    """The MQTT broker the sensors publish to (ingest and the simulator; the demo runs its own on loopback)."""
    mqtt_port: int = 1883
    outbox_retention_days: int = Field(default=30, ge=1)
    """How long events stay in the outbox (the live stream's replay) before the worker prunes them."""

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> Settings:
        if self.environment != "dev" and (self.placeholder_secret or _example(self.jwt_secret.get_secret_value())):
            raise ValueError("XIUHUA_JWT_SECRET must be set to a real secret outside the dev environment")
        if self.environment != "dev" and len(self.jwt_secret.get_secret_value()) < 32:
            raise ValueError("XIUHUA_JWT_SECRET must be at least 32 characters outside the dev environment")
        return self

    @property
    def placeholder_secret(self) -> bool:
        """No secret configured (unset or the dev placeholder)."""
        return self.jwt_secret.get_secret_value() in (DEV_JWT_SECRET, "")

    @property
    def jwt_secret_path(self) -> Path:
        """Where dev keeps its generated signing secret: ``jwt_secret_file``, else beside a SQLite database
        file (city.db → city.jwt-secret), else var/jwt-secret."""
        if self.jwt_secret_file:
            return Path(self.jwt_secret_file)
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            return Path(url.database).with_suffix(".jwt-secret")
        return Path("var") / "jwt-secret"


def _example(secret: str) -> bool:
    """An example value rather than a random one: a placeholder word, or too few distinct characters."""
    plain = "".join(c for c in secret.lower() if c.isalnum())
    return len(set(secret)) < 8 or any(word in plain for word in _PLACEHOLDER_WORDS)


@lru_cache
def get_settings() -> Settings:
    return Settings()
