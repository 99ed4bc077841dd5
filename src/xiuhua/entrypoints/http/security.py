"""Access tokens: short-lived JWTs (HS256) naming the account, its roles and scope, and its session (``sid``:
the family of the session's refresh tokens, which every request checks is still open)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from xiuhua.kernel.actor import Role
from xiuhua.org.domain.accounts import AccountKind, AuthenticationError, Principal

ALGORITHM = "HS256"


def issue_access_token(principal: Principal, secret: str, now: datetime, minutes: int) -> tuple[str, datetime]:
    expires = now + timedelta(minutes=minutes)
    claims: dict[str, Any] = {
        "sub": principal.username,
        "sid": principal.session_id,
        "knd": principal.kind.value,
        "rol": sorted(r.value for r in principal.roles),
        "srg": principal.scope_region_code,
        "sor": principal.scope_organization_code,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "typ": "access",
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM), expires


def read_access_token(token: str, secret: str, now: datetime) -> Principal:
    """The principal a valid token names; raises AuthenticationError. Expiry is checked against the
    application's clock (not the machine's), so tests can move time."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"verify_exp": False, "require": ["exp", "sub", "sid"]}
        )
        if claims.get("typ") != "access":
            raise AuthenticationError("auth.invalid_token", "令牌无效，请重新登录")
        if int(claims["exp"]) <= now.timestamp():
            raise AuthenticationError("auth.token_expired", "登录已过期，请刷新令牌或重新登录")
        return Principal(
            username=str(claims["sub"]),
            kind=AccountKind(claims["knd"]),
            roles=frozenset(Role(r) for r in claims["rol"]),
            scope_region_code=claims.get("srg"),
            scope_organization_code=claims.get("sor"),
            session_id=str(claims["sid"]),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        raise AuthenticationError("auth.invalid_token", "令牌无效，请重新登录") from None
