"""Importing a city's own survey layers: district, street and community outlines, and unit grids.

A layer is checked whole before anything is written: codes (well-formed, known, not repeated), geometry
(valid polygons), siblings that overlap, a region outside its parent, and for unit grids a grid crossing
its community's boundary and gaps a community's grids leave. Every defect names the feature (its id in
the file) and its code. Nothing is written unless the whole layer passes, or ``skip_invalid`` asks to
write the rest; then a community with any defective grid keeps its stored grids, since writing the
others would leave a hole.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from xiuhua.geo.adapters.topology import area_m2, area_outside, gap_inside, overlaps
from xiuhua.geo.adapters.vector_files import Feature, read_layer
from xiuhua.geo.ports import GeoUnitOfWork
from xiuhua.geo.services.geography import area_class_by_distance
from xiuhua.kernel.errors import InvalidInputError
from xiuhua.kernel.ports import Progress, no_progress
from xiuhua.org.domain.model import RegionLevel
from xiuhua.platform.importing import RowError, settle

OVERLAP_TOLERANCE_M2: Final = 1.0
"""Two features may share this much area (digitising slop); more is an overlap."""
OUTSIDE_TOLERANCE_M2: Final = 1.0
"""A feature may stick out of its parent (community) by this much."""
GAP_TOLERANCE_M2: Final = 1.0
"""A community may have this much area no unit grid covers."""

AREA_CLASSES: Final = ("A", "B", "C")
# Property names read case-insensitively, first match wins: English field names, then the Chinese ones
# survey offices use (GB/T 30428.2 attribute names).
CODE_FIELDS: Final = ("code", "grid_code", "region_code", "bm", "代码", "编码", "标识码", "网格代码", "网格编码")
AREA_CLASS_FIELDS: Final = ("area_class", "class", "类别", "网格类别", "区域类别")
RESPONSIBILITY_FIELDS: Final = ("responsibility_code", "responsibility", "责任网格", "责任网格代码")


class LayerKind(StrEnum):
    DISTRICTS = "districts"
    STREETS = "streets"
    COMMUNITIES = "communities"
    GRIDS = "grids"

    @property
    def code_length(self) -> int:
        return {"districts": 6, "streets": 9, "communities": 12, "grids": 15}[self.value]

    @property
    def label(self) -> str:
        return {"districts": "区（县）", "streets": "街道（乡镇）", "communities": "社区（村）", "grids": "单元网格"}[
            self.value
        ]

    @property
    def level(self) -> RegionLevel | None:
        """The region level of an outline layer; None for unit grids."""
        return _LEVELS.get(self.value)

    @classmethod
    def parse(cls, text: str) -> LayerKind:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise InvalidInputError(
                "layer.bad_kind", f"图层类型“{text}”无效，可用：{'、'.join(k.value for k in cls)}", value=text
            ) from None


_LEVELS: Final = {
    "districts": RegionLevel.DISTRICT,
    "streets": RegionLevel.STREET,
    "communities": RegionLevel.COMMUNITY,
}


@dataclass(frozen=True, slots=True)
class FeatureError(RowError):
    """A defect of one feature; ``row`` is the feature id in the file."""

    def __str__(self) -> str:
        return f"要素 {self.row} [{self.code}] {self.message}"


@dataclass(frozen=True, slots=True)
class KnownGeography:
    """What is stored already: region levels by code, region outlines, responsibility grid codes."""

    levels: Mapping[str, RegionLevel]
    outlines: Mapping[str, BaseGeometry]
    responsibility_codes: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class SurveyFeature:
    """A feature that passed its own checks: id in the file, code, WGS84 polygon, optional grid attributes."""

    fid: int
    code: str
    geometry: BaseGeometry
    area_class: str | None = None
    responsibility_code: str | None = None


@dataclass
class LayerCheck:
    """The features that passed and the defects found, by feature id."""

    passed: list[SurveyFeature] = field(default_factory=list)
    errors: list[FeatureError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LayerImportSummary:
    kind: LayerKind
    source: str
    source_crs: str
    features: int
    written: int
    communities: tuple[str, ...]
    skipped: list[RowError]


# ----- reading properties ------------------------------------------------------------------------
def _prop(properties: Mapping[str, Any], names: Sequence[str]) -> str | None:
    lowered = {str(k).strip().lower(): v for k, v in properties.items()}
    for name in names:
        value = lowered.get(name)
        if value is None:
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a code stored in a numeric column
        text = str(value).strip()
        if text:
            return text
    return None


def _label(f: Feature | SurveyFeature, code: str | None) -> str:
    return f"要素 {f.fid}（{code}）" if code else f"要素 {f.fid} "


# GEOS's reasons (shapely.validation.explain_validity), in the words a surveyor uses.
_INVALIDITY: Final = {
    "Self-intersection": "自相交",
    "Ring Self-intersection": "环自相交",
    "Too few points": "点数过少",
    "Hole lies outside shell": "内环在外环之外",
    "Nested holes": "内环嵌套",
    "Nested shells": "外环嵌套",
    "Interior is disconnected": "内部不连通",
    "Duplicate Rings": "重复的环",
    "Invalid Coordinate": "坐标无效",
    "Ring is not closed": "环未闭合",
}


def _invalidity(geom: BaseGeometry) -> str:
    """'自相交（约在 114.3005 34.7915）' from GEOS's 'Self-intersection[114.3005 34.7915]'."""
    reason, _, where = explain_validity(geom).partition("[")
    words = _INVALIDITY.get(reason.strip(), reason.strip())
    return f"{words}（约在 {where.rstrip(']')}）" if where else words


