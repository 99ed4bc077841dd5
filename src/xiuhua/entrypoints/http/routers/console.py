"""Read models for the web console: today's key figures, the dispatch suggestion, a point snapped to its
unit grid with the nearest component, names for codes, and the citizen's rating of a closed case."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status
from fastapi.responses import JSONResponse
from pydantic import Field

from xiuhua.cases.services import rating
from xiuhua.cases.views import dashboard, queries
from xiuhua.entrypoints.http.deps import Ctx, CurrentUser, PolicyDep, StaffUser, UowDep, require_roles
from xiuhua.entrypoints.http.schemas.cases import CASE_NO
from xiuhua.entrypoints.http.schemas.common import ERRORS, In
from xiuhua.evaluation.domain.model import INDICATORS, ObjectType
from xiuhua.evaluation.domain.rewards import OUTCOMES
from xiuhua.evaluation.services import campaigns, rewards
from xiuhua.evaluation.services import evaluate as evaluation
from xiuhua.geo.adapters.crs import Crs
from xiuhua.geo.domain.geography import Place
from xiuhua.geo.services import geography, layers
from xiuhua.geo.services.components import nearest_component
from xiuhua.kernel.actor import SYSTEM_ACTOR, Role
from xiuhua.org.domain.accounts import Principal
from xiuhua.org.domain.model import ClassKind

router = APIRouter(prefix="/console", tags=["控制台"], responses=ERRORS)
CaseNo = Annotated[str, Path(pattern=CASE_NO, description="案件编号")]


@router.get("/figures", summary="今日关键指标与按区、按部门的在办与超期案件数")
def figures(user: StaffUser, ctx: Ctx) -> dict[str, Any]:
    return asdict(dashboard.day_figures(user.actor, ctx.clock.now(), ctx.uow()))


@router.get("/names", summary="区划与单位的名称（代码 → 名称）")
def names(user: StaffUser, uow: UowDep) -> dict[str, dict[str, str]]:
    return asdict(dashboard.code_names(uow))


@router.get("/cases/{case_no}/suggestion", summary="派遣建议：部件的权属部门，否则按路由规则")
def suggestion(case_no: CaseNo, user: StaffUser, uow: UowDep, policy: PolicyDep) -> dict[str, str | None]:
    code, name = dashboard.dispatch_suggestion(user.actor, case_no, uow, policy)
    return {"department_code": code, "department_name": name}


@router.get("/cases/{case_no}/standards", summary="立案时可选的立案条件（与案件同类别）")
def standards_for(case_no: CaseNo, user: StaffUser, uow: UowDep) -> list[dict[str, Any]]:
    return [
        {"id": s.id, "filing_condition": s.filing_condition, "closing_condition": s.closing_condition,
         "limits": {area or "全部": str(limit) for area, limit in s.limits.items()}}
        for s in dashboard.filing_standards(user.actor, case_no, uow)
    ]  # fmt: skip


@router.get("/departments", summary="可派遣的专业部门")
def departments(user: StaffUser, uow: UowDep) -> list[dict[str, str]]:
    return [{"code": code, "name": name} for code, name in dashboard.departments(uow)]


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
    comment: str = Field(default="", max_length=rating.MAX_COMMENT)


@router.post("/cases/{case_no}/rating", status_code=status.HTTP_201_CREATED, summary="市民对已结案件评价")
def rate_case(case_no: CaseNo, body: RatingIn, user: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    done = rating.rate_case(rating.RateCase(user, case_no, body.score, body.comment), ctx.uow(), ctx.clock)
    return {"case_no": done.case_no, "score": done.score, "comment": done.comment}


@router.get("/cases/{case_no}/rating", summary="案件的市民评价")
def get_rating(case_no: CaseNo, user: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    found = rating.case_rating(user, case_no, ctx.uow())
    return {"case_no": found.case_no, "score": found.score, "comment": found.comment}


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


@router.get("/rewards/{period}", summary="奖惩台账：各单位（区、街道、部门、岗位）合计与明细")
def reward_ledger(period: PeriodText, user: Evaluator, uow: UowDep) -> dict[str, Any]:
    ledger = rewards.reward_ledger(rewards.ShowLedger(period), uow)
    names = {(t.unit_type, t.code): t.name for t in ledger.totals}
    return {
        "period": ledger.period, "rules_version": ledger.rules_version, "fund_yuan": str(ledger.fund_yuan),
        "unallocated_yuan": str(ledger.unallocated_yuan),
        "totals": [{"unit_type": t.unit_type.value, "unit_label": t.unit_type.label, "code": t.code, "name": t.name,
                    "points": t.points, "award_yuan": str(t.award_yuan), "deducted_yuan": str(t.deducted_yuan),
                    "yuan": str(t.yuan), "from_deposit_yuan": str(t.from_deposit_yuan)} for t in ledger.totals],
        "entries": [{"unit_type": e.unit_type.value, "unit": e.unit, "name": names.get(e.key, e.unit),
                     "layer": e.layer, "outcome": e.outcome, "outcome_name": OUTCOMES.get(e.outcome, e.outcome),
                     "case_no": e.case_no, "points": e.points, "yuan": str(e.yuan), "period": e.period}
                    for e in ledger.entries[:300]],
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
