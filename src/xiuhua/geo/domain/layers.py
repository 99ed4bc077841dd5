"""Thematic layers (专题图层): named, styled views of the city's geography and registers for the map.

A layer names where its features come from (a closed ``SourceKind`` plus a ``SourceFilter``), how a
MapLibre GL map paints them (``style``: paint properties, validated), the zooms it shows at, and the
zoom from which the console may ask for GeoJSON instead of vector tiles.

Errors are InvalidInputError with codes ``layer.*``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from xiuhua.geo.domain.components import ComponentStatus
from xiuhua.kernel.errors import InvalidInputError

MAX_ZOOM: Final = 22
"""The deepest zoom a layer or a tile request may name (MapLibre's limit)."""

CATEGORIES: Final = ("行政区划", "基础网格", "城市部件", "物联感知", "视频监控", "专项整治")
"""Well-known categories; a city may name its own."""

_CODE = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_CLASS_PREFIX = re.compile(r"[0-9]{2}(?:[0-9]{3})?")
_AREA_CLASSES = ("A", "B", "C")
_MAX_CODE, _MAX_NAME, _MAX_CATEGORY = 40, 64, 16

# MapLibre paint properties a layer may set: colours (#rrggbb, or a match on one feature property),
# opacities (0..1) and sizes in pixels.
COLOUR_KEYS: Final = frozenset(
    {"fill-color", "fill-outline-color", "line-color", "circle-color", "circle-stroke-color", "text-color"}
)
OPACITY_KEYS: Final = frozenset({"fill-opacity", "line-opacity", "circle-opacity", "circle-stroke-opacity"})
SIZE_KEYS: Final = {"line-width": 20.0, "circle-radius": 50.0, "circle-stroke-width": 20.0, "text-size": 64.0}
STYLE_KEYS: Final = COLOUR_KEYS | OPACITY_KEYS | frozenset(SIZE_KEYS)


class SourceKind(StrEnum):
    """Where a layer's features come from; later kinds (cameras, sensors, parking…) extend this list."""

    DISTRICTS = "districts"
    STREETS = "streets"
    COMMUNITIES = "communities"
    UNIT_GRIDS = "unit_grids"
    RESPONSIBILITY_GRIDS = "responsibility_grids"
    COMPONENTS = "components"

    @property
    def region_code_length(self) -> int | None:
        """The length of the region codes of an outline source (6, 9, 12), None for other sources."""
        return {SourceKind.DISTRICTS: 6, SourceKind.STREETS: 9, SourceKind.COMMUNITIES: 12}.get(self)

    @property
    def points(self) -> bool:
        """True when most features are points (thinned into clusters at low zooms)."""
        return self is SourceKind.COMPONENTS

    @classmethod
    def parse(cls, text: str) -> SourceKind:
        try:
            return cls(text.strip().lower())
        except ValueError:
            allowed = "、".join(m.value for m in cls)
            raise InvalidInputError("layer.bad_source", f"数据来源“{text}”无效，可用：{allowed}", value=text) from None


@dataclass(frozen=True, slots=True)
class SourceFilter:
    """Which features of the source: component class prefix (2-digit major or 5-digit class) and statuses,
    unit-grid area classes. Written as ``class=01;status=破损,丢失`` or ``area_class=A,B``."""

    class_prefix: str | None = None
    statuses: tuple[ComponentStatus, ...] = ()
    area_classes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.class_prefix is not None and not _CLASS_PREFIX.fullmatch(self.class_prefix):
            raise InvalidInputError(
                "layer.bad_filter",
                f"部件类别前缀“{self.class_prefix}”应为 2 位大类或 5 位小类代码",
                value=self.class_prefix,
            )
        bad = [a for a in self.area_classes if a not in _AREA_CLASSES]
        if bad:
            raise InvalidInputError("layer.bad_filter", f"区域类别“{bad[0]}”无效，应为 A、B 或 C", value=bad[0])

    @property
    def empty(self) -> bool:
        return self.class_prefix is None and not self.statuses and not self.area_classes

    def text(self) -> str:
        """The filter as written in a layer table (empty for none)."""
        parts = []
        if self.class_prefix:
            parts.append(f"class={self.class_prefix}")
        if self.statuses:
            parts.append("status=" + ",".join(s.value for s in self.statuses))
        if self.area_classes:
            parts.append("area_class=" + ",".join(self.area_classes))
        return ";".join(parts)

    @classmethod
    def parse(cls, text: str) -> SourceFilter:
        """``class=01;status=破损,丢失;area_class=A`` (any part may be left out); raises ``layer.bad_filter``."""
        values: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in text.replace("；", ";").split(";"))):
            key, sep, value = part.partition("=")
            key = key.strip()
            if not sep or key not in ("class", "status", "area_class") or key in values:
                raise InvalidInputError(
                    "layer.bad_filter",
                    f"筛选条件“{part}”无效，应写作 class=01;status=破损,丢失;area_class=A,B",
                    value=text,
                )
            values[key] = value.strip()

        def items(key: str) -> list[str]:
            return [v.strip() for v in values.get(key, "").replace("，", ",").split(",") if v.strip()]

        try:
            statuses = tuple(ComponentStatus.parse(s) for s in items("status"))
        except InvalidInputError as exc:
            raise InvalidInputError("layer.bad_filter", exc.message, value=text) from None
        return cls(values.get("class") or None, statuses, tuple(a.upper() for a in items("area_class")))


