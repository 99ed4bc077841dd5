"""Administration: write reference tables, staff logins, API keys, and read the audit trail. Every change
is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from xiuhua.cases.services import policy
from xiuhua.entrypoints.http.deps import AdminUser, ClientDep, Ctx, UowDep
from xiuhua.entrypoints.http.routers.reference import schedule_out
from xiuhua.entrypoints.http.schemas.admin import (
    ApiKeyIn,
    ApiKeyInfoOut,
    ApiKeyOut,
    AuditOut,
    ImportOut,
    PasswordIn,
    RowErrorOut,
    ScheduleIn,
    ScheduleOut,
    TableIn,
    TableName,
)
from xiuhua.entrypoints.http.schemas.common import ERRORS, MAX_ID
from xiuhua.org.domain.calendar import Schedule, parse_periods
from xiuhua.org.services import accounts, catalog
from xiuhua.org.services import calendar as calendar_service
from xiuhua.org.services import structure as org
from xiuhua.platform.importing import ImportReport
from xiuhua.platform.tabular import Row

router = APIRouter(prefix="/admin", tags=["管理"], responses=ERRORS)
Username = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.\-]{2,64}$")]


@router.put("/tables/{name}", summary="导入（写入）一张表：全表校验，全部成功或全部拒绝")
def put_table(name: TableName, body: TableIn, admin: AdminUser, ctx: Ctx, client: ClientDep) -> ImportOut:
    rows = [Row(i + 2, {k: v or "" for k, v in values.items()}) for i, values in enumerate(body.rows)]
    uow, skip = ctx.uow(), body.skip_invalid
    calendar = ctx.policy().timing.calendar
    report: ImportReport
    if name is TableName.REGIONS:
        report = org.import_regions(rows, uow, skip_invalid=skip)
    elif name is TableName.ORGANIZATIONS:
        report = org.import_organizations(rows, uow, skip_invalid=skip)
    elif name is TableName.STAFF:
        report = org.import_staff(rows, uow, skip_invalid=skip)
    elif name is TableName.CLASSES:
        report = catalog.import_classes(rows, uow, skip_invalid=skip)
    elif name is TableName.STANDARDS:
        report = catalog.import_standards(rows, uow, calendar, skip_invalid=skip)
    elif name is TableName.STEP_LIMITS:
        report = policy.import_step_limits(rows, uow, calendar, skip_invalid=skip)
    elif name is TableName.ROUTING:
        report = policy.import_routing(rows, uow, skip_invalid=skip)
    else:
        report = calendar_service.import_days(rows, uow, skip_invalid=skip)
    ctx.forget_rules()
    accounts.record(ctx.uow(), ctx.clock, admin.username, f"admin.import.{name.value}", name.value, client,
                    written=report.written, skipped=len(report.skipped))  # fmt: skip
    return ImportOut(
        written=report.written,
        skipped=[RowErrorOut(row=e.row, code=e.code, message=e.message) for e in report.skipped],
    )


@router.put("/calendar/schedules/{name}", summary="新增或修改作息时间表（只能有一个全年作息）")
def put_schedule(
    name: Annotated[str, Path(min_length=1, max_length=64)],
    body: ScheduleIn,
    admin: AdminUser,
    ctx: Ctx,
    client: ClientDep,
) -> ScheduleOut:
    schedule = Schedule(name, parse_periods(body.periods), calendar_service.parse_season(body.season))
    calendar_service.put_schedule(schedule, ctx.uow())
    ctx.forget_rules()
    accounts.record(ctx.uow(), ctx.clock, admin.username, "admin.schedule", name, client, periods=body.periods,
                    season=body.season)  # fmt: skip
    return schedule_out(schedule)


@router.put("/staff/{username}/password", status_code=status.HTTP_204_NO_CONTENT, summary="设置工作人员登录密码")
def set_password(username: Username, body: PasswordIn, admin: AdminUser, ctx: Ctx, client: ClientDep) -> None:
    cmd = accounts.SetPassword(admin, username, body.password, client)
    accounts.set_staff_password(cmd, ctx.uow(), ctx.clock, ctx.rules)


@router.post("/accounts/{username}/disable", status_code=status.HTTP_204_NO_CONTENT, summary="停用登录并吊销会话")
def disable(username: Username, admin: AdminUser, ctx: Ctx, client: ClientDep) -> None:
    accounts.set_account_active(admin, username, False, ctx.uow(), ctx.clock, client)


@router.post("/accounts/{username}/enable", status_code=status.HTTP_204_NO_CONTENT, summary="启用登录")
def enable(username: Username, admin: AdminUser, ctx: Ctx, client: ClientDep) -> None:
    accounts.set_account_active(admin, username, True, ctx.uow(), ctx.clock, client)


@router.delete("/accounts/{username}", status_code=status.HTTP_204_NO_CONTENT, summary="删除登录（保留人员记录）")
def delete_login(username: Username, admin: AdminUser, ctx: Ctx, client: ClientDep) -> None:
    accounts.delete_account(admin, username, ctx.uow(), ctx.clock, client)


@router.post("/api-keys", status_code=status.HTTP_201_CREATED, summary="为合作系统创建 API 密钥")
def create_key(body: ApiKeyIn, admin: AdminUser, ctx: Ctx) -> ApiKeyOut:
    return ApiKeyOut(name=body.name, key=accounts.create_api_key(admin, body.name, ctx.uow(), ctx.clock))


@router.get("/api-keys", summary="API 密钥列表")
def list_keys(admin: AdminUser, uow: UowDep) -> list[ApiKeyInfoOut]:
    with uow:
        keys = uow.accounts.api_keys()
    return [ApiKeyInfoOut(name=n, created_at=c, created_by=b, revoked_at=r) for n, c, b, r in keys]


@router.delete("/api-keys/{name}", status_code=status.HTTP_204_NO_CONTENT, summary="吊销 API 密钥")
def revoke_key(name: Annotated[str, Path(min_length=2, max_length=64)], admin: AdminUser, ctx: Ctx) -> None:
    accounts.revoke_api_key(admin, name, ctx.uow(), ctx.clock)


@router.get("/audit", summary="审计记录（登录、拒绝访问、管理操作），新的在前")
def audit(
    admin: AdminUser,
    uow: UowDep,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=48)] = None,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AuditOut]:
    with uow:
        rows = uow.audit.recent(actor=actor, action=action, before_id=before_id, limit=limit)
    return [
        AuditOut(id=i, at=at, actor=a, action=act, target=tg, client=cl, details=d) for i, at, a, act, tg, cl, d in rows
    ]
