"""Evaluation over HTTP: the whole result as JSON, XLSX or HTML, hot-spot drill-down, freezing, appeals."""

from __future__ import annotations

import json
from dataclasses import asdict
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import BaseModel, Field

from xiuhua.entrypoints.http.deps import Ctx, UowDep, require_roles
from xiuhua.entrypoints.http.schemas.common import ERRORS, MAX_ID, PERIOD_PATTERN
from xiuhua.evaluation.adapters.reports.html import render_html
from xiuhua.evaluation.adapters.reports.xlsx import render_xlsx
from xiuhua.evaluation.services import evaluate as evaluation
from xiuhua.kernel.actor import Role
from xiuhua.kernel.errors import ForbiddenError
from xiuhua.org.domain.accounts import Principal

router = APIRouter(prefix="/evaluations", tags=["综合评价"], responses=ERRORS)
Evaluator = Annotated[Principal, Depends(require_roles(Role.LEADER, Role.SHIFT_LEADER, Role.ADMIN))]
Decider = Annotated[Principal, Depends(require_roles(Role.LEADER, Role.ADMIN))]
Appellant = Annotated[Principal, Depends(require_roles(Role.HANDLER, Role.LEADER, Role.ADMIN))]
PeriodText = Annotated[
    str,
    Path(
        max_length=32,
        pattern=PERIOD_PATTERN,
        description="时段：2026-10（月）、2026-10-05（日）、2026-W41（周）、2026-Q4（季）、2026（年）、"
        "2026-10-01~2026-10-15（任意区间）",
    ),
]


class Format(StrEnum):
    json = "json"
    xlsx = "xlsx"
    html = "html"


_MEDIA = {
    Format.json: "application/json; charset=utf-8",
    Format.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Format.html: "text/html; charset=utf-8",
}


@router.get(
    "/{period}",
    summary="某时段的完整评价结果：排名、等级、指标、趋势与热点（JSON、XLSX 或 HTML）",
    response_class=Response,
    responses={200: {"content": {m: {} for m in _MEDIA.values()}}},
)
def evaluate(
    period: PeriodText,
    user: Evaluator,
    uow: UowDep,
    format: Annotated[Format, Query(description="json、xlsx（每类对象一张表）或 html（离线可看的报告）")] = Format.json,
    trend: Annotated[int, Query(ge=0, le=24, description="趋势包含此前多少个同类时段")] = 5,
    live: Annotated[bool, Query(description="已冻结的时段也按案件记录重新计算")] = False,
) -> Response:
    result = evaluation.evaluate(evaluation.Evaluate(period, trend, live), uow)
    text = evaluation.canonical_json(result)
    if format is Format.json:
        return Response(text, media_type=_MEDIA[format])
    document = json.loads(text)
    body = render_xlsx(document) if format is Format.xlsx else render_html(document).encode("utf-8")
    filename = f"evaluation-{result.period}.{format.value}"
    return Response(
        body, media_type=_MEDIA[format], headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.get("/{period}/hotspots/{key}", summary="热点下钻：该热点本期立案的案件")
def hotspot_cases(
    period: PeriodText, key: Annotated[str, Path(pattern=r"^-?[0-9]+\|-?[0-9]+\|[0-9A-Za-z]{1,8}$")],
    user: Evaluator, uow: UowDep,
) -> dict[str, Any]:  # fmt: skip
    return {"period": period, "key": key, "case_nos": evaluation.hotspot_cases(period, key, uow)}


@router.post("/{period}/freeze", status_code=status.HTTP_201_CREATED, summary="冻结某时段的评价结果（版本 1）")
def freeze(period: PeriodText, user: Decider, ctx: Ctx) -> dict[str, Any]:
    sha = evaluation.freeze_period(evaluation.FreezePeriod(period, user.username), ctx.uow(), ctx.clock)
    return {"period": period, "revision": 1, "sha256": sha}


@router.get("/{period}/audit", summary="某时段的冻结、申诉与审批记录")
def audit(period: PeriodText, user: Evaluator, uow: UowDep) -> list[dict[str, Any]]:
    return [_plain(row) for row in evaluation.audit_trail(period, uow)]


@router.get("/{period}/appeals", summary="某时段的申诉及审批结果")
def appeals(period: PeriodText, user: Evaluator, uow: UowDep) -> list[dict[str, Any]]:
    return [_plain(row) for row in evaluation.list_appeals(period, uow)]


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


class AppealIn(BaseModel):
    department: str = Field(min_length=1, max_length=18, description="申诉部门代码（处置员只能为本部门申诉）")
    indicator: str = Field(min_length=1, max_length=48, description="被扣分的指标代码，如 on_time_disposal_rate")
    case_no: str = Field(min_length=1, max_length=20)
    reason: str = Field(min_length=1, max_length=2000)


@router.post("/{period}/appeals", status_code=status.HTTP_201_CREATED, summary="申诉：某案件造成的某项扣分")
def file_appeal(period: PeriodText, body: AppealIn, user: Appellant, ctx: Ctx) -> dict[str, Any]:
    own = user.scope_organization_code
    if not user.roles & {Role.LEADER, Role.ADMIN} and own != body.department:
        raise ForbiddenError("evaluation.not_your_department", "处置员只能为本部门申诉", department=body.department)
    cmd = evaluation.FileAppeal(period, "department", body.department, body.indicator, body.case_no, body.reason,
                                user.username)  # fmt: skip
    return {"appeal_id": evaluation.file_appeal(cmd, ctx.uow(), ctx.clock), "status": "pending"}


class DecisionIn(BaseModel):
    approve: bool
    reason: str = Field(min_length=1, max_length=2000)


@router.post("/appeals/{appeal_id}/decision", summary="审批申诉：批准则生成冻结结果的新版本并记审计")
def decide_appeal(
    appeal_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: DecisionIn, user: Decider, ctx: Ctx
) -> dict[str, Any]:
    cmd = evaluation.DecideAppeal(appeal_id, body.approve, body.reason, user.username)
    return asdict(evaluation.decide_appeal(cmd, ctx.uow(), ctx.clock))