def _check_colour(key: str, value: Any) -> None:
    if not (isinstance(value, str) and _COLOUR.fullmatch(value)):
        raise InvalidInputError("layer.bad_style", f"样式 {key} 的颜色“{value}”应写作 #rrggbb", key=key, value=value)


def _check_style_value(key: str, value: Any) -> None:
    if key in COLOUR_KEYS:
        if isinstance(value, Mapping):  # {"property": "area_class", "match": {"A": "#..."}, "default": "#..."}
            if set(value) != {"property", "match", "default"} or not isinstance(value["property"], str):
                raise InvalidInputError(
                    "layer.bad_style",
                    f'样式 {key} 按属性取色时应写作 {{"property": 属性名, "match": {{值: 颜色}}, "default": 颜色}}',
                    key=key,
                )
            if not isinstance(value["match"], Mapping) or not value["match"]:
                raise InvalidInputError("layer.bad_style", f"样式 {key} 的 match 应为非空的 {{值: 颜色}}", key=key)
            for colour in (*value["match"].values(), value["default"]):
                _check_colour(key, colour)
            return
        _check_colour(key, value)
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError("layer.bad_style", f"样式 {key} 的值“{value}”应为数字", key=key, value=value)
    upper = 1.0 if key in OPACITY_KEYS else SIZE_KEYS[key]
    if not 0 <= value <= upper:
        raise InvalidInputError(
            "layer.bad_style", f"样式 {key} 的值 {value} 应在 0～{upper:g} 之间", key=key, value=value
        )


def validate_style(style: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a paint style after checking every key and value; raises ``layer.bad_style``."""
    if not isinstance(style, Mapping):
        raise InvalidInputError("layer.bad_style", '样式应为 JSON 对象，如 {"line-color": "#3366cc"}')
    unknown = sorted(set(style) - STYLE_KEYS)
    if unknown:
        allowed = "、".join(sorted(STYLE_KEYS))
        raise InvalidInputError("layer.bad_style", f"未知的样式属性“{unknown[0]}”，可用：{allowed}", key=unknown[0])
    for key, value in style.items():
        _check_style_value(key, value)
    return json.loads(json.dumps(dict(style)))  # type: ignore[no-any-return]  # a deep, plain copy


def parse_style(text: str) -> dict[str, Any]:
    """A style written as a JSON object; raises ``layer.bad_style``."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            "layer.bad_style", f"样式不是有效的 JSON：{exc.msg}（第 {exc.pos + 1} 个字符）"
        ) from None
    return validate_style(value)


