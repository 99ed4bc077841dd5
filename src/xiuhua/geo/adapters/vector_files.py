"""Vector files a city exchanges (GeoJSON, ESRI Shapefile, GeoPackage) read into WGS84 features and written back.

Reading goes through pyogrio's raw interface (GDAL bundled; WKB plus field arrays, no geopandas). Every
layer is brought to WGS84/CGCS2000 lon/lat, which the product treats as one frame (see ``crs.py``):
from the CRS the file declares (an EPSG code, or the WKT of a ``.prj``), or from the one the caller names,
which wins: GCJ-02 cannot be declared by a file, and a Shapefile without ``.prj`` declares nothing.

A feature's id is the GeoPackage FID (what desktop GIS shows), else its 1-based position in the file.
"""

from __future__ import annotations

import importlib
import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.errors import GEOSException
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from xiuhua.geo.adapters.crs import STORAGE_EPSG, Crs, to_wgs84
from xiuhua.kernel.errors import InvalidInputError

__all__ = ["READ_FORMATS", "WRITE_FORMATS", "Feature", "Layer", "read_layer", "write_layer"]

READ_FORMATS: Final = {".geojson": "GeoJSON", ".json": "GeoJSON", ".shp": "ESRI Shapefile", ".gpkg": "GPKG", ".zip": ""}
WRITE_FORMATS: Final = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG"}
_LONLAT_EPSG: Final = (4326, 4490)

