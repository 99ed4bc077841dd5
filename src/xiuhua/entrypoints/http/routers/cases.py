"""Cases: report (idempotent), list with filters and a cursor, detail, one POST per workflow action,
duplicate suggestions, photos, and the caller's task queue."""

# No `from __future__ import annotations` here: each action's route is built in a loop around its own
# body model, and FastAPI must see those models as real classes.

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Response, status
from pydantic import AwareDatetime, Field, create_model

from xiuhua.cases.domain.commands import ActOnCase
from xiuhua.cases.domain.idempotency import MAX_KEY_LENGTH
from xiuhua.cases.domain.workflow import ACTION_LABELS, STATE_LABELS, Action, Source, State
from xiuhua.cases.services.lifecycle import act_on_case, report_case
from xiuhua.cases.views import queries
from xiuhua.cases.views.queries import CaseFilter, CaseSummary
from xiuhua.entrypoints.http.deps import ClockDep, Ctx, CurrentUser, PolicyDep, StaffUser, UowDep
from xiuhua.entrypoints.http.intake import locate, report_command, stored_photos
from xiuhua.entrypoints.http.schemas.cases import (
    CASE_NO,
    SHA256,
    ActedOut,
    CaseDetailOut,
    CaseIn,
    CaseSummaryOut,
    DuplicateOut,
    PageOut,
    Photos,
    ReportedOut,
)
from xiuhua.entrypoints.http.schemas.common import BBOX_PATTERN, ERRORS, MAX_ID, In
from xiuhua.geo.adapters.crs import Crs, to_wgs84
from xiuhua.kernel.errors import InvalidInputError
from xiuhua.org.domain.model import ClassKind

router = APIRouter(tags=["案件"], responses=ERRORS)
CaseNo = Annotated[str, Path(pattern=CASE_NO, description="案件编号")]


def summary_out(s: CaseSummary) -> CaseSummaryOut:
    return CaseSummaryOut(
        case_no=s.case_no, state=s.state, state_label=s.state_label, source=s.source, kind=s.kind,
        class_code=s.class_code, urgency=s.urgency, description=s.description, address=s.address, lon=s.lon,
        lat=s.lat, district_code=s.district_code, street_code=s.street_code, community_code=s.community_code,
        grid_code=s.grid_code, department_code=s.department_code, reported_at=s.reported_at,
        current_step=s.current_step, due_at=s.due_at, overdue=s.overdue, seconds_left=s.seconds_left,
    )  # fmt: skip


CASE_LINKS = {
    "case": {"operationId": "case_detail", "parameters": {"case_no": "$response.body#/case_no"},
             "description": "新立（或幂等键找回）的案件"},
}  # fmt: skip


@router.post(
    "/cases",
    status_code=status.HTTP_201_CREATED,
    summary="上报问题（幂等）",
    tags=["案件"],
    responses={
        200: {
            "model": ReportedOut,
            "description": "同一调用方以同一幂等键重试同一上报：返回原案件",
            "links": CASE_LINKS,
        },
        201: {"description": "已立新案", "links": CASE_LINKS},
    },
)
def create_case(
    body: CaseIn,
    response: Response,
    user: CurrentUser,
    ctx: Ctx,
    policy: PolicyDep,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=MAX_KEY_LENGTH)
    ] = None,
) -> ReportedOut:
    """Returns 201 for a new case, 200 when the idempotency key names an existing one."""
    location = locate(ctx, body.lon, body.lat, body.crs, body.address, body.community_code, body.area_class)
    cmd = report_command(
        ctx, user, kind=body.kind, class_code=body.class_code, description=body.description, location=location,
        source=body.source, urgency=body.urgency, reporter=body.reporter, reporter_phone=body.reporter_phone,
        component_id=body.component_id, idempotency_key=idempotency_key or body.idempotency_key, photos=body.photos,
    )  # fmt: skip
    done = report_case(cmd, ctx.uow(), ctx.clock, policy)
    if not done.created:
        response.status_code = status.HTTP_200_OK
    return ReportedOut(
        case_no=done.case_no,
        created=done.created,
        duplicates=[DuplicateOut(case_no=no, metres=m) for no, m in done.duplicates],
        repeat_of=done.repeat_of,
    )


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in text.split(","))
    except ValueError:
        raise InvalidInputError("query.bad_bbox", "范围应为 最小经度,最小纬度,最大经度,最大纬度") from None
    return x0, y0, x1, y1


