"""The component register (部件台账): the "ID card" of every public facility, GB/T 47678.5-2026 table 2.

A component id (部件标识码) is 17 digits = 6-digit county-level division code (GB/T 2260) + 5-digit
component class code (GB/T 47678.5-2026: 2-digit major + 3-digit minor class) + 6-digit serial. The
2013-era id (GB/T 30428.2-2013) is 16 digits = 6 + 2 + 2 + 6; ``component_id_from_2013`` maps it.

The location is a shapely geometry (Point, LineString or Polygon) in WGS84/CGCS2000 lon/lat plus one
representative lon/lat (the point itself, or a point on the line or inside the polygon) that the register
indexes for bounding-box and nearest queries. Shapely is a pure value library (no I/O), so the domain
uses it here instead of reinventing geometry validation.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import TypeVar

import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from xiuhua.kernel.errors import InvalidInputError
from xiuhua.org.domain.model import ClassKind, validate_uscc
from xiuhua.org.domain.standards import code_from_2013

ID_LENGTH = 17
ID_2013_LENGTH = 16
GEOMETRY_TYPES = ("Point", "LineString", "Polygon")
_ID = re.compile(r"[0-9]{17}")
_ID_2013 = re.compile(r"[0-9]{16}")
_GRID = re.compile(r"[0-9]{15}")
_STREET = re.compile(r"[0-9]{9}")
_COMMUNITY = re.compile(r"[0-9]{12}")


# The record's fields in their exchange order (the columns of an export, the JSON of a version).
RECORD_FIELDS = (
    "id",
    "name",
    "department_code",
    "department_name",
    "owner_code",
    "owner_name",
    "maintainer_code",
    "maintainer_name",
    "grid_code",
    "status",
    "initial_date",
    "change_date",
    "data_source",
    "remark",
    "street_code",
    "street_name",
    "community_code",
    "community_name",
    "accuracy",
    "lon",
    "lat",
)


E = TypeVar("E", bound=StrEnum)


def _member(cls: type[E], text: str, code: str, what: str) -> E:
    """The member named by its Chinese value or its lower-case English name."""
    word = text.strip()
    for member in cls:
        if word in (member.value, member.name.lower()):
            return member
    allowed = "、".join(m.value for m in cls)
    raise InvalidInputError(code, f"{what}“{text}”无效，可用：{allowed}", value=text)


class ComponentStatus(StrEnum):
    """状态 (GB/T 47678.5 table 2, M). 移除 replaces deletion: a register never forgets a component."""

    INTACT = "完好"
    DAMAGED = "破损"
    MISSING = "丢失"
    ABANDONED = "废弃"
    REMOVED = "移除"

    @classmethod
    def parse(cls, text: str) -> ComponentStatus:
        return _member(cls, text, "component.bad_status", "状态")


class DataSource(StrEnum):
    """数据来源 (table 2, O)."""

    SURVEYED = "实测"
    TOPOGRAPHIC_MAP = "地形图"
    BASE_GEODATA = "基础地理数据"
    OTHER = "其他"

    @classmethod
    def parse(cls, text: str) -> DataSource:
        return _member(cls, text, "component.bad_data_source", "数据来源")


class AccuracyClass(StrEnum):
    """Positional accuracy class: A ±0.5 m (manhole covers, lamps), B ±1 m (bins, kiosks), C ±10 m (bridges)."""

    A = "A"
    B = "B"
    C = "C"

    @property
    def tolerance_m(self) -> float:
        return {"A": 0.5, "B": 1.0, "C": 10.0}[self.value]

    @classmethod
    def parse(cls, text: str) -> AccuracyClass:
        try:
            return cls(text.strip().upper())
        except ValueError:
            raise InvalidInputError(
                "component.bad_accuracy", f"定位精度“{text}”无效，应为 A（±0.5 米）、B（±1 米）或 C（±10 米）"
            ) from None


def validate_component_id(text: str) -> str:
    """Return the id if it is 17 digits (division 6 + class 5 + serial 6); raises InvalidInputError."""
    if not _ID.fullmatch(text):
        raise InvalidInputError(
            "component.bad_id", f"部件标识码“{text}”应为 17 位数字（区划 6 位 + 类别 5 位 + 序号 6 位）", id=text
        )
    return text


def division_of(component_id: str) -> str:
    return component_id[:6]


def class_of(component_id: str) -> str:
    return component_id[6:11]


def component_id_from_2013(old_id: str) -> str:
    """The 17-digit id of a 16-digit 2013-era id (6 + 2 + 2 + 6) through the class code mapping; raises
    InvalidInputError ``component.bad_id`` when malformed, ``component.unmapped_2013_id`` when the 2013
    class has no successor."""
    if not _ID_2013.fullmatch(old_id):
        raise InvalidInputError(
            "component.bad_id",
            f"2013 版部件标识码“{old_id}”应为 16 位数字（区划 6 + 大类 2 + 小类 2 + 序号 6）",
            id=old_id,
        )
    new_class = code_from_2013(ClassKind.COMPONENT, old_id[6:10])
    if new_class is None:
        raise InvalidInputError(
            "component.unmapped_2013_id",
            f"2013 版部件标识码“{old_id}”的类别 {old_id[6:10]} 在 GB/T 47678.5-2026 中没有对应类别",
            id=old_id,
        )
    return f"{old_id[:6]}{new_class}{old_id[10:]}"


def representative_lonlat(geometry: BaseGeometry) -> tuple[float, float]:
    """A point of the geometry that stands for it: the point itself, else shapely's point on the surface."""
    point = geometry if isinstance(geometry, Point) else geometry.representative_point()
    return float(point.x), float(point.y)


