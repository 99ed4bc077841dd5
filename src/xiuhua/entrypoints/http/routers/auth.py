"""Password login (OAuth2 password flow), refresh, logout, the caller's account, citizens' sign-up."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm

from xiuhua.entrypoints.http.deps import ClientDep, ClockDep, Ctx, CurrentUser, UowDep
from xiuhua.entrypoints.http.schemas.auth import CitizenIn, MeOut, PasswordChangeIn, RefreshIn, TokenOut
from xiuhua.entrypoints.http.schemas.common import ERRORS, ErrorOut
from xiuhua.entrypoints.http.security import issue_access_token
from xiuhua.org.services import accounts
from xiuhua.org.services.accounts import LoggedIn

router = APIRouter(prefix="/auth", tags=["登录与账号"], responses=ERRORS)


def _tokens(ctx: Ctx, done: LoggedIn) -> TokenOut:
    minutes = ctx.settings.access_token_minutes
    token, _ = issue_access_token(done.principal, ctx.secret, ctx.clock.now(), minutes)
    return TokenOut(
        access_token=token,
        expires_in=minutes * 60,
        refresh_token=done.refresh_token,
        refresh_expires_at=done.refresh_expires_at,
        username=done.principal.username,
        roles=sorted(r.value for r in done.principal.roles),
    )


@router.post(
    "/token",
    summary="登录（OAuth2 密码模式）",
    responses={429: {"model": ErrorOut, "description": "登录失败次数过多，按 Retry-After 秒数等待后再试"}},
)
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], ctx: Ctx, client: ClientDep) -> TokenOut:
    cmd = accounts.LogIn(form.username[:64], form.password[:256], client)
    return _tokens(ctx, accounts.log_in(cmd, ctx.uow(), ctx.clock, ctx.rules))


@router.post("/refresh", summary="以刷新令牌换取新令牌（旧令牌再次使用将注销整个会话）")
def refresh(body: RefreshIn, ctx: Ctx, client: ClientDep) -> TokenOut:
    return _tokens(ctx, accounts.refresh_session(body.refresh_token, ctx.uow(), ctx.clock, client))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="退出登录（吊销本次会话）")
def logout(user: CurrentUser, uow: UowDep, clock: ClockDep, client: ClientDep) -> None:
    accounts.log_out(user, uow, clock, client)


@router.get("/me", summary="当前账号")
def me(user: CurrentUser) -> MeOut:
    return MeOut(
        username=user.username,
        kind=user.kind.value,
        roles=sorted(r.value for r in user.roles),
        scope_region_code=user.scope_region_code,
        scope_organization_code=user.scope_organization_code,
    )


@router.put("/me/password", status_code=status.HTTP_204_NO_CONTENT, summary="修改本人密码")
def change_password(body: PasswordChangeIn, user: CurrentUser, ctx: Ctx) -> None:
    accounts.change_own_password(user, body.old_password, body.new_password, ctx.uow(), ctx.clock, ctx.rules)


@router.post("/citizens", status_code=status.HTTP_201_CREATED, summary="市民注册")
def register_citizen(body: CitizenIn, ctx: Ctx, client: ClientDep) -> MeOut:
    cmd = accounts.RegisterCitizen(body.username, body.password, body.display_name, body.phone, client)
    username = accounts.register_citizen(cmd, ctx.uow(), ctx.clock, ctx.rules)
    return MeOut(username=username, kind="citizen", roles=["citizen"], scope_region_code=None,
                 scope_organization_code=None)  # fmt: skip