# ----- checks of one feature ---------------------------------------------------------------------
def _check_geometry(f: Feature, code: str | None) -> FeatureError | None:
    geom = f.geometry
    if geom is None or geom.is_empty:
        return FeatureError(f.fid, "layer.no_geometry", f"{_label(f, code)}没有几何")
    if not isinstance(geom, Polygon | MultiPolygon):
        return FeatureError(f.fid, "layer.not_polygon", f"{_label(f, code)}的几何为 {geom.geom_type}，应为面")
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        return FeatureError(
            f.fid,
            "layer.bad_coordinates",
            f"{_label(f, code)}的坐标超出经纬度范围（{minx:.0f}, {miny:.0f}），坐标系是否有误？可用 --crs 指定",
        )
    if not shapely.is_valid(geom):
        return FeatureError(f.fid, "layer.invalid_geometry", f"{_label(f, code)}的几何不合法：{_invalidity(geom)}")
    return None


def _check_code(f: Feature, kind: LayerKind, code: str | None, known: KnownGeography) -> FeatureError | None:
    n = kind.code_length
    if code is None:
        return FeatureError(f.fid, "layer.no_code", f"{_label(f, None)}缺少代码属性（code）")
    if not re.fullmatch(rf"[0-9]{{{n}}}", code) or (kind is LayerKind.GRIDS and code.endswith("000")):
        extra = "，末 3 位为 001–999" if kind is LayerKind.GRIDS else ""
        return FeatureError(f.fid, "layer.bad_code", f"{_label(f, code)}：{kind.label}代码应为 {n} 位数字{extra}")
    if kind is LayerKind.GRIDS:
        community = code[:12]
        if known.levels.get(community) is not RegionLevel.COMMUNITY:
            return FeatureError(f.fid, "layer.unknown_community", f"{_label(f, code)}所属社区 {community} 不在区划表中")
        return None
    if kind is not LayerKind.DISTRICTS:
        parent = code[: n - 3]
        if parent not in known.levels:
            return FeatureError(f.fid, "layer.unknown_parent", f"{_label(f, code)}的上级区划 {parent} 不在区划表中")
    if known.levels.get(code) is not kind.level:
        return FeatureError(
            f.fid,
            "layer.unknown_region",
            f"{_label(f, code)}不是区划表中的{kind.label}（请先用 xiuhua org import regions 导入区划）",
        )
    return None


def _check_grid_attributes(f: Feature, code: str, known: KnownGeography) -> tuple[FeatureError | None, SurveyFeature]:
    area_class = _prop(f.properties, AREA_CLASS_FIELDS)
    responsibility = _prop(f.properties, RESPONSIBILITY_FIELDS)
    assert f.geometry is not None
    parsed = SurveyFeature(f.fid, code, f.geometry, area_class.upper() if area_class else None, responsibility)
    if area_class is not None and area_class.upper() not in AREA_CLASSES:
        return FeatureError(
            f.fid, "layer.bad_area_class", f"{_label(f, code)}的区域类别“{area_class}”应为 A、B 或 C"
        ), parsed
    if responsibility is not None and responsibility not in known.responsibility_codes:
        return FeatureError(
            f.fid, "layer.unknown_responsibility", f"{_label(f, code)}的责任网格 {responsibility} 未登记"
        ), parsed
    return None, parsed


