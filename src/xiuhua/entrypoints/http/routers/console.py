"""Read models for the web console: today's key figures, the dispatch suggestion, a point snapped to its
unit grid with the nearest component, names for codes, and the citizen's rating of a closed case."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, status
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import and_, case, func, select

from xiuhua.cases.domain.workflow import State
from xiuhua.cases.services import queries
from xiuhua.cases.services.access import access_case
from xiuhua.cases.services.lifecycle import _suggest
from xiuhua.entrypoints.http.deps import Ctx, CurrentUser, PolicyDep, StaffUser, UowDep, require_roles
from xiuhua.entrypoints.http.schemas.cases import CASE_NO
from xiuhua.entrypoints.http.schemas.common import ERRORS, In
from xiuhua.evaluation.domain.model import INDICATORS, ObjectType
from xiuhua.evaluation.services import campaigns, rewards
from xiuhua.evaluation.services import evaluate as evaluation
from xiuhua.geo.adapters.crs import Crs
from xiuhua.geo.domain.geography import Place
from xiuhua.geo.services import geography, layers
from xiuhua.geo.services.components import nearest_component
from xiuhua.kernel.actor import SYSTEM_ACTOR, Role
from xiuhua.kernel.errors import ConflictError, ForbiddenError, NotFoundError
from xiuhua.org.domain.accounts import Principal
from xiuhua.org.domain.model import ClassKind
from xiuhua.platform.db import tables as t

router = APIRouter(prefix="/console", tags=["控制台"], responses=ERRORS)
SH = ZoneInfo("Asia/Shanghai")
CaseNo = Annotated[str, Path(pattern=CASE_NO, description="案件编号")]
_C = t.cases.c
_L = t.case_log.c
OPEN = [s.value for s in State if not s.final]
RATED = "citizen.rate"


def _day_start(now: datetime) -> datetime:
    local = now.astimezone(SH)
    return datetime.combine(local.date(), time(0), SH)


def _ranked(rows: Any, names: dict[str, str]) -> list[dict[str, Any]]:
    out = [{"code": c, "name": names.get(c, c), "open": int(n), "overdue": int(o or 0)} for c, n, o in rows]
    return sorted(out, key=lambda r: -int(r["open"]))


@router.get("/figures", summary="今日关键指标与按区、按部门的在办与超期案件数")
def figures(user: StaffUser, ctx: Ctx) -> dict[str, Any]:
    now = ctx.clock.now()
    start = _day_start(now)
    scope = queries.scope_clause(user.actor)
    in_scope = select(_C.id).where(scope)
    with ctx.uow() as uow:
        conn = uow.connection
        reported = conn.execute(select(func.count()).where(scope, _C.reported_at >= start)).scalar_one()
        acted: dict[str, int] = dict(
            conn.execute(
                select(_L.action, func.count())
                .where(_L.at >= start, _L.case_id.in_(in_scope), _L.action.in_(["file", "dispatch", "close"]))
                .group_by(_L.action)
            ).all()
        )
        timed = conn.execute(
            select(func.count(), func.sum(case((_L.on_time.is_(True), 1), else_=0))).where(
                _L.at >= start, _L.case_id.in_(in_scope), _L.on_time.is_not(None)
            )
        ).one()
        overdue = conn.execute(select(func.count()).where(scope, _C.overdue.is_(True), _C.state.in_(OPEN))).scalar_one()
        open_count = func.count()
        late = func.sum(case((_C.overdue.is_(True), 1), else_=0))
        districts = conn.execute(
            select(_C.district_code, open_count, late).where(scope, _C.state.in_(OPEN)).group_by(_C.district_code)
        ).all()
        departments = conn.execute(
            select(_C.department_code, open_count, late)
            .where(scope, _C.state.in_(OPEN), _C.department_code.is_not(None))
            .group_by(_C.department_code)
        ).all()
        region_names = dict(conn.execute(select(t.regions.c.code, t.regions.c.name)).all())
        org_names = dict(conn.execute(select(t.organizations.c.code, t.organizations.c.name)).all())
    total, on_time = int(timed[0] or 0), int(timed[1] or 0)
    return {
        "day": start.date().isoformat(),
        "reported": int(reported),
        "filed": int(acted.get("file", 0)),
        "dispatched": int(acted.get("dispatch", 0)),
        "closed": int(acted.get("close", 0)),
        "overdue": int(overdue),
        "on_time_rate": round(on_time / total, 4) if total else None,
        "districts": _ranked(districts, region_names),
        "departments": _ranked(departments, org_names)[:15],
    }


@router.get("/names", summary="区划与单位的名称（代码 → 名称）")
def names(user: StaffUser, uow: UowDep) -> dict[str, dict[str, str]]:
    with uow:
        regions = dict(uow.connection.execute(select(t.regions.c.code, t.regions.c.name)).all())
        orgs = dict(uow.connection.execute(select(t.organizations.c.code, t.organizations.c.name)).all())
    return {"regions": regions, "organizations": orgs}


@router.get("/cases/{case_no}/suggestion", summary="派遣建议：部件的权属部门，否则按路由规则")
def suggestion(case_no: CaseNo, user: StaffUser, uow: UowDep, policy: PolicyDep) -> dict[str, str | None]:
    with uow:
        found = access_case(uow, user.actor, case_no)
        code = _suggest(uow, found, policy)
        name = (
            uow.connection.execute(select(t.organizations.c.name).where(t.organizations.c.code == code)).scalar()
            if code
            else None
        )
    return {"department_code": code, "department_name": name}


@router.get("/cases/{case_no}/standards", summary="立案时可选的立案条件（与案件同类别）")
def standards_for(case_no: CaseNo, user: StaffUser, uow: UowDep) -> list[dict[str, Any]]:
    with uow:
        found = access_case(uow, user.actor, case_no)
        rows = [s for s in uow.catalog.standards() if s.kind is found.kind and s.code == found.class_code]
    return [
        {"id": s.id, "filing_condition": s.filing_condition, "closing_condition": s.closing_condition,
         "limits": {area or "全部": str(limit) for area, limit in s.limits.items()}}
        for s in rows
    ]  # fmt: skip


@router.get("/departments", summary="可派遣的专业部门")
def departments(user: StaffUser, uow: UowDep) -> list[dict[str, str]]:
    o = t.organizations.c
    with uow:
        rows = uow.connection.execute(select(o.code, o.name).where(o.kind == "department").order_by(o.name)).all()
    return [{"code": code, "name": name} for code, name in rows]


def _place_out(place: Place) -> dict[str, Any]:
    return {
        "district_code": place.district_code, "district_name": place.district_name,
        "street_code": place.street_code, "street_name": place.street_name,
        "community_code": place.community_code, "community_name": place.community_name,
        "grid_code": place.grid_code, "area_class": place.area_class,
    }  # fmt: skip


@router.get("/locate", summary="定位：坐标所在的单元网格、社区，以及指定类别最近的部件")
def locate_point(
    user: CurrentUser,
    ctx: Ctx,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    class_code: Annotated[str | None, Query(pattern=r"^[0-9]{5}$")] = None,
    radius: Annotated[float, Query(gt=0, le=500)] = 50,
) -> dict[str, Any]:
    place = geography.locate(lon, lat, Crs.WGS84, ctx.locator())
    out: dict[str, Any] = {"lon": lon, "lat": lat, **_place_out(place), "component": None}
    if class_code and not user.is_citizen:
        near = nearest_component(ctx.uow(), class_code, lon, lat, radius)
        if near is not None:
            c = near.component
            out["component"] = {"id": c.id, "name": c.name, "metres": round(near.distance_m, 1),
                                "department_name": c.department_name}  # fmt: skip
    return out


@router.get(
    "/outline.geojson",
    summary="城市区界（公开，供市民页面底图）",
    responses={200: {"content": {"application/geo+json": {}}}},
)
def outline(ctx: Ctx) -> JSONResponse:
    data = layers.layer_geojson(ctx.uow(), "districts", (-180.0, -85.0, 180.0, 85.0), Crs.WGS84)
    return JSONResponse(data, media_type="application/geo+json", headers={"Cache-Control": "max-age=3600"})


@router.get("/nearby", summary="附近是否已有同类问题（市民上报前的重复提示，不含案件编号）")
def nearby(
    user: CurrentUser,
    ctx: Ctx,
    policy: PolicyDep,
    kind: ClassKind,
    class_code: Annotated[str, Query(pattern=r"^[0-9]{5}$")],
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
) -> dict[str, Any]:
    # a count and a distance only, no case numbers: every nearby case counts, whoever asks
    found = queries.duplicate_candidates(SYSTEM_ACTOR, kind, class_code, lon, lat, ctx.clock.now(), policy, ctx.uow())
    return {"count": len(found), "nearest_metres": round(min((m for _, m, _ in found), default=0.0), 1)}


class RatingIn(In):
    score: int = Field(ge=1, le=5, description="满意度 1–5 分")
    comment: str = Field(default="", max_length=500)


@router.post("/cases/{case_no}/rating", status_code=status.HTTP_201_CREATED, summary="市民对已结案件评价")
def rate_case(case_no: CaseNo, body: RatingIn, user: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    if not user.is_citizen:
        raise ForbiddenError("rating.citizen_only", "只有上报该问题的市民可以评价")
    detail = queries.case_detail(user, case_no, ctx.uow(), ctx.clock.now())
    if detail.summary.state is not State.CLOSED:
        raise ConflictError("rating.not_closed", f"案件 {case_no} 尚未结案，结案后才能评价", case_no=case_no)
    if _rating(ctx, case_no) is not None:
        raise ConflictError("rating.duplicate", f"案件 {case_no} 已评价过", case_no=case_no)
    # The rating is kept in the append-only audit trail, keyed by the case number.
    with ctx.uow() as uow:
        uow.audit.add(ctx.clock.now(), user.username, RATED, case_no, "", score=body.score, comment=body.comment)
        uow.commit()
    return {"case_no": case_no, "score": body.score, "comment": body.comment}


def _rating(ctx: Ctx, case_no: str) -> dict[str, Any] | None:
    a = t.audit_events.c
    with ctx.uow() as uow:
        row = uow.connection.execute(
            select(a.details).where(and_(a.action == RATED, a.target == case_no)).order_by(a.id).limit(1)
        ).first()
    return dict(json.loads(row[0])) if row else None


@router.get("/cases/{case_no}/rating", summary="案件的市民评价")
def get_rating(case_no: CaseNo, user: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    queries.case_detail(user, case_no, ctx.uow(), ctx.clock.now())  # scope check
    found = _rating(ctx, case_no)
    if found is None:
        raise NotFoundError("rating.not_found", f"案件 {case_no} 尚无评价", case_no=case_no)
    return {"case_no": case_no, **found}


# ----- evaluation (read only) -----------------------------------------------------------------------
Evaluator = Annotated[Principal, Depends(require_roles(Role.LEADER, Role.SHIFT_LEADER, Role.ADMIN))]
PeriodText = Annotated[
    str,
    Path(
        pattern=r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?|-W[0-9]{2}|-Q[1-4])?(~[0-9]{4}-[0-9]{2}-[0-9]{2})?$",
        description="考核期：2026-11、2026-11-05、2026-W45、2026-Q4、2026 或 2026-11-01~2026-11-15",
    ),
]
ObjectCode = Annotated[str, Query(pattern=r"^[0-9A-Za-z_.\-]{1,64}$")]


@router.get("/evaluation/{period}", summary="考核排名：某类对象在某期的得分、等级与指标")
def evaluation_ranking(
    period: PeriodText, user: Evaluator, uow: UowDep, object_type: ObjectType = ObjectType.DISTRICT
) -> dict[str, Any]:
    result = evaluation.evaluate(evaluation.Evaluate(period, trend_periods=1), uow)
    return {
        "period": result.period, "first_day": result.first_day, "last_day": result.last_day,
        "scheme_version": result.scheme_version, "revision": result.revision, "cases": result.cases,
        "object_type": object_type.value, "object_label": object_type.label,
        "indicators": [{"code": i.code, "name": i.name, "kind": i.kind.value} for i in INDICATORS[object_type]],
        "objects": [asdict(o) for o in result.objects.get(object_type.value, [])][:200],
        "hotspots": [asdict(h) for h in result.hotspots[:20]],
    }  # fmt: skip


@router.get("/evaluation/{period}/drill", summary="指标下钻：构成分子、分母的案件")
def evaluation_drill(
    period: PeriodText, user: Evaluator, uow: UowDep, object_type: ObjectType, code: ObjectCode, indicator: ObjectCode
) -> dict[str, Any]:
    return asdict(evaluation.drill(evaluation.Drill(period, object_type.value, code, indicator), uow))


@router.get("/rewards/{period}", summary="奖惩台账：各部门合计与明细")
def reward_ledger(period: PeriodText, user: Evaluator, uow: UowDep) -> dict[str, Any]:
    ledger = rewards.reward_ledger(rewards.ShowLedger(period), uow)
    return {
        "period": ledger.period, "rules_version": ledger.rules_version, "fund_yuan": str(ledger.fund_yuan),
        "totals": [{**asdict(d), "yuan": str(d.yuan)} for d in ledger.totals],
        "entries": [{**asdict(e), "yuan": str(e.yuan)} for e in ledger.entries[:300]],
    }  # fmt: skip


@router.get("/campaigns", summary="专项行动及其进度")
def campaign_list(
    user: Evaluator, uow: UowDep, period: Annotated[str | None, Query(pattern=r"^[0-9]{4}(-[0-9]{2})?$")] = None
) -> list[dict[str, Any]]:
    found = campaigns.load_campaigns(uow)
    out = []
    for c in found:
        progress = campaigns.campaign_progress(campaigns.ShowProgress(c.code, period), uow)
        body = asdict(progress)
        for target in [*body["targets"], *(g for u in body["units"] for g in u["targets"])]:
            del target["numerator_cases"], target["denominator_cases"]  # case lists: the drill-down's job
        out.append(body)
    return out
