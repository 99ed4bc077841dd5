"""Thematic layers: the catalogue, GeoJSON for a viewport, and Mapbox vector tiles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from xiuhua.entrypoints.http.deps import StaffUser, UowDep
from xiuhua.entrypoints.http.schemas.common import BBOX_PATTERN, ERRORS
from xiuhua.geo.adapters.crs import Crs
from xiuhua.geo.domain.layers import MAX_ZOOM
from xiuhua.geo.services import layers

router = APIRouter(prefix="/layers", tags=["地图图层"], responses=ERRORS)
Code = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.\-]{1,64}$", description="图层代码")]
MVT = "application/vnd.mapbox-vector-tile"


@router.get("", summary="图层目录")
def list_layers(user: StaffUser, uow: UowDep) -> list[dict[str, Any]]:
    return [
        {
            "code": layer.code,
            "name": layer.name,
            "category": layer.category,
            "min_zoom": layer.min_zoom,
            "max_zoom": layer.max_zoom,
            "geojson_min_zoom": layer.geojson_min_zoom,
            "visible": layer.visible,
            "style": layer.style,
            "geojson": f"/api/v1/layers/{layer.code}.geojson",
            "tiles": f"/api/v1/layers/{layer.code}/tiles/{{z}}/{{x}}/{{y}}.mvt",
        }
        for layer in layers.list_layers(uow)
    ]


@router.get(
    "/{code}.geojson", summary="视口内的图层要素（GeoJSON）", responses={200: {"content": {"application/geo+json": {}}}}
)
def layer_geojson(
    code: Code,
    user: StaffUser,
    uow: UowDep,
    bbox: Annotated[
        str, Query(max_length=100, pattern=BBOX_PATTERN, description="最小经度,最小纬度,最大经度,最大纬度")
    ],
    crs: Crs = Crs.WGS84,
) -> JSONResponse:
    data = layers.layer_geojson(uow, code, layers.parse_bbox(bbox), crs)
    return JSONResponse(data, media_type="application/geo+json")


@router.get(
    "/{code}/tiles/{z}/{x}/{y}.mvt",
    summary="矢量瓦片（MVT）",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}},
)
def layer_tile(
    code: Code,
    z: Annotated[int, Path(ge=0, le=MAX_ZOOM)],
    x: Annotated[int, Path(ge=0, le=2**MAX_ZOOM - 1)],
    y: Annotated[int, Path(ge=0, le=2**MAX_ZOOM - 1)],
    user: StaffUser,
    uow: UowDep,
) -> Response:
    return Response(
        layers.layer_tile(uow, code, z, x, y), media_type=MVT, headers={"Cache-Control": "private, max-age=60"}
    )
