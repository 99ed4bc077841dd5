"""Read access for staff: organisation, catalog, case standards, time limits, routing, calendar, and the
map layers (unit grids and components) as GeoJSON."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

import shapely
from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from xiuhua.cases.services import policy, vocabulary
from xiuhua.entrypoints.http.deps import StaffUser, UowDep
from xiuhua.entrypoints.http.routers.cases import _bbox
from xiuhua.entrypoints.http.schemas.admin import FeatureCollectionOut, ScheduleOut, TableName, TableOut
from xiuhua.entrypoints.http.schemas.common import BBOX_PATTERN, ERRORS
from xiuhua.entrypoints.http.schemas.reference import WorkflowOut
from xiuhua.geo.domain.components import ComponentFilter
from xiuhua.geo.services import components
from xiuhua.kernel.actor import Role
from xiuhua.kernel.errors import InvalidInputError
from xiuhua.org.domain.calendar import Schedule
from xiuhua.org.services import calendar as calendar_service
from xiuhua.org.services import catalog
from xiuhua.org.services import structure as org
from xiuhua.ports import ApplicationUnitOfWork

router = APIRouter(tags=["组织与标准"], responses=ERRORS)
GEOJSON = "application/geo+json"
MAX_FEATURES = 5000

READERS: dict[TableName, tuple[Sequence[str], Callable[[ApplicationUnitOfWork], Sequence[Sequence[object]]]]] = {
    TableName.REGIONS: (org.REGION_COLUMNS, org.export_regions),
    TableName.ORGANIZATIONS: (org.ORGANIZATION_COLUMNS, org.export_organizations),
    TableName.STAFF: (org.STAFF_COLUMNS, org.export_staff),
    TableName.CLASSES: (catalog.CLASS_COLUMNS, catalog.export_classes),
    TableName.STANDARDS: (catalog.STANDARD_COLUMNS, catalog.export_standards),
    TableName.STEP_LIMITS: (policy.STEP_LIMIT_COLUMNS, policy.export_step_limits),
    TableName.ROUTING: (policy.ROUTING_COLUMNS, policy.export_routing),
    TableName.CALENDAR_DAYS: (calendar_service.DAY_COLUMNS, calendar_service.export_days),
}


def read_table(name: TableName, uow: ApplicationUnitOfWork, admin: bool) -> TableOut:
    columns, export = READERS[name]
    rows = [[str(v) for v in row] for row in export(uow)]
    if name is TableName.STAFF and not admin:  # staff phones are for administrators
        phone = columns.index("phone")
        rows = [[*r[:phone], "", *r[phone + 1 :]] for r in rows]
    return TableOut(name=name, columns=list(columns), rows=rows)


@router.get("/tables/{name}", summary="读取组织、目录、时限、路由或日历表")
def get_table(name: TableName, user: StaffUser, uow: UowDep) -> TableOut:
    return read_table(name, uow, Role.ADMIN in user.roles)


@router.get(
    "/reference/workflow",
    summary="流程词汇：状态、操作、环节、来源与角色的名称，须填理由、可附照片的操作（公开）",
)
def workflow(response: Response) -> WorkflowOut:
    response.headers["Cache-Control"] = "max-age=300"
    return WorkflowOut.model_validate(vocabulary.workflow_vocabulary())


@router.get("/calendar/schedules", summary="作息时间表")
def schedules(user: StaffUser, uow: UowDep) -> list[ScheduleOut]:
    with uow:
        stored = uow.calendar.schedules()
    return [schedule_out(s) for s in stored]


def schedule_out(s: Schedule) -> ScheduleOut:
    season = (
        f"{s.season[0][0]:02d}-{s.season[0][1]:02d}:{s.season[1][0]:02d}-{s.season[1][1]:02d}" if s.season else None
    )
    return ScheduleOut(name=s.name, periods=",".join(str(p) for p in s.periods), season=season)


def _geojson(features: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse({"type": "FeatureCollection", "features": features}, media_type=GEOJSON)


def _require_bbox(text: str) -> tuple[float, float, float, float]:
    box = _bbox(text)
    assert box is not None
    x0, y0, x1, y1 = box
    if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
        raise InvalidInputError("query.bad_bbox", "范围应为 最小经度,最小纬度,最大经度,最大纬度（WGS84）")
    return box


BBox = Annotated[
    str, Query(max_length=100, pattern=BBOX_PATTERN, description="最小经度,最小纬度,最大经度,最大纬度（WGS84）")
]


@router.get(
    "/grids.geojson",
    summary="单元网格（GeoJSON）",
    tags=["地图图层"],
    response_model=FeatureCollectionOut,
    responses={200: {"content": {GEOJSON: {}}}},
)
def grids(user: StaffUser, uow: UowDep, bbox: BBox) -> JSONResponse:
    box = shapely.box(*_require_bbox(bbox))
    with uow:
        found = uow.geo.grids()
    features = [
        {"type": "Feature", "id": code, "geometry": shapely.geometry.mapping(geom),
         "properties": {"code": code, "area_class": area}}
        for code, geom, area in found
        if geom.intersects(box)
    ][:MAX_FEATURES]  # fmt: skip
    return _geojson(features)


@router.get(
    "/components.geojson",
    summary="部件（GeoJSON）",
    tags=["地图图层"],
    response_model=FeatureCollectionOut,
    responses={200: {"content": {GEOJSON: {}}}},
)
def component_layer(
    user: StaffUser,
    uow: UowDep,
    bbox: BBox,
    class_code: Annotated[str | None, Query(pattern=r"^[0-9]{5}$")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_FEATURES)] = 1000,
) -> JSONResponse:
    where = ComponentFilter(bbox=_require_bbox(bbox), class_code=class_code, limit=limit)
    features = [
        {"type": "Feature", "id": c.id, "geometry": shapely.geometry.mapping(c.geometry),
         "properties": {"id": c.id, "name": c.name, "status": c.status.value, "department_code": c.department_code,
                        "department_name": c.department_name, "grid_code": c.grid_code}}
        for c in components.find_components(uow, where)
    ]  # fmt: skip
    return _geojson(features)


@router.get("/components/{component_id}", summary="部件详情（GeoJSON Feature）", tags=["地图图层"])
def component(
    component_id: Annotated[str, Path(pattern=r"^[0-9]{17}$")], user: StaffUser, uow: UowDep
) -> dict[str, object]:
    c = components.get_component(uow, component_id)
    return {
        "type": "Feature",
        "id": c.id,
        "geometry": shapely.geometry.mapping(c.geometry),
        "properties": {
            "id": c.id, "name": c.name, "status": c.status.value, "department_code": c.department_code,
            "department_name": c.department_name, "grid_code": c.grid_code, "initial_date": c.initial_date.isoformat(),
            "community_code": c.community_code, "version": c.version,
        },
    }  # fmt: skip
