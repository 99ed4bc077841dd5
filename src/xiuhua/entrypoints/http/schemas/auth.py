"""Login, tokens, the caller's own account, citizens' sign-up."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from xiuhua.entrypoints.http.schemas.common import PASSWORD_PATTERN, In, Out


class TokenOut(Out):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds the access token stays valid")
    refresh_token: str
    refresh_expires_at: datetime
    username: str
    roles: list[str]


class RefreshIn(In):
    refresh_token: str = Field(min_length=10, max_length=200)


class MeOut(Out):
    username: str
    kind: str
    roles: list[str]
    scope_region_code: str | None
    scope_organization_code: str | None


class CitizenIn(In):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    password: str = Field(min_length=8, max_length=128, pattern=PASSWORD_PATTERN)
    display_name: str = Field(min_length=1, max_length=64)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9\-]{5,20}$")


class PasswordChangeIn(In):
    old_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=8, max_length=128, pattern=PASSWORD_PATTERN)