@router.get("/cases", summary="案件列表（筛选、游标分页）")
def list_cases(
    user: CurrentUser,
    uow: UowDep,
    state: Annotated[list[State] | None, Query(description="状态，可重复")] = None,
    kind: ClassKind | None = None,
    class_code: Annotated[str | None, Query(pattern=r"^[0-9]{5}$")] = None,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{6}([0-9]{3}){0,2}$", description="区划代码")] = None,
    department: Annotated[str | None, Query(pattern=r"^[0-9A-Z]{18}$", description="处置部门信用代码")] = None,
    overdue: bool | None = None,
    source: Source | None = None,
    reported_from: AwareDatetime | None = None,
    reported_to: AwareDatetime | None = None,
    bbox: Annotated[
        str | None, Query(max_length=100, pattern=BBOX_PATTERN, description="最小经度,最小纬度,最大经度,最大纬度")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$")] = None,
) -> PageOut:
    where = CaseFilter(
        states=tuple(state or ()), kind=kind, class_code=class_code, region_code=region, department_code=department,
        overdue=overdue, source=source, reported_from=reported_from, reported_to=reported_to, bbox=_bbox(bbox),
        limit=limit, after=int(cursor) if cursor else None,
    )  # fmt: skip
    page = queries.list_cases(user, where, uow)
    return PageOut(
        items=[summary_out(s) for s in page.items],
        next_cursor=str(page.next_cursor) if page.next_cursor is not None else None,
    )


@router.get("/cases/duplicates", summary="上报前查询疑似重复案件")
def duplicates(
    user: StaffUser,
    ctx: Ctx,
    policy: PolicyDep,
    kind: ClassKind,
    class_code: Annotated[str, Query(pattern=r"^[0-9]{5}$")],
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    crs: Crs = Crs.WGS84,
) -> list[DuplicateOut]:
    wgs_lon, wgs_lat = (float(v) for v in to_wgs84(lon, lat, crs))
    found = queries.duplicate_candidates(user.actor, kind, class_code, wgs_lon, wgs_lat, ctx.clock.now(), policy,
                                         ctx.uow())  # fmt: skip
    return [DuplicateOut(case_no=no, metres=m, state=s) for no, m, s in found]


@router.get("/cases/{case_no}", summary="案件详情：各环节期限与完整日志", operation_id="case_detail")
def case_detail(case_no: CaseNo, user: CurrentUser, uow: UowDep, clock: ClockDep) -> CaseDetailOut:
    d = queries.case_detail(user, case_no, uow, clock.now())
    s = summary_out(d.summary)
    return CaseDetailOut(
        **s.model_dump(),
        reporter=d.reporter, reporter_phone=d.reporter_phone, component_id=d.component_id, area_class=d.area_class,
        verified=d.verified, check_passed=d.check_passed, standard_id=d.standard_id, disposal_limit=d.disposal_limit,
        handler=d.handler, duplicate_of=d.duplicate_of, repeat_of=d.repeat_of, dispatched_at=d.dispatched_at,
        closed_at=d.closed_at, pending_extension=d.pending_extension, counters=d.counters,
        steps=d.steps, log=d.log, photos=d.photos, urges=d.urges,  # type: ignore[arg-type]
        allowed_actions=[a.value for a in d.allowed_actions],
    )  # fmt: skip


@router.get(
    "/cases/{case_no}/photos/{sha256}",
    summary="案件照片",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}},
)
def case_photo(case_no: CaseNo, sha256: Annotated[str, Path(pattern=SHA256)], user: CurrentUser, ctx: Ctx) -> Response:
    content_type = queries.photo_of_case(user, case_no, sha256, ctx.uow())
    return Response(ctx.evidence.get(sha256), media_type=content_type, headers={"Cache-Control": "private"})


