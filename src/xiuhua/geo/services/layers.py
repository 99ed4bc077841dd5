"""Use cases of thematic layers: the registry (list, get, put, remove, import, export, seed) and the map
data of a layer, as GeoJSON for a small extent or as a Mapbox vector tile for any extent.

An HTTP route is one call: ``layer_geojson(uow, code, bbox, crs)`` or ``layer_tile(uow, code, z, x, y)``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import shapely
from numpy.typing import NDArray

from xiuhua.geo.adapters import tiles
from xiuhua.geo.adapters.crs import Crs, from_wgs84, to_wgs84
from xiuhua.geo.domain.layers import MAX_ZOOM, Layer, SourceFilter, SourceKind, parse_style, style_text
from xiuhua.geo.ports import GeoUnitOfWork
from xiuhua.kernel.errors import InvalidInputError, NotFoundError
from xiuhua.platform import packagedata
from xiuhua.platform.importing import ImportReport, RowError, check_columns, parse_rows, settle
from xiuhua.platform.tabular import Row

DEFAULT_LAYERS: Final = "layers/default_layers.csv"
LAYER_COLUMNS: Final = (
    "code",
    "name",
    "category",
    "source",
    "filter",
    "style",
    "min_zoom",
    "max_zoom",
    "geojson_min_zoom",
    "visible",
    "sort_order",
)
GEOJSON_LIMIT: Final = 5000
"""Most features one GeoJSON answer carries; a larger extent is drawn from vector tiles."""

_COORDINATE_DECIMALS: Final = 7  # about 1 cm: finer than any survey behind the data
_HEADER_ALIASES: Final = {
    "代码": "code",
    "图层代码": "code",
    "名称": "name",
    "图层名称": "name",
    "分类": "category",
    "数据来源": "source",
    "来源": "source",
    "筛选": "filter",
    "筛选条件": "filter",
    "样式": "style",
    "最小级别": "min_zoom",
    "最大级别": "max_zoom",
    "GeoJSON起始级别": "geojson_min_zoom",
    "默认显示": "visible",
    "排序": "sort_order",
}
_TRUE, _FALSE = ("是", "true", "yes", "1", "y"), ("否", "false", "no", "0", "n")

Bounds = tuple[float, float, float, float]
GeoJson = dict[str, Any]


# ----- the registry --------------------------------------------------------------------------------
def list_layers(uow: GeoUnitOfWork) -> list[Layer]:
    """Every layer in drawing order."""
    with uow:
        return uow.layers.all()


def _stored(uow: GeoUnitOfWork, code: str) -> Layer:
    layer = uow.layers.get(code)
    if layer is None:
        raise NotFoundError("layer.not_found", f"图层“{code}”不存在", code=code)
    return layer


def get_layer(uow: GeoUnitOfWork, code: str) -> Layer:
    """One layer; raises NotFoundError ``layer.not_found``."""
    with uow:
        return _stored(uow, code)


def put_layer(layer: Layer, uow: GeoUnitOfWork) -> Layer:
    """Add a layer or replace the one with its code (the Layer was validated when built)."""
    with uow:
        uow.layers.put(layer)
        uow.commit()
    return layer


def remove_layer(code: str, uow: GeoUnitOfWork) -> None:
    """Delete a layer; raises NotFoundError ``layer.not_found``."""
    with uow:
        if not uow.layers.remove(code):
            raise NotFoundError("layer.not_found", f"图层“{code}”不存在", code=code)
        uow.commit()


def seed_default_layers(uow: GeoUnitOfWork) -> int:
    """Store the product's default layers that are not stored yet (an edited layer is kept as edited);
    returns how many were added. Idempotent."""
    defaults = [parse_layer(_canonical(r)) for r in packagedata.read(DEFAULT_LAYERS)]
    with uow:
        missing = [x for x in defaults if x.code not in uow.layers.codes()]
        uow.layers.put_many(missing)
        uow.commit()
    return len(missing)


# ----- tables --------------------------------------------------------------------------------------
def _canonical(row: Row) -> Row:
    return Row(row.number, {_HEADER_ALIASES.get(k.strip(), k.strip()): v for k, v in row.values.items()})


def _integer(row: Row, column: str, default: int, code: str, what: str) -> int:
    text = row.get(column)
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise InvalidInputError(code, f"{what}“{text}”应为整数", value=text) from None


def _flag(text: str) -> bool:
    word = text.strip().lower()
    if not word or word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise InvalidInputError("layer.bad_visible", f"默认显示“{text}”应为 是 或 否", value=text)


def parse_layer(row: Row) -> Layer:
    """A layer from a table row (columns ``LAYER_COLUMNS``); raises InvalidInputError ``layer.*``."""
    return Layer(
        code=row.get("code"),
        name=row.get("name"),
        category=row.get("category"),
        source=SourceKind.parse(row.get("source")),
        source_filter=SourceFilter.parse(row.get("filter")),
        style=parse_style(row.get("style")),
        min_zoom=_integer(row, "min_zoom", 0, "layer.bad_zoom", "最小缩放级别"),
        max_zoom=_integer(row, "max_zoom", MAX_ZOOM, "layer.bad_zoom", "最大缩放级别"),
        geojson_min_zoom=_integer(row, "geojson_min_zoom", 14, "layer.bad_zoom", "GeoJSON 起始缩放级别"),
        visible=_flag(row.get("visible")),
        sort_order=_integer(row, "sort_order", 0, "layer.bad_sort_order", "排序"),
    )


def import_layers(rows: Sequence[Row], uow: GeoUnitOfWork, *, skip_invalid: bool = False) -> ImportReport:
    """Add or replace layers from a table; every row is checked first, then all are written or none."""
    rows = [_canonical(r) for r in rows]
    check_columns(rows, "code", "name", "category", "source")
    parsed, errors = parse_rows(rows, parse_layer)
    seen: dict[str, int] = {}
    valid = []
    for row, layer in parsed:
        if layer.code in seen:
            errors.append(RowError(row.number, "layer.duplicate", f"与第 {seen[layer.code]} 行重复：{layer.code}"))
            continue
        seen[layer.code] = row.number
        valid.append(layer)
    skipped = settle(errors, skip_invalid)
    with uow:
        uow.layers.put_many(valid)
        uow.commit()
    return ImportReport(len(valid), skipped)


def export_row(layer: Layer) -> tuple[object, ...]:
    return (
        layer.code,
        layer.name,
        layer.category,
        layer.source.value,
        layer.source_filter.text(),
        style_text(layer.style),
        layer.min_zoom,
        layer.max_zoom,
        layer.geojson_min_zoom,
        "是" if layer.visible else "否",
        layer.sort_order,
    )


def export_layers(uow: GeoUnitOfWork) -> list[tuple[object, ...]]:
    """Every layer in the columns ``import_layers`` reads."""
    return [export_row(x) for x in list_layers(uow)]


# ----- features ------------------------------------------------------------------------------------
def parse_bbox(text: str) -> Bounds:
    """``minlon,minlat,maxlon,maxlat`` → a checked bbox; raises ``layer.bad_bbox``."""
    try:
        values = [float(v) for v in text.replace("，", ",").split(",")]
    except ValueError:
        values = []
    if len(values) != 4:
        raise InvalidInputError("layer.bad_bbox", f"范围“{text}”应写作 最小经度,最小纬度,最大经度,最大纬度", value=text)
    return check_bbox((values[0], values[1], values[2], values[3]))


def check_bbox(bbox: Sequence[float]) -> Bounds:
    """Four finite numbers, min < max, within ±180 / ±90; raises ``layer.bad_bbox``."""
    if len(bbox) != 4 or not all(math.isfinite(v) for v in bbox):
        raise InvalidInputError("layer.bad_bbox", "范围应为 4 个有限数：最小经度,最小纬度,最大经度,最大纬度")
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in bbox)
    if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
        raise InvalidInputError(
            "layer.bad_bbox",
            f"范围（{min_lon}, {min_lat}, {max_lon}, {max_lat}）无效：最小值须小于最大值，经度在 ±180、纬度在 ±90 之内",
        )
    return min_lon, min_lat, max_lon, max_lat


def _bbox_to_wgs84(bbox: Bounds, crs: Crs) -> Bounds:
    """A bbox given in ``crs`` as the WGS84 bbox of its four corners."""
    if crs is not Crs.GCJ02:
        return bbox
    lon, lat = to_wgs84(np.array([bbox[0], bbox[2], bbox[0], bbox[2]]), np.array([bbox[1], bbox[1], bbox[3], bbox[3]]),
                        crs)  # fmt: skip
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


def _wkb(blobs: Sequence[bytes]) -> NDArray[np.object_]:
    return shapely.from_wkb(list(blobs)) if blobs else np.empty(0, dtype=object)


def _intersecting(geoms: NDArray[np.object_], props: list[dict[str, Any]], bbox: Bounds) -> tuple[Any, list[Any]]:
    if not len(geoms):
        return geoms, props
    hit = shapely.intersects(geoms, shapely.box(*bbox))
    return geoms[hit], [props[i] for i in np.flatnonzero(hit)]


def _count(uow: GeoUnitOfWork, layer: Layer, bbox: Bounds) -> int:
    source = layer.source
    if source is SourceKind.UNIT_GRIDS:
        return uow.layers.count_grids_in(bbox, layer.source_filter)
    if source is SourceKind.COMPONENTS:
        return uow.layers.count_components_in(bbox, layer.source_filter)
    if source is SourceKind.RESPONSIBILITY_GRIDS:
        return len(uow.layers.responsibility_codes_in(bbox))
    return len(_features(uow, layer, bbox, detail=False)[1])


def _features(uow: GeoUnitOfWork, layer: Layer, bbox: Bounds, *, detail: bool) -> tuple[Any, list[dict[str, Any]]]:
    """(lon/lat geometries, properties) of the layer's features meeting ``bbox``; ``detail`` adds the
    properties a GeoJSON reader wants (names), which tiles leave out to stay small."""
    source, where = layer.source, layer.source_filter
    length = source.region_code_length
    if length is not None:
        rows = uow.layers.region_outlines(length)
        props = [{"code": r.code, "name": r.name, "parent_code": r.parent_code, "synthetic": r.synthetic} for r in rows]
        return _intersecting(_wkb([r.geometry for r in rows]), props, bbox)
    if source is SourceKind.UNIT_GRIDS:
        rows = uow.layers.grids_in(bbox, where, names=detail)
        props = [
            {"code": r.code, "area_class": r.area_class}  # a tile's community is the code's first 12 digits
            | ({"community_code": r.community_code, "community_name": r.community_name,
                "area_m2": round(r.area_m2, 1), "responsibility_code": r.responsibility_code} if detail else {})
            for r in rows
        ]  # fmt: skip
        return _intersecting(_wkb([r.geometry for r in rows]), props, bbox)
    if source is SourceKind.RESPONSIBILITY_GRIDS:
        return _responsibility_features(uow, bbox, whole=detail)
    rows = uow.layers.components_in(bbox, where)
    props = [
        {"id": r.id, "class_code": r.class_code, "status": r.status}
        | ({"name": r.name, "class_name": r.class_name, "department_code": r.department_code,
            "department_name": r.department_name, "grid_code": r.grid_code} if detail else {})
        for r in rows
    ]  # fmt: skip
    return _wkb([r.geometry for r in rows]), props


def _responsibility_features(uow: GeoUnitOfWork, bbox: Bounds, *, whole: bool) -> tuple[Any, list[dict[str, Any]]]:
    """Each responsibility grid as the union of its unit grids: whole (GeoJSON), or only the unit grids
    inside ``bbox`` (a tile, which is clipped to its own extent anyway)."""
    if whole:
        codes = uow.layers.responsibility_codes_in(bbox)
        rows = uow.layers.grids_of_responsibility(codes)
    else:
        rows = [r for r in uow.layers.grids_in(bbox, SourceFilter()) if r.responsibility_code]
    parts: dict[str, list[bytes]] = defaultdict(list)
    for r in rows:
        parts[r.responsibility_code].append(r.geometry)
    names = uow.layers.responsibility_grids(sorted(parts))
    codes = sorted(parts)
    # Unit grids tile their responsibility grid without overlaps: a coverage union is exact and fast.
    geoms = np.array([shapely.coverage_union_all(_wkb(parts[c])) for c in codes], dtype=object)
    props = [
        {"code": c, "name": names.get(c, (c, None))[0], "supervisor": names.get(c, (c, None))[1],
         "grids": len(parts[c])}
        for c in codes
    ]  # fmt: skip
    return geoms, props


def _feature_collection(layer: Layer, geoms: Any, props: Sequence[Mapping[str, Any]], crs: Crs) -> GeoJson:
    def convert(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = from_wgs84(coords[:, 0], coords[:, 1], crs)
        rounded: NDArray[np.float64] = np.column_stack((lon, lat)).round(_COORDINATE_DECIMALS)
        return rounded

    projected = shapely.transform(geoms, convert) if len(geoms) else geoms
    features = [
        {"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": dict(p)}
        for g, p in zip(projected, props, strict=True)
    ]
    return {"type": "FeatureCollection", "layer": layer.code, "crs": crs.value, "features": features}


def layer_geojson(
    uow: GeoUnitOfWork, code: str, bbox: Sequence[float], crs: Crs = Crs.WGS84, limit: int = GEOJSON_LIMIT
) -> GeoJson:
    """The layer's features meeting ``bbox`` (given in ``crs``) as a GeoJSON FeatureCollection with
    coordinates in ``crs``. Raises ``layer.not_found``, ``layer.bad_bbox`` and ``layer.extent_too_large``
    (INVALID) when the extent holds more than ``limit`` features: such an extent is drawn from tiles."""
    box = _bbox_to_wgs84(check_bbox(bbox), crs)
    with uow:
        layer = _stored(uow, code)
        count = _count(uow, layer, box)
        if count > limit:
            raise InvalidInputError(
                "layer.extent_too_large",
                f"范围内有 {count} 个要素，超过 GeoJSON 上限 {limit}：请缩小范围，或改用矢量瓦片"
                f" /api/v1/layers/{code}/tiles/{{z}}/{{x}}/{{y}}.mvt",
                count=count,
                limit=limit,
            )
        geoms, props = _features(uow, layer, box, detail=True)
    return _feature_collection(layer, geoms, props, crs)


def layer_tile(uow: GeoUnitOfWork, code: str, z: int, x: int, y: int) -> bytes:
    """The Mapbox vector tile (z, x, y) of a layer (one MVT layer named by its code, extent 4096); empty
    bytes when the tile holds nothing or the layer does not show at zoom z. Points are clustered below
    zoom ``tiles.POINT_DETAIL_ZOOM``. Raises ``layer.bad_tile`` and ``layer.not_found``."""
    return tiles.encode({code: tile_features(uow, code, z, x, y)})


def tile_features(uow: GeoUnitOfWork, code: str, z: int, x: int, y: int) -> tiles.TileFeatures:
    """The features of tile (z, x, y) of a layer, projected to tile units and ready to encode; raises as
    ``layer_tile``."""
    if not tiles.valid_tile(z, x, y, MAX_ZOOM):
        raise InvalidInputError(
            "layer.bad_tile",
            f"瓦片 {z}/{x}/{y} 无效：级别应在 0～{MAX_ZOOM}，行列号应在 0～2^级别-1 之内",
            z=z,
            x=x,
            y=y,
        )
    with uow:
        layer = _stored(uow, code)
        if not layer.shows_at(z):
            return tiles.TileFeatures(np.empty(0, dtype=object), [])
        bbox = tiles.tile_bounds(z, x, y, tiles.BUFFER)
        if layer.source.points and z < tiles.POINT_DETAIL_ZOOM:
            lon, lat = uow.layers.component_points(bbox, layer.source_filter)
            return tiles.cluster_points(lon, lat, z, x, y)
        geoms, props = _features(uow, layer, bbox, detail=False)
    return tiles.shape_features(geoms, props, z, x, y)