def _check_features(features: Sequence[Feature], kind: LayerKind, known: KnownGeography) -> LayerCheck:
    check = LayerCheck()
    first: dict[str, int] = {}
    for f in features:
        code = _prop(f.properties, CODE_FIELDS)
        error = _check_code(f, kind, code, known) or _check_geometry(f, code)
        if error is None and code is not None and code in first:
            error = FeatureError(f.fid, "layer.duplicate_code", f"{_label(f, code)}的代码与要素 {first[code]} 重复")
        if code is not None and code not in first:
            first[code] = f.fid
        parsed: SurveyFeature | None = None
        if error is None and code is not None and f.geometry is not None:
            if kind is LayerKind.GRIDS:
                error, parsed = _check_grid_attributes(f, code, known)
            else:
                parsed = SurveyFeature(f.fid, code, f.geometry)
        if error is not None:
            check.errors.append(error)
        elif parsed is not None:
            check.passed.append(parsed)
    return check


# ----- checks of the layer as a whole ------------------------------------------------------------
def _overlap_errors(
    items: Sequence[SurveyFeature], shapes: np.ndarray[Any, Any], stored: Mapping[str, BaseGeometry]
) -> list[FeatureError]:
    """Overlaps within the file (the later feature is named) and with stored siblings the file keeps."""
    errors = [
        FeatureError(
            items[o.second].fid,
            "layer.overlap",
            f"{_label(items[o.second], items[o.second].code)}与{_label(items[o.first], items[o.first].code)}"
            f"重叠 {o.area_m2:.1f} 平方米",
        )
        for o in overlaps(shapes, OVERLAP_TOLERANCE_M2)
    ]
    codes = {f.code for f in items}
    others = [(code, geom) for code, geom in stored.items() if code not in codes]
    if others and len(items):
        other = np.array([g for _, g in others], dtype=object)
        hits, found = shapely.STRtree(other).query(shapes, predicate="intersects")
        areas = area_m2(shapely.intersection(shapes[hits], other[found]))
        for i, j, area in zip(hits, found, areas, strict=True):
            if area > OVERLAP_TOLERANCE_M2:
                f = items[int(i)]
                errors.append(
                    FeatureError(
                        f.fid,
                        "layer.overlap",
                        f"{_label(f, f.code)}与已存的 {others[int(j)][0]} 重叠 {area:.1f} 平方米",
                    )
                )
    return errors


def _outside_errors(
    items: Sequence[SurveyFeature], shapes: np.ndarray[Any, Any], parents: Mapping[str, BaseGeometry], what: str
) -> list[FeatureError]:
    """Features sticking out of their stored parent (the community of a grid) by more than the tolerance."""
    parent_len = 12 if len(items[0].code) == 15 else len(items[0].code) - 3
    codes = [f.code[:parent_len] for f in items]
    have = [c in parents for c in codes]
    containers = np.array([None] * len(items), dtype=object)
    if any(have):
        idx = np.flatnonzero(have)
        containers[idx] = [parents[codes[i]] for i in idx]
    outside = area_outside(shapes, containers)
    code = "layer.outside_community" if what == "社区" else "layer.outside_parent"
    return [
        FeatureError(f.fid, code, f"{_label(f, f.code)}有 {a:.1f} 平方米在{what} {codes[i]} 之外")
        for i, (f, a) in enumerate(zip(items, outside, strict=True))
        if a > OUTSIDE_TOLERANCE_M2
    ]


def _gap_errors(
    items: Sequence[SurveyFeature],
    shapes: np.ndarray[Any, Any],
    outlines: Mapping[str, BaseGeometry],
    broken: set[str],
) -> list[FeatureError]:
    """Communities whose grids leave more than the tolerance uncovered, named by their first grid; a
    community with a grid already rejected on its own (``broken``) is not measured: that grid is missing."""
    by_community: dict[str, list[int]] = {}
    for i, f in enumerate(items):
        by_community.setdefault(f.code[:12], []).append(i)
    present = [c for c in by_community if c in outlines and c not in broken]
    if not present:
        return []
    errors = []
    for community in present:
        outline = outlines[community]
        members = by_community[community]
        gap = gap_inside(outline, shapes[members], GAP_TOLERANCE_M2)
        if gap is not None:
            first = items[min(members, key=lambda i: items[i].fid)]
            errors.append(
                FeatureError(
                    first.fid,
                    "layer.gap",
                    f"社区 {community} 有 {gap.area_m2:.1f} 平方米未被单元网格覆盖"
                    f"（约在经度 {gap.lon:.6f}、纬度 {gap.lat:.6f}）",
                )
            )
    return errors


