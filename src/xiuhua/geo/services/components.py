"""Use cases of the component register: register, change, remove, import, export, query, nearest, history.

Every write appends a version (see adapters/db/component_repository.py); removing is the status 移除, never
a deleted row. Imports validate every row first (row-numbered errors), then write all or nothing, set-based.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from shapely.errors import GEOSException
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from xiuhua.geo.adapters.vector_files import Layer
from xiuhua.geo.domain.components import (
    ID_2013_LENGTH,
    RECORD_FIELDS,
    AccuracyClass,
    Component,
    ComponentFilter,
    ComponentStatus,
    DataSource,
    class_of,
    component_id_from_2013,
    representative_lonlat,
    validate_component_id,
)
from xiuhua.geo.ports import GeoUnitOfWork
from xiuhua.kernel.errors import ConflictError, DomainError, InvalidInputError, NotFoundError
from xiuhua.kernel.ports import Clock, Progress, no_progress
from xiuhua.org.domain.model import ClassKind
from xiuhua.org.services.calendar import DEFAULT_TIMEZONE, TIMEZONE_KEY
from xiuhua.platform.importing import ImportReport, RowError, check_columns, parse_rows, settle
from xiuhua.platform.tabular import Row

# GB/T 47678.5 table 2 names, the header a bureau expects; 几何 (WKT) is ours, filled only for lines and
# polygons so that an export imports back unchanged.
EXPORT_COLUMNS = (
    "标识码",
    "名称",
    "主管部门代码",
    "主管部门名称",
    "权属单位代码",
    "权属单位名称",
    "养护单位代码",
    "养护单位名称",
    "所在单元网格标识码",
    "状态",
    "初始日期",
    "变更日期",
    "数据来源",
    "备注",
    "所在街道代码",
    "所在街道名称",
    "所在社区代码",
    "所在社区名称",
    "定位精度",
    "经度",
    "纬度",
    "几何",
)
FIELDS = (*RECORD_FIELDS, "geometry")
LAYER_COLUMNS = EXPORT_COLUMNS[:-1]
"""The attribute columns of a GeoPackage or GeoJSON export: the geometry is the feature's own."""
_HEADER_ALIASES = dict(zip(EXPORT_COLUMNS, FIELDS, strict=True)) | {
    "部件标识码": "id",
    "部件名称": "name",
    "单元网格标识码": "grid_code",
    "定位精度等级": "accuracy",
    "X": "lon",
    "Y": "lat",
    "longitude": "lon",
    "latitude": "lat",
    "wkt": "geometry",
}
# Pinyin initials of the table-2 names: a Shapefile (.dbf) field name holds at most 10 bytes.
_SHAPEFILE_ALIASES = {
    "BSM": "id",
    "BJMC": "name",
    "ZGBMDM": "department_code",
    "ZGBMMC": "department_name",
    "QSDWDM": "owner_code",
    "QSDWMC": "owner_name",
    "YHDWDM": "maintainer_code",
    "YHDWMC": "maintainer_name",
    "DYWGBSM": "grid_code",
    "ZT": "status",
    "CSRQ": "initial_date",
    "BGRQ": "change_date",
    "SJLY": "data_source",
    "BZ": "remark",
    "JDDM": "street_code",
    "JDMC": "street_name",
    "SQDM": "community_code",
    "SQMC": "community_name",
    "DWJD": "accuracy",
}
_HEADER_ALIASES |= _SHAPEFILE_ALIASES
REQUIRED_COLUMNS = ("id", "name", "department_code", "department_name", "grid_code", "status", "initial_date")
SYSTEM_ACTOR = "system"
_DATE = re.compile(r"([0-9]{4})[-/.]?([0-9]{1,2})[-/.]?([0-9]{1,2})(?:[ T]00:00(?::00)?)?")
_METRES_PER_DEGREE_MIN = 110_000.0  # below any meridian degree: the bbox prefilter never clips the radius
_EARTH_RADIUS_M = 6_371_008.8