# pyogrio ships no type information; importing it through importlib keeps it typed as Any without a
# mypy override (as crs.py does for coordTransform).
_raw: Any = importlib.import_module("pyogrio.raw")
_errors: Any = importlib.import_module("pyogrio.errors")
_GDAL_ERRORS: Final[tuple[type[Exception], ...]] = (
    _errors.DataSourceError, _errors.DataLayerError, _errors.FieldError, RuntimeError, ValueError, OSError,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Feature:
    """One feature: its id in the file, its attributes (plain Python values), its geometry in WGS84."""

    fid: int
    properties: dict[str, Any]
    geometry: BaseGeometry | None


@dataclass(frozen=True, slots=True)
class Layer:
    name: str
    source_crs: str
    """What the coordinates were read as: 'EPSG:4547', 'gcj02', or a CRS name from the file's WKT."""
    features: list[Feature]


def _unreadable(path: Path, reason: object) -> InvalidInputError:
    return InvalidInputError("layer.unreadable", f"无法读取图层文件 {path.name}：{reason}", path=str(path))


def _check_suffix(path: Path, formats: dict[str, str]) -> str:
    suffix = path.suffix.lower()
    if suffix not in formats:
        allowed = "、".join(formats)
        raise InvalidInputError("layer.bad_format", f"不支持的图层格式“{path.suffix}”，可用：{allowed}", path=str(path))
    return suffix


def _plain(value: Any) -> Any:
    """A field value as a plain Python value; NaN (a null in a numeric column) becomes None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bytes):
        return value.hex()
    return value


def _transformer(text: str | None, declared: str | None) -> tuple[str, Crs | Transformer | None]:
    """(name, how to reach WGS84): None for lon/lat already, a Crs for GCJ-02, else a pyproj Transformer."""
    source = text if text is not None else declared
    if source is None:
        raise InvalidInputError(
            "layer.no_crs", "图层文件没有声明坐标系（如 Shapefile 缺少 .prj），请用 --crs 指定，如 --crs EPSG:4547"
        )
    if text is not None:
        try:
            named = Crs.parse(text)
        except InvalidInputError:
            named = None
        if named is Crs.GCJ02:
            return "gcj02", named
        if named is not None:
            return f"EPSG:{STORAGE_EPSG if named is Crs.CGCS2000 else 4326}", None
    try:
        crs = CRS.from_user_input(source)
    except CRSError as exc:
        raise InvalidInputError("geo.unknown_crs", f"坐标系“{source[:80]}”无法识别：{exc}", value=source) from None
    epsg = crs.to_epsg()
    name = f"EPSG:{epsg}" if epsg else crs.name
    if epsg in _LONLAT_EPSG:
        return name, None
    if not crs.is_geographic and not crs.is_projected:
        raise InvalidInputError("geo.unknown_crs", f"坐标系“{name}”不是地理或投影坐标系，无法换算到经纬度")
    return name, Transformer.from_crs(crs, f"EPSG:{STORAGE_EPSG}", always_xy=True)


def _to_wgs84(geometries: np.ndarray[Any, Any], how: Crs | Transformer | None) -> np.ndarray[Any, Any]:
    """Every coordinate of every geometry in one vectorised call (shapely.transform on the whole array)."""
    if how is None:
        return geometries
    if isinstance(how, Crs):
        return shapely.transform(geometries, lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], how)))
    transformer = how

    def project(xy: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack((x, y))

    return shapely.transform(geometries, project)


def read_layer(path: Path, crs: str | None = None) -> Layer:
    """The features of a GeoJSON, Shapefile (or a .zip holding one) or GeoPackage (first layer), in WGS84.

    ``crs`` overrides what the file declares ('EPSG:4547', 'cgcs2000', 'gcj02', WKT…). Raises
    InvalidInputError ``layer.bad_format``, ``layer.unreadable``, ``layer.no_crs`` or ``geo.unknown_crs``."""
    _check_suffix(path, READ_FORMATS)
    if not path.exists():
        raise InvalidInputError("layer.not_found", f"文件不存在：{path}", path=str(path))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # GDAL's notes on odd files; a real failure raises
            meta, fids, wkbs, field_data = _raw.read(path, return_fids=True, datetime_as_string=True, force_2d=True)
    except _GDAL_ERRORS as exc:
        raise _unreadable(path, exc) from None
    name, how = _transformer(crs, meta.get("crs"))
    if wkbs is None:
        raise _unreadable(path, "没有几何列")
    try:
        geometries = shapely.from_wkb(np.asarray(wkbs, dtype=object), on_invalid="raise")
    except (GEOSException, ValueError) as exc:
        raise _unreadable(path, f"几何数据损坏：{exc}") from None
    present = ~shapely.is_missing(geometries)
    geometries[present] = _to_wgs84(geometries[present], how)
    columns = [str(c) for c in meta["fields"]]
    gpkg = path.suffix.lower() == ".gpkg" and fids is not None
    ids = [int(f) for f in fids] if gpkg else range(1, len(geometries) + 1)
    values = [[_plain(v) for v in column] for column in field_data]
    features = [
        Feature(fid, {c: values[k][i] for k, c in enumerate(columns)}, geometries[i] if present[i] else None)
        for i, fid in enumerate(ids)
    ]
    return Layer(path.stem, name, features)


def _column(values: Sequence[Any]) -> np.ndarray[Any, Any]:
    """A field array: numbers stay numeric; anything else (dates included) is written as text."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return np.array([None if v is None else int(v) for v in values], dtype=object)
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present) and len(present) == len(values):
        return np.array(values, dtype=np.int64)
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)
    return np.array(
        [None if v is None else v.isoformat() if isinstance(v, date | datetime) else str(v) for v in values],
        dtype=object,
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _write_geojson(path: Path, fields: Sequence[str], rows: Sequence[tuple[Sequence[Any], BaseGeometry]]) -> int:
    """GeoJSON written here rather than by GDAL, whose writer rounds coordinates to 15 significant digits:
    Python writes the shortest text that reads back as the same double, so an export imports unchanged."""
    features = [
        {
            "type": "Feature",
            "properties": {name: _json_value(v) for name, v in zip(fields, values, strict=True)},
            "geometry": mapping(geometry),
        }
        for values, geometry in rows
    ]
    collection = {"type": "FeatureCollection", "features": features}
    try:
        path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError("layer.unwritable", f"无法写入图层文件 {path.name}：{exc}", path=str(path)) from None
    return len(rows)


def write_layer(
    path: Path, fields: Sequence[str], rows: Sequence[tuple[Sequence[Any], BaseGeometry]], layer: str | None = None
) -> int:
    """Write features (field values in ``fields`` order, WGS84 geometry) as GeoPackage or GeoJSON, tagged
    CGCS2000 (EPSG:4490) in a GeoPackage; GeoJSON is WGS84 by definition (RFC 7946). Replaces the file;
    returns the count."""
    suffix = _check_suffix(path, WRITE_FORMATS)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    if WRITE_FORMATS[suffix] == "GeoJSON":
        return _write_geojson(path, fields, rows)
    geometries = shapely.to_wkb(np.array([g for _, g in rows], dtype=object))
    data = [_column([r[k] for r, _ in rows]) for k in range(len(fields))]
    kinds = {g.geom_type for _, g in rows}
    geometry_type = kinds.pop() if len(kinds) == 1 else "Unknown"
    try:
        _raw.write(
            path, geometries, data, list(fields), layer=layer or path.stem, driver="GPKG",
            geometry_type=geometry_type, crs=f"EPSG:{STORAGE_EPSG}",
        )  # fmt: skip
    except _GDAL_ERRORS as exc:
        raise InvalidInputError("layer.unwritable", f"无法写入图层文件 {path.name}：{exc}", path=str(path)) from None
    return len(rows)