@router.get("/tasks", summary="我的待办（按角色与管辖范围，附期限倒计时）")
def my_tasks(
    user: StaffUser, uow: UowDep, clock: ClockDep, limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 100
) -> list[CaseSummaryOut]:
    return [summary_out(s) for s in queries.task_queue(user, clock.now(), uow, limit)]


# ----- one POST per workflow action ---------------------------------------------------------------
_FIELDS: dict[str, tuple[Any, Any]] = {
    "reason": (str, Field(default="", max_length=500, description="原因或说明")),
    "photos": (Photos, Field(default_factory=list, max_length=9, description="照片 SHA-256（先经 /evidence 上传）")),
    "standard_id": (int | None, Field(default=None, ge=1, le=MAX_ID, description="立案条件编号")),
    "department_code": (
        str | None,
        Field(default=None, pattern=r"^[0-9A-Z]{18}$", description="处置部门信用代码；不填按路由建议"),
    ),
    "handler": (str | None, Field(default=None, max_length=64, description="部门内的处置人")),
    "extension": (str | None, Field(default=None, max_length=32, description="申请延长的时限，如 1工作日")),
    "duplicate_of": (str | None, Field(default=None, pattern=CASE_NO, description="与之重复的主案件编号")),
}
ACTION_FIELDS: dict[Action, tuple[str, ...]] = {
    Action.ACCEPT: ("reason",),
    Action.SEND_VERIFY: ("reason",),
    Action.VERIFY: ("reason", "photos"),
    Action.REFUTE: ("reason", "photos"),
    Action.FILE: ("reason", "standard_id"),
    Action.VOID: ("reason", "duplicate_of"),
    Action.DISPATCH: ("reason", "department_code", "handler"),
    Action.RETURN: ("reason",),
    Action.REQUEST_EXTENSION: ("reason", "extension"),
    Action.REQUEST_PARK: ("reason",),
    Action.APPROVE: ("reason",),
    Action.REJECT: ("reason",),
    Action.RESUME: ("reason",),
    Action.FEEDBACK: ("reason", "photos"),
    Action.SEND_CHECK: ("reason",),
    Action.CHECK_PASS: ("reason", "photos"),
    Action.CHECK_FAIL: ("reason", "photos"),
    Action.REWORK: ("reason",),
    Action.CLOSE: ("reason",),
    Action.URGE: ("reason",),
}


def _add_action_route(action: Action) -> None:
    fields = {name: _FIELDS[name] for name in ACTION_FIELDS[action]}
    model = create_model(f"{''.join(w.title() for w in action.value.split('_'))}In", __base__=In, **fields)  # type: ignore[call-overload]

    def act(
        case_no: CaseNo,
        user: StaffUser,
        ctx: Ctx,
        policy: PolicyDep,
        body: Annotated[model | None, Body()] = None,  # type: ignore[valid-type]
    ) -> ActedOut:
        values: dict[str, Any] = body.model_dump() if body is not None else {}
        cmd = ActOnCase(
            case_no=case_no,
            action=action,
            actor=user.actor,
            reason=values.get("reason", ""),
            standard_id=values.get("standard_id"),
            department_code=values.get("department_code"),
            handler=values.get("handler"),
            extension=values.get("extension"),
            duplicate_of=values.get("duplicate_of"),
            photos=stored_photos(ctx, values.get("photos", [])),
        )
        done = act_on_case(cmd, ctx.uow(), ctx.clock, policy)
        return ActedOut(case_no=done.case_no, state=done.state, state_label=STATE_LABELS[done.state],
                        due_at=done.due_at, seq=done.seq, department_code=done.department_code)  # fmt: skip

    router.add_api_route(
        f"/cases/{{case_no}}/{action.value}",
        act,
        methods=["POST"],
        summary=f"{ACTION_LABELS[action]}（{action.value}）",
        operation_id=f"case_{action.value}",
        response_model=ActedOut,
        tags=["案件办理"],
    )


for _action in ACTION_FIELDS:
    _add_action_route(_action)

# Every action on the new case is linked from the report (OpenAPI links: clients and stateful tests follow them).
CASE_LINKS.update(
    {
        action.value: {"operationId": f"case_{action.value}", "parameters": {"case_no": "$response.body#/case_no"}}
        for action in ACTION_FIELDS
    }
)