# ----- commands and results ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RegisterComponent:
    component: Component
    actor: str


@dataclass(frozen=True, slots=True)
class UpdateComponent:
    """The full new record of a stored component; ``expected_version`` is the version the editor read."""

    component: Component
    expected_version: int
    actor: str


@dataclass(frozen=True, slots=True)
class RemoveComponent:
    component_id: str
    expected_version: int
    actor: str
    remark: str | None = None


@dataclass
class ComponentImportReport(ImportReport):
    added: int = 0
    changed: int = 0
    unchanged: int = 0


@dataclass(frozen=True, slots=True)
class NearestComponent:
    component: Component
    distance_m: float


@dataclass(frozen=True, slots=True)
class ComponentVersion:
    """One stored version: the record, when it held (UTC; ``valid_to`` None while current), who wrote it,
    and what it changed from the version before as (field, old, new) texts."""

    component: Component
    valid_from: datetime
    valid_to: datetime | None
    changed_by: str
    changes: tuple[tuple[str, str, str], ...]


# ----- one component -----------------------------------------------------------------------------
def _today(uow: GeoUnitOfWork, now: datetime) -> date:
    return now.astimezone(ZoneInfo(uow.settings.get(TIMEZONE_KEY, DEFAULT_TIMEZONE))).date()


def register_component(cmd: RegisterComponent, uow: GeoUnitOfWork, clock: Clock) -> Component:
    """Add a new component as version 1; raises ConflictError ``component.duplicate`` for a known id and
    InvalidInputError ``component.unknown_class`` when its class is not a component class of the catalog."""
    with uow:
        _check_class(uow, cmd.component.id)
        if uow.components.get(cmd.component.id) is not None:
            raise ConflictError("component.duplicate", f"部件标识码 {cmd.component.id} 已登记", id=cmd.component.id)
        stored = dataclasses.replace(cmd.component, version=1)
        uow.components.add([stored], clock.now(), cmd.actor)
        uow.commit()
    return stored


def update_component(cmd: UpdateComponent, uow: GeoUnitOfWork, clock: Clock) -> Component:
    """Store a changed record as a new version (the change date defaults to today, local time). An identical
    record writes nothing. Raises NotFoundError ``component.not_found`` and ConflictError ``component.conflict``
    when the stored version is not ``expected_version`` (someone else changed it meanwhile)."""
    with uow:
        now = clock.now()
        stored = uow.components.get(cmd.component.id)
        if stored is None:
            raise NotFoundError("component.not_found", f"部件 {cmd.component.id} 未登记", id=cmd.component.id)
        if stored.version != cmd.expected_version:
            raise ConflictError(
                "component.conflict",
                f"部件 {stored.id} 已被他人修改（当前第 {stored.version} 版，您读取的是第 {cmd.expected_version} 版），"
                "请刷新后重试",
                id=stored.id,
                version=stored.version,
            )
        new = dataclasses.replace(cmd.component, version=stored.version)
        if new.same_record(stored):
            return stored
        if new.change_date is None or new.change_date == stored.change_date:
            new = dataclasses.replace(new, change_date=max(_today(uow, now), new.initial_date))
        uow.components.change([new], now, cmd.actor)  # re-checks the version in the UPDATE itself
        uow.commit()
    return dataclasses.replace(new, version=stored.version + 1)


def remove_component(cmd: RemoveComponent, uow: GeoUnitOfWork, clock: Clock) -> Component:
    """Mark a component 移除 (removed): a new version, the history kept; raises as ``update_component``."""
    with uow:
        stored = uow.components.get(cmd.component_id)
    if stored is None:
        raise NotFoundError("component.not_found", f"部件 {cmd.component_id} 未登记", id=cmd.component_id)
    removed = dataclasses.replace(
        stored, status=ComponentStatus.REMOVED, change_date=None, remark=cmd.remark or stored.remark
    )
    return update_component(UpdateComponent(removed, cmd.expected_version, cmd.actor), uow, clock)