# A city's register names a few hundred departments over millions of rows: check each code once.
_validate_uscc = lru_cache(maxsize=4096)(validate_uscc)


def _check_optional_code(code: str | None, name: str | None, what: str) -> None:
    if code is not None:
        _validate_uscc(code)
    if name is not None and not name.strip():
        raise InvalidInputError("component.bad_name", f"{what}名称不能为空白")


def _check_lonlat(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInputError("component.bad_location", f"经纬度（{lon}, {lat}）超出范围", lon=lon, lat=lat)


@dataclass(frozen=True, slots=True)
class Component:
    """One component record (GB/T 47678.5 table 2). ``version`` counts stored versions; 0 before the first."""

    id: str
    name: str
    department_code: str
    department_name: str
    grid_code: str
    status: ComponentStatus
    initial_date: date
    geometry: BaseGeometry = field(compare=False)
    lon: float
    lat: float
    accuracy: AccuracyClass | None = None
    owner_code: str | None = None
    owner_name: str | None = None
    maintainer_code: str | None = None
    maintainer_name: str | None = None
    change_date: date | None = None
    data_source: DataSource | None = None
    remark: str | None = None
    street_code: str | None = None
    street_name: str | None = None
    community_code: str | None = None
    community_name: str | None = None
    version: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        validate_component_id(self.id)
        if not self.name.strip():
            raise InvalidInputError("component.no_name", f"部件 {self.id} 缺少名称", id=self.id)
        _validate_uscc(self.department_code)
        if not self.department_name.strip():
            raise InvalidInputError("component.no_department", f"部件 {self.id} 缺少主管部门名称", id=self.id)
        _check_optional_code(self.owner_code, self.owner_name, "权属单位")
        _check_optional_code(self.maintainer_code, self.maintainer_name, "养护单位")
        if not _GRID.fullmatch(self.grid_code):
            raise InvalidInputError(
                "component.bad_grid", f"所在单元网格标识码“{self.grid_code}”应为 15 位数字", grid=self.grid_code
            )
        if self.street_code is not None and not _STREET.fullmatch(self.street_code):
            raise InvalidInputError("component.bad_street", f"所在街道代码“{self.street_code}”应为 9 位数字")
        if self.community_code is not None and not _COMMUNITY.fullmatch(self.community_code):
            raise InvalidInputError("component.bad_community", f"所在社区代码“{self.community_code}”应为 12 位数字")
        if self.change_date is not None and self.change_date < self.initial_date:
            raise InvalidInputError(
                "component.bad_date", f"变更日期 {self.change_date} 早于初始日期 {self.initial_date}", id=self.id
            )
        self._check_geometry()

    def _check_geometry(self) -> None:
        geom = self.geometry
        if isinstance(geom, Point) and not geom.is_empty:  # the common case, kept cheap for bulk imports
            _check_lonlat(self.lon, self.lat)
            if (geom.x, geom.y) != (self.lon, self.lat):
                raise InvalidInputError(
                    "component.bad_location", f"部件 {self.id} 的代表点经纬度与点位不一致", id=self.id
                )
            return
        if not isinstance(geom, Point | LineString | Polygon) or geom.is_empty:
            kind = getattr(geom, "geom_type", type(geom).__name__)
            raise InvalidInputError(
                "component.bad_geometry", f"部件 {self.id} 的几何“{kind}”无效，应为非空的点、线或面", id=self.id
            )
        if not shapely.is_valid(geom):
            raise InvalidInputError("component.bad_geometry", f"部件 {self.id} 的几何不合法（自相交等）", id=self.id)
        minx, miny, maxx, maxy = geom.bounds
        _check_lonlat(minx, miny)
        _check_lonlat(maxx, maxy)
        _check_lonlat(self.lon, self.lat)
        if isinstance(geom, Point) and (geom.x, geom.y) != (self.lon, self.lat):
            raise InvalidInputError("component.bad_location", f"部件 {self.id} 的代表点经纬度与点位不一致", id=self.id)

    @property
    def class_code(self) -> str:
        return class_of(self.id)

    @property
    def division_code(self) -> str:
        return division_of(self.id)

    @property
    def removed(self) -> bool:
        return self.status is ComponentStatus.REMOVED

    def same_record(self, other: Component) -> bool:
        """Equal in every table-2 attribute and in geometry (the version is not part of the record)."""
        return self == other and bool(shapely.equals_exact(self.geometry, other.geometry, tolerance=0.0))


@dataclass(frozen=True, slots=True)
class ComponentFilter:
    """Which components a query or census wants; unset fields match everything. Removed (移除) components
    are left out unless asked for by status or ``include_removed``. ``bbox`` is (min lon, min lat, max lon,
    max lat) on the representative point."""

    bbox: tuple[float, float, float, float] | None = None
    grid_code: str | None = None
    community_code: str | None = None
    class_code: str | None = None
    department_code: str | None = None
    owner_code: str | None = None
    maintainer_code: str | None = None
    status: ComponentStatus | None = None
    include_removed: bool = False
    limit: int | None = 1000

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 1:
            raise InvalidInputError("component.bad_limit", f"查询上限 {self.limit} 应为正整数")
        if self.bbox is not None:
            min_lon, min_lat, max_lon, max_lat = self.bbox
            _check_lonlat(min_lon, min_lat)
            _check_lonlat(max_lon, max_lat)
            if min_lon > max_lon or min_lat > max_lat:
                raise InvalidInputError("component.bad_bbox", f"范围 {self.bbox} 的最小值大于最大值")