def style_text(style: Mapping[str, Any]) -> str:
    return json.dumps(dict(style), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def maplibre_paint(style: Mapping[str, Any]) -> dict[str, Any]:
    """The style as MapLibre paint properties: a colour by property becomes a ``match`` expression."""
    paint: dict[str, Any] = {}
    for key, value in style.items():
        if isinstance(value, Mapping):
            expression: list[Any] = ["match", ["to-string", ["get", value["property"]]]]
            for match, colour in value["match"].items():
                expression += [str(match), colour]
            paint[key] = [*expression, value["default"]]
        else:
            paint[key] = value
    return paint


def _check_zoom(what: str, zoom: int) -> None:
    if isinstance(zoom, bool) or not isinstance(zoom, int) or not 0 <= zoom <= MAX_ZOOM:
        raise InvalidInputError("layer.bad_zoom", f"{what} {zoom} 应为 0～{MAX_ZOOM} 的整数", value=zoom)


@dataclass(frozen=True, slots=True)
class Layer:
    """One thematic layer. ``geojson_min_zoom``: from this zoom up a viewport is small enough for GeoJSON;
    below it the map uses vector tiles."""

    code: str
    name: str
    category: str
    source: SourceKind
    source_filter: SourceFilter = field(default_factory=SourceFilter)
    style: dict[str, Any] = field(default_factory=dict)
    min_zoom: int = 0
    max_zoom: int = MAX_ZOOM
    geojson_min_zoom: int = 14
    visible: bool = True
    sort_order: int = 0

    def __post_init__(self) -> None:
        if len(self.code) > _MAX_CODE or not _CODE.fullmatch(self.code):
            raise InvalidInputError(
                "layer.bad_code",
                f"图层代码“{self.code}”应为小写字母开头的字母、数字和连字符（如 components-01），"
                f"至多 {_MAX_CODE} 个字符",
                code=self.code,
            )
        if not self.name.strip() or len(self.name) > _MAX_NAME:
            raise InvalidInputError("layer.bad_name", f"图层名称应为 1～{_MAX_NAME} 个字符", code=self.code)
        if not self.category.strip() or len(self.category) > _MAX_CATEGORY:
            raise InvalidInputError(
                "layer.bad_category", f"图层分类应为 1～{_MAX_CATEGORY} 个字符，如 {'、'.join(CATEGORIES)}"
            )
        if not isinstance(self.source, SourceKind):
            raise InvalidInputError("layer.bad_source", f"数据来源“{self.source}”无效")
        if self.source is not SourceKind.COMPONENTS and (
            self.source_filter.class_prefix or self.source_filter.statuses
        ):
            raise InvalidInputError("layer.bad_filter", "部件类别与状态筛选只适用于部件图层（components）")
        if self.source is not SourceKind.UNIT_GRIDS and self.source_filter.area_classes:
            raise InvalidInputError("layer.bad_filter", "区域类别筛选只适用于单元网格图层（unit_grids）")
        object.__setattr__(self, "style", validate_style(self.style))
        _check_zoom("最小缩放级别", self.min_zoom)
        _check_zoom("最大缩放级别", self.max_zoom)
        _check_zoom("GeoJSON 起始缩放级别", self.geojson_min_zoom)
        if self.min_zoom > self.max_zoom:
            raise InvalidInputError(
                "layer.bad_zoom", f"最小缩放级别 {self.min_zoom} 大于最大缩放级别 {self.max_zoom}", code=self.code
            )
        if isinstance(self.sort_order, bool) or not isinstance(self.sort_order, int):
            raise InvalidInputError("layer.bad_sort_order", f"排序“{self.sort_order}”应为整数")

    def shows_at(self, zoom: int) -> bool:
        return self.min_zoom <= zoom <= self.max_zoom

    def paint(self) -> dict[str, Any]:
        return maplibre_paint(self.style)