def get_component(uow: GeoUnitOfWork, component_id: str) -> Component:
    with uow:
        found = uow.components.get(component_id)
    if found is None:
        raise NotFoundError("component.not_found", f"部件 {component_id} 未登记", id=component_id)
    return found


def component_history(uow: GeoUnitOfWork, component_id: str) -> list[ComponentVersion]:
    """Every version of a component, oldest first, each with the fields it changed; raises NotFoundError."""
    with uow:
        versions = uow.components.versions(component_id)
    if not versions:
        raise NotFoundError("component.not_found", f"部件 {component_id} 未登记", id=component_id)
    out: list[ComponentVersion] = []
    before: tuple[str, ...] | None = None
    for record, valid_from, valid_to, actor in versions:
        after = export_row(record)
        pairs = zip(EXPORT_COLUMNS, before or after, after, strict=True)
        changes = tuple((name, old, new) for name, old, new in pairs if old != new)
        out.append(ComponentVersion(record, valid_from, valid_to, actor, changes))
        before = after
    return out


def _check_class(uow: GeoUnitOfWork, component_id: str) -> None:
    code = class_of(validate_component_id(component_id))
    if not uow.catalog.has_class(ClassKind.COMPONENT, code):
        raise InvalidInputError("component.unknown_class", f"部件类别代码“{code}”不在部件目录中", code=code)


# ----- reading -----------------------------------------------------------------------------------
def find_components(uow: GeoUnitOfWork, where: ComponentFilter) -> list[Component]:
    """Current components by bbox, grid, community, class, department/owner/maintainer, status; ≤ limit."""
    with uow:
        return uow.components.find(where)


def component_state_at(uow: GeoUnitOfWork, component_id: str, moment: datetime) -> Component | None:
    """The record as it stood at ``moment`` (aware), or None when not yet registered then."""
    _aware(moment)
    with uow:
        return uow.components.state_at(component_id, moment)


def component_census_at(uow: GeoUnitOfWork, moment: datetime, where: ComponentFilter) -> list[Component]:
    """Every component as registered at ``moment`` (aware), filtered like ``find_components``."""
    _aware(moment)
    with uow:
        return uow.components.census_at(moment, where)


