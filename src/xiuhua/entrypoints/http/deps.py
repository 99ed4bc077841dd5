"""Dependencies as Annotated aliases: the context, a unit of work, the clock, who is calling, role checks.

Per-object scope is not checked here: it goes through services.access (shared with the CLI).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from xiuhua.cases.services.policy import CasePolicy
from xiuhua.entrypoints.http.context import AppContext
from xiuhua.entrypoints.http.security import read_access_token
from xiuhua.kernel.actor import Role
from xiuhua.kernel.errors import ForbiddenError
from xiuhua.kernel.ports import Clock
from xiuhua.org.domain.accounts import AuthenticationError, Principal
from xiuhua.org.services import accounts
from xiuhua.ports import ApplicationUnitOfWork

TOKEN_URL = "/api/v1/auth/token"
_bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="合作系统的 API 密钥")


def get_ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]


def get_uow(ctx: Ctx) -> ApplicationUnitOfWork:
    return ctx.uow()


def get_clock(ctx: Ctx) -> Clock:
    return ctx.clock


def get_policy(ctx: Ctx) -> CasePolicy:
    return ctx.policy()


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


UowDep = Annotated[ApplicationUnitOfWork, Depends(get_uow)]
ClockDep = Annotated[Clock, Depends(get_clock)]
PolicyDep = Annotated[CasePolicy, Depends(get_policy)]
ClientDep = Annotated[str, Depends(client_address)]


def authenticate(ctx: AppContext, token: str | None, request: Request) -> Principal:
    """The principal of a bearer token whose session is still open; raises AuthenticationError."""
    if not token:
        raise AuthenticationError("auth.missing_token", "请先登录（缺少访问令牌）")
    now = ctx.clock.now()
    principal = read_access_token(token, ctx.secret, now)
    accounts.check_session(principal.session_id, ctx.uow(), now)
    request.state.principal = principal
    return principal


def current_principal(request: Request, ctx: Ctx, token: Annotated[str | None, Depends(_bearer)]) -> Principal:
    return authenticate(ctx, token, request)


CurrentUser = Annotated[Principal, Depends(current_principal)]


def staff_principal(user: CurrentUser) -> Principal:
    if user.is_citizen:
        raise ForbiddenError("auth.staff_only", "此功能仅限工作人员")
    return user


StaffUser = Annotated[Principal, Depends(staff_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency admitting staff holding at least one of ``roles``."""
    names = "、".join(r.label for r in roles)

    def check(user: StaffUser) -> Principal:
        if not user.roles & set(roles):
            raise ForbiddenError("auth.role_denied", f"此功能需要以下角色之一：{names}", roles=[r.value for r in roles])
        return user

    return check


AdminUser = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


def api_client(ctx: Ctx, key: Annotated[str | None, Security(_api_key)]) -> str:
    """The partner system calling with an X-API-Key header (for machine and Open311 intake)."""
    if not key:
        raise AuthenticationError("auth.missing_api_key", "缺少 API 密钥（X-API-Key）")
    return accounts.api_key_client(key, ctx.uow())


ApiClient = Annotated[str, Depends(api_client)]