def check_layer(
    features: Sequence[Feature], kind: LayerKind, known: KnownGeography, progress: Progress = no_progress
) -> LayerCheck:
    """Every defect of a layer (WGS84 features) against what is stored; pure: nothing is read or written."""
    progress("检查代码与几何", 0, 4)
    check = _check_features(features, kind, known)
    items = check.passed
    if not items:
        return check
    progress("检查重叠", 1, 4)
    shapes = np.array([f.geometry for f in items], dtype=object)
    if kind is LayerKind.GRIDS:
        stored: dict[str, BaseGeometry] = {}
    else:
        stored = {code: g for code, g in known.outlines.items() if known.levels.get(code) is kind.level}
    errors = _overlap_errors(items, shapes, stored)
    progress("检查边界", 2, 4)
    if kind is LayerKind.GRIDS:
        errors += _outside_errors(items, shapes, known.outlines, "社区")
        progress("检查空隙", 3, 4)
        codes = {f.fid: _prop(f.properties, CODE_FIELDS) or "" for f in features}
        broken = {codes[e.row][:12] for e in check.errors if len(codes[e.row]) >= 12}
        errors += _gap_errors(items, shapes, known.outlines, broken)
    elif kind is not LayerKind.DISTRICTS:
        errors += _outside_errors(items, shapes, known.outlines, "上级区划")
    progress("检查完成", 4, 4)
    failed = {e.row for e in errors}
    check.passed = [f for f in items if f.fid not in failed]
    check.errors += errors
    check.errors.sort(key=lambda e: (e.row, e.code))
    return check


def _drop_failed_communities(check: LayerCheck, features: Sequence[Feature]) -> None:
    """With skip_invalid: a community with any defective grid keeps its stored grids; skip all of its grids."""
    codes = {f.fid: _prop(f.properties, CODE_FIELDS) or "" for f in features}
    failed = {codes[e.row][:12] for e in check.errors if len(codes.get(e.row, "")) >= 12}
    kept: list[SurveyFeature] = []
    dropped: list[SurveyFeature] = []
    for f in check.passed:
        (dropped if f.code[:12] in failed else kept).append(f)
    check.passed = kept
    check.errors += [
        FeatureError(
            f.fid, "layer.community_skipped", f"{_label(f, f.code)}所属社区 {f.code[:12]} 有无效网格，整社区跳过"
        )
        for f in dropped
    ]
    check.errors.sort(key=lambda e: (e.row, e.code))


# ----- the use case ------------------------------------------------------------------------------
def known_geography(uow: GeoUnitOfWork) -> KnownGeography:
    with uow:
        levels = {r.code: r.level for r in uow.regions.all()}
        outlines = dict(uow.geo.region_shapes())
        responsibility = frozenset(uow.geo.responsibility_codes())
    return KnownGeography(levels, outlines, responsibility)


def import_layer(
    path: Path,
    kind: LayerKind,
    uow: GeoUnitOfWork,
    crs: str | None = None,
    skip_invalid: bool = False,
    progress: Progress = no_progress,
) -> LayerImportSummary:
    """Check a survey layer file and store it all or nothing (region outlines upserted; the unit grids of
    each community in the file replaced). Raises ImportRejectedError listing every defect by feature id,
    or InvalidInputError ``layer.*`` for a file that cannot be read."""
    progress("读取图层", 0, 1)
    layer = read_layer(path, crs)
    if not layer.features:
        raise InvalidInputError("layer.empty", f"图层文件 {path.name} 没有要素")
    progress("读取图层", 1, 1)
    check = check_layer(layer.features, kind, known_geography(uow), progress)
    if skip_invalid and kind is LayerKind.GRIDS and check.errors:
        _drop_failed_communities(check, layer.features)
    errors: list[RowError] = [*check.errors]
    skipped = settle(errors, skip_invalid)
    source = path.name[:128]
    items = check.passed
    progress("写入", 0, 1)
    communities: tuple[str, ...] = ()
    with uow:
        if kind is LayerKind.GRIDS:
            communities = tuple(sorted({f.code[:12] for f in items}))
            areas = area_m2([f.geometry for f in items])
            rows = []
            for f, area in zip(items, areas, strict=True):
                area_class = f.area_class
                if area_class is None:
                    centroid = f.geometry.centroid
                    area_class = area_class_by_distance(centroid.x, centroid.y)
                rows.append((f.code, f.code[:12], f.geometry, float(area), area_class, f.responsibility_code))
            uow.geo.replace_grids(communities, rows)
        else:
            uow.geo.put_region_shapes([(f.code, f.geometry, False, source) for f in items])
        uow.commit()
    progress("写入", 1, 1)
    return LayerImportSummary(kind, source, layer.source_crs, len(layer.features), len(items), communities, skipped)


__all__ = [
    "GAP_TOLERANCE_M2",
    "OUTSIDE_TOLERANCE_M2",
    "OVERLAP_TOLERANCE_M2",
    "FeatureError",
    "KnownGeography",
    "LayerCheck",
    "LayerImportSummary",
    "LayerKind",
    "SurveyFeature",
    "check_layer",
    "import_layer",
    "known_geography",
]