def _aware(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise InvalidInputError("time.naive", f"时间 {moment} 缺少时区")


def haversine_m(lon: float, lat: float, lons: np.ndarray[Any, Any], lats: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Great-circle distances in metres from one point to many (WGS84 mean radius)."""
    lam1, phi1 = math.radians(lon), math.radians(lat)
    lam2, phi2 = np.radians(lons), np.radians(lats)
    a = np.sin((phi2 - phi1) / 2) ** 2 + math.cos(phi1) * np.cos(phi2) * np.sin((lam2 - lam1) / 2) ** 2
    result: np.ndarray[Any, Any] = 2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
    return result


def nearest_component(
    uow: GeoUnitOfWork, class_code: str, lon: float, lat: float, max_metres: float
) -> NearestComponent | None:
    """The nearest current (not removed) component of a class whose representative point lies within
    ``max_metres`` of (lon, lat): a bbox prefilter in SQL, then exact great-circle distances."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInputError("component.bad_location", f"经纬度（{lon}, {lat}）超出范围", lon=lon, lat=lat)
    if not max_metres > 0:
        raise InvalidInputError("component.bad_radius", f"搜索半径 {max_metres} 米应大于 0")
    dlat = max_metres / _METRES_PER_DEGREE_MIN
    cos_lat = math.cos(math.radians(min(89.9, abs(lat) + dlat)))
    dlon = min(180.0, max_metres / (_METRES_PER_DEGREE_MIN * cos_lat))
    bbox = (max(-180.0, lon - dlon), max(-90.0, lat - dlat), min(180.0, lon + dlon), min(90.0, lat + dlat))
    with uow:
        candidates = uow.components.points_in(class_code, bbox)
        if not candidates:
            return None
        ids = [c[0] for c in candidates]
        distances = haversine_m(lon, lat, np.array([c[1] for c in candidates]), np.array([c[2] for c in candidates]))
        order = np.lexsort((np.array(ids), distances))  # nearest first, ties by id
        best = int(order[0])
        if distances[best] > max_metres:
            return None
        component = uow.components.get(ids[best])
    assert component is not None
    return NearestComponent(component, float(distances[best]))


# ----- export ------------------------------------------------------------------------------------
def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def export_row(c: Component) -> tuple[str, ...]:
    wkt = "" if isinstance(c.geometry, Point) else shapely.to_wkt(c.geometry, rounding_precision=-1)
    values = (
        c.id, c.name, c.department_code, c.department_name, c.owner_code, c.owner_name, c.maintainer_code,
        c.maintainer_name, c.grid_code, c.status.value, c.initial_date, c.change_date,
        c.data_source.value if c.data_source else None, c.remark, c.street_code, c.street_name, c.community_code,
        c.community_name, c.accuracy.value if c.accuracy else None, c.lon, c.lat, wkt,
    )  # fmt: skip
    return tuple(_text(v) for v in values)


def export_components(uow: GeoUnitOfWork, where: ComponentFilter | None = None) -> list[tuple[str, ...]]:
    """Rows under EXPORT_COLUMNS (all current components unless filtered), ordered by id."""
    with uow:
        return [export_row(c) for c in uow.components.iter(where or ComponentFilter(include_removed=True, limit=None))]


def export_component_layer(
    uow: GeoUnitOfWork, where: ComponentFilter | None = None
) -> list[tuple[tuple[object, ...], BaseGeometry]]:
    """Features under LAYER_COLUMNS with their WGS84 geometry (for GeoPackage/GeoJSON), ordered by id;
    longitude and latitude stay numbers, every other value is text as in the CSV export."""
    out: list[tuple[tuple[object, ...], BaseGeometry]] = []
    with uow:
        for c in uow.components.iter(where or ComponentFilter(include_removed=True, limit=None)):
            values: list[object] = list(export_row(c)[: len(LAYER_COLUMNS)])
            values[LAYER_COLUMNS.index("经度")], values[LAYER_COLUMNS.index("纬度")] = c.lon, c.lat
            out.append((tuple(values), c.geometry))
    return out


# ----- import ------------------------------------------------------------------------------------
def _canonical(row: Row) -> Row:
    return Row(row.number, {_HEADER_ALIASES.get(k.strip(), k.strip()): v for k, v in row.values.items()})


def _parse_date(text: str, what: str) -> date:
    if not text:
        raise InvalidInputError("component.bad_date", f"缺少{what}")
    match = _DATE.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise InvalidInputError("component.bad_date", f"{what}“{text}”无效，应为 YYYY-MM-DD") from None


def _parse_float(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInputError("component.bad_location", f"{what}“{text}”不是数字") from None
    if not math.isfinite(value):
        raise InvalidInputError("component.bad_location", f"{what}“{text}”不是有限数值")
    return value


def _parse_geometry(text: str) -> BaseGeometry:
    try:
        geometry = shapely.from_wkt(text)
    except (GEOSException, ValueError) as exc:
        raise InvalidInputError("component.bad_geometry", f"几何“{text[:40]}”无法解析：{exc}") from None
    return geometry


def parse_component(row: Row, geometry: BaseGeometry | None = None) -> Component:
    """One import row (canonical column names) as a Component; a 16-digit 2013 id is mapped to 17 digits.
    Without a geometry column the location is the point (经度, 纬度)."""
    raw_id = row.get("id")
    component_id = component_id_from_2013(raw_id) if len(raw_id) == ID_2013_LENGTH else validate_component_id(raw_id)
    if geometry is None and row.get("geometry"):
        geometry = _parse_geometry(row.get("geometry"))
    lon_text, lat_text = row.get("lon"), row.get("lat")
    if geometry is None:
        if not lon_text or not lat_text:
            raise InvalidInputError("component.bad_location", "缺少经纬度（经度、纬度）或几何")
        lon, lat = _parse_float(lon_text, "经度"), _parse_float(lat_text, "纬度")
        geometry = Point(lon, lat)
    elif lon_text and lat_text:
        lon, lat = _parse_float(lon_text, "经度"), _parse_float(lat_text, "纬度")
    elif isinstance(geometry, BaseGeometry) and not geometry.is_empty:
        lon, lat = representative_lonlat(geometry)
    else:
        raise InvalidInputError("component.bad_geometry", "几何为空")
    status_text = row.get("status")
    if not status_text:
        raise InvalidInputError("component.bad_status", "缺少状态")

    def opt(name: str) -> str | None:
        return row.get(name) or None

    source, accuracy = row.get("data_source"), row.get("accuracy")
    return Component(
        id=component_id,
        name=row.get("name"),
        department_code=row.get("department_code"),
        department_name=row.get("department_name"),
        grid_code=row.get("grid_code"),
        status=ComponentStatus.parse(status_text),
        initial_date=_parse_date(row.get("initial_date"), "初始日期"),
        geometry=geometry,
        lon=lon,
        lat=lat,
        accuracy=AccuracyClass.parse(accuracy) if accuracy else None,
        owner_code=opt("owner_code"),
        owner_name=opt("owner_name"),
        maintainer_code=opt("maintainer_code"),
        maintainer_name=opt("maintainer_name"),
        change_date=_parse_date(row.get("change_date"), "变更日期") if row.get("change_date") else None,
        data_source=DataSource.parse(source) if source else None,
        remark=opt("remark"),
        street_code=opt("street_code"),
        street_name=opt("street_name"),
        community_code=opt("community_code"),
        community_name=opt("community_name"),
    )


def import_components(
    rows: Sequence[Row],
    uow: GeoUnitOfWork,
    clock: Clock,
    *,
    actor: str = SYSTEM_ACTOR,
    skip_invalid: bool = False,
    progress: Progress = no_progress,
) -> ComponentImportReport:
    """Register or change components from a CSV/XLSX table (table-2 headers in Chinese or the English field
    names). Every row is validated first; any defect rejects the whole file (ImportRejectedError with row
    numbers) unless ``skip_invalid``. A row identical to the stored record writes nothing."""
    rows = [_canonical(r) for r in rows]
    check_columns(rows, *REQUIRED_COLUMNS)
    return _import([(r, None) for r in rows], uow, clock, actor, skip_invalid, progress)


def import_component_features(
    features: Sequence[Mapping[str, Any]],
    uow: GeoUnitOfWork,
    clock: Clock,
    *,
    actor: str = SYSTEM_ACTOR,
    skip_invalid: bool = False,
    progress: Progress = no_progress,
) -> ComponentImportReport:
    """As ``import_components`` for GeoJSON features (numbered from 1): the properties carry the record,
    the feature geometry the location (lon/lat properties, if given, the representative point)."""
    items: list[tuple[Row, BaseGeometry | DomainError | None]] = []
    for number, feature in enumerate(features, start=1):
        props = feature.get("properties") or {}
        row = _canonical(Row(number, {str(k): "" if v is None else str(v) for k, v in props.items()}))
        geometry: BaseGeometry | DomainError | None = None
        if feature.get("geometry"):
            try:
                geometry = shape(feature["geometry"])
            except (GEOSException, ValueError, TypeError, KeyError, AttributeError) as exc:
                geometry = InvalidInputError("component.bad_geometry", f"GeoJSON 几何无法解析：{exc}")
        items.append((row, geometry))
    return _import(items, uow, clock, actor, skip_invalid, progress)


def import_component_layer(
    layer: Layer,
    uow: GeoUnitOfWork,
    clock: Clock,
    *,
    actor: str = SYSTEM_ACTOR,
    skip_invalid: bool = False,
    progress: Progress = no_progress,
) -> ComponentImportReport:
    """As ``import_components`` for a vector file read into WGS84 (GeoJSON, Shapefile, GeoPackage): errors
    carry the feature id. A point feature is its own location; for a line or polygon the 经度/纬度
    attributes, if present, give the representative point."""
    items: list[tuple[Row, BaseGeometry | DomainError | None]] = []
    for feature in layer.features:
        values = {str(k): "" if v is None else str(v) for k, v in feature.properties.items()}
        row = _canonical(Row(feature.fid, values))
        if isinstance(feature.geometry, Point):
            # the file's own coordinates, reprojected: lon/lat attributes could only disagree with them
            row.values.pop("lon", None)
            row.values.pop("lat", None)
        items.append((row, feature.geometry))
    return _import(items, uow, clock, actor, skip_invalid, progress)


def _import(
    items: Sequence[tuple[Row, BaseGeometry | DomainError | None]],
    uow: GeoUnitOfWork,
    clock: Clock,
    actor: str,
    skip_invalid: bool,
    progress: Progress = no_progress,
) -> ComponentImportReport:
    with uow:
        known = {c.code for c in uow.catalog.classes() if c.kind is ClassKind.COMPONENT}
    geometries = {row.number: geom for row, geom in items}

    def parse(row: Row) -> Component:
        geometry = geometries[row.number]
        if isinstance(geometry, DomainError):
            raise geometry
        component = parse_component(row, geometry)
        if component.class_code not in known:
            raise InvalidInputError("component.unknown_class", f"部件类别代码“{component.class_code}”不在部件目录中")
        return component

    progress("检查部件", 0, len(items))
    parsed, errors = parse_rows([row for row, _ in items], parse)
    seen: dict[str, int] = {}
    valid: list[Component] = []
    for row, component in parsed:
        if component.id in seen:
            errors.append(
                RowError(row.number, "component.duplicate", f"标识码 {component.id} 与第 {seen[component.id]} 行重复")
            )
            continue
        seen[component.id] = row.number
        valid.append(component)
    skipped = settle(errors, skip_invalid)
    report = ComponentImportReport(skipped=skipped)
    with uow:
        now = clock.now()
        for i in range(0, len(valid), _IMPORT_CHUNK):
            chunk = valid[i : i + _IMPORT_CHUNK]
            stored = uow.components.get_many([c.id for c in chunk])
            added, changed = _split(chunk, stored)
            report.unchanged += len(chunk) - len(added) - len(changed)
            uow.components.add(added, now, actor)
            uow.components.change(changed, now, actor)
            report.added += len(added)
            report.changed += len(changed)
            progress("写入部件", min(i + _IMPORT_CHUNK, len(valid)), len(valid))
        uow.commit()
    report.written = report.added + report.changed
    return report


_IMPORT_CHUNK = 5000


def _split(chunk: Sequence[Component], stored: Mapping[str, Component]) -> tuple[list[Component], list[Component]]:
    """New components, and changed ones carrying the stored version; identical records are dropped."""
    added: list[Component] = []
    changed: list[Component] = []
    for c in chunk:
        old = stored.get(c.id)
        if old is None:
            added.append(c)
        elif not c.same_record(old):
            # object.__setattr__ on a frozen dataclass: replace() would validate the record a second time
            object.__setattr__(c, "version", old.version)
            changed.append(c)
    return added, changed


__all__ = [
    "EXPORT_COLUMNS",
    "LAYER_COLUMNS",
    "ComponentImportReport",
    "ComponentVersion",
    "NearestComponent",
    "RegisterComponent",
    "RemoveComponent",
    "UpdateComponent",
    "component_census_at",
    "component_history",
    "component_state_at",
    "export_component_layer",
    "export_components",
    "find_components",
    "get_component",
    "import_component_features",
    "import_component_layer",
    "import_components",
    "nearest_component",
    "register_component",
    "remove_component",
    "update_component",
]
