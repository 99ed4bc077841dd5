"""Coordinate reference systems: WGS84/CGCS2000 lon/lat, GCJ-02 at the edges, metres in EPSG:4547.

The product stores lon/lat in CGCS2000 (EPSG:4490). WGS84 (EPSG:4326) and CGCS2000 are treated as the
same frame here: their realisations differ by a few centimetres, far below what a city-management
workflow resolves, so converting between them is the identity.

GCJ-02 (the obfuscated frame of consumer web maps in China) is reached with the maintained
``coordtransform`` package (import name ``coordTransform``), whose C extension does the forward
WGS84→GCJ-02 transform. The package's own inverse is the one-step approximation (metres of error), so
the inverse here iterates the forward transform instead: ``w = g``, then ``w -= forward(w) - g`` three
times, which brings the round-trip error under a millimetre (measured in ``tests/unit/test_crs.py``).
Outside China the library leaves coordinates unchanged, so GCJ-02 equals WGS84 there, in both directions.

Metric work for Kaifeng uses EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E, false easting
500000 m, no zone prefix), with pyproj transformers built once.

Every transform accepts Python floats (returning floats) or numpy arrays (returning float64 arrays of
the broadcast shape); a mixed pair (one scalar, one array) is broadcast like an array pair.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from enum import StrEnum
from functools import cache
from typing import Any, Final, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer

from xiuhua.kernel.errors import InvalidInputError

__all__ = [
    "METRIC_EPSG",
    "STORAGE_EPSG",
    "Crs",
    "from_metres",
    "from_wgs84",
    "to_metres",
    "to_wgs84",
    "validate_lonlat",
]

FloatArray = NDArray[np.float64]

STORAGE_EPSG: Final = 4490
"""CGCS2000 geographic lon/lat: what the product stores."""

METRIC_EPSG: Final = 4547
"""CGCS2000 / 3-degree Gauss-Kruger CM 114E: metres for Kaifeng."""

_GCJ_INVERSE_MAX_ITERATIONS: Final = 3
_GCJ_INVERSE_TOLERANCE_DEG: Final = 1e-9

# coordTransform ships no type information; importing it through importlib keeps it typed as Any
# without a mypy override or a `type: ignore`.
_coord_transform: Any = importlib.import_module("coordTransform")
_ct_scalar: Callable[[float, float], list[float]] = _coord_transform.wgs84_to_gcj02
_ct_batch: Callable[..., tuple[list[float], list[float]]] = _coord_transform.wgs84_to_gcj02


class Crs(StrEnum):
    """The coordinate reference systems the product accepts at its edges."""

    WGS84 = "wgs84"
    CGCS2000 = "cgcs2000"
    GCJ02 = "gcj02"

    @classmethod
    def parse(cls, text: str) -> Crs:
        """A CRS from its name (any case) or EPSG code: 'wgs84', 'EPSG:4326', '4490', 'GCJ02'…"""
        key = text.strip().lower()
        try:
            return _ALIASES[key]
        except KeyError:
            accepted = "、".join(_ALIASES)
            raise InvalidInputError(
                "geo.unknown_crs", f"坐标系“{text}”无法识别，可用：{accepted}", value=text
            ) from None


_ALIASES: Final[dict[str, Crs]] = {
    "wgs84": Crs.WGS84,
    "cgcs2000": Crs.CGCS2000,
    "gcj02": Crs.GCJ02,
    "epsg:4326": Crs.WGS84,
    "4326": Crs.WGS84,
    "epsg:4490": Crs.CGCS2000,
    "4490": Crs.CGCS2000,
}


# --------------------------------------------------------------------------------------------------
# Scalar / array plumbing


def _is_scalar_pair(a: float | ArrayLike, b: float | ArrayLike) -> bool:
    return np.ndim(a) == 0 and np.ndim(b) == 0 and not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray)


def _as_arrays(a: ArrayLike, b: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x, y = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    return x, y


# --------------------------------------------------------------------------------------------------
# GCJ-02


def _gcj_forward(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """WGS84 → GCJ-02 on arrays of one shape, through the library's C batch entry (1-D buffers only)."""
    flat_lon = np.ascontiguousarray(lon, dtype=np.float64).ravel()
    flat_lat = np.ascontiguousarray(lat, dtype=np.float64).ravel()
    if flat_lon.size == 0:
        return flat_lon.reshape(lon.shape).copy(), flat_lat.reshape(lat.shape).copy()
    out_lon, out_lat = _ct_batch(flat_lon, flat_lat)
    return (
        np.asarray(out_lon, dtype=np.float64).reshape(lon.shape),
        np.asarray(out_lat, dtype=np.float64).reshape(lat.shape),
    )


def _gcj_inverse(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 → WGS84 by iterating the forward transform (fixed point of w = w - (forward(w) - g))."""
    w_lon = lon.copy()
    w_lat = lat.copy()
    for _ in range(_GCJ_INVERSE_MAX_ITERATIONS):
        f_lon, f_lat = _gcj_forward(w_lon, w_lat)
        d_lon = f_lon - lon
        d_lat = f_lat - lat
        w_lon -= d_lon
        w_lat -= d_lat
        if d_lon.size == 0:
            break
        change = max(float(np.nanmax(np.abs(d_lon), initial=0.0)), float(np.nanmax(np.abs(d_lat), initial=0.0)))
        if change < _GCJ_INVERSE_TOLERANCE_DEG:
            break
    return w_lon, w_lat


def _gcj_forward_scalar(lon: float, lat: float) -> tuple[float, float]:
    g_lon, g_lat = _ct_scalar(lon, lat)
    return float(g_lon), float(g_lat)


def _gcj_inverse_scalar(lon: float, lat: float) -> tuple[float, float]:
    w_lon, w_lat = lon, lat
    for _ in range(_GCJ_INVERSE_MAX_ITERATIONS):
        f_lon, f_lat = _gcj_forward_scalar(w_lon, w_lat)
        d_lon, d_lat = f_lon - lon, f_lat - lat
        w_lon -= d_lon
        w_lat -= d_lat
        if max(abs(d_lon), abs(d_lat)) < _GCJ_INVERSE_TOLERANCE_DEG:
            break
    return w_lon, w_lat


# --------------------------------------------------------------------------------------------------
# Public transforms


@overload
def to_wgs84(lon: float, lat: float, crs: Crs) -> tuple[float, float]: ...
@overload
def to_wgs84(lon: FloatArray, lat: FloatArray | float, crs: Crs) -> tuple[FloatArray, FloatArray]: ...
@overload
def to_wgs84(lon: float, lat: FloatArray, crs: Crs) -> tuple[FloatArray, FloatArray]: ...
def to_wgs84(lon: FloatArray | float, lat: FloatArray | float, crs: Crs) -> tuple[Any, Any]:
    """lon/lat in ``crs`` → WGS84 (= CGCS2000) lon/lat. GCJ-02 is inverted iteratively (< 1 mm error)."""
    if _is_scalar_pair(lon, lat):
        x, y = float(lon), float(lat)
        return _gcj_inverse_scalar(x, y) if crs is Crs.GCJ02 else (x, y)
    xs, ys = _as_arrays(lon, lat)
    if crs is Crs.GCJ02:
        return _gcj_inverse(xs, ys)
    return xs.copy(), ys.copy()


@overload
def from_wgs84(lon: float, lat: float, crs: Crs) -> tuple[float, float]: ...
@overload
def from_wgs84(lon: FloatArray, lat: FloatArray | float, crs: Crs) -> tuple[FloatArray, FloatArray]: ...
@overload
def from_wgs84(lon: float, lat: FloatArray, crs: Crs) -> tuple[FloatArray, FloatArray]: ...
def from_wgs84(lon: FloatArray | float, lat: FloatArray | float, crs: Crs) -> tuple[Any, Any]:
    """WGS84 (= CGCS2000) lon/lat → lon/lat in ``crs``. GCJ-02 comes from ``coordTransform``."""
    if _is_scalar_pair(lon, lat):
        x, y = float(lon), float(lat)
        return _gcj_forward_scalar(x, y) if crs is Crs.GCJ02 else (x, y)
    xs, ys = _as_arrays(lon, lat)
    if crs is Crs.GCJ02:
        return _gcj_forward(xs, ys)
    return xs.copy(), ys.copy()


@cache
def _transformers() -> tuple[Transformer, Transformer]:
    """(lon/lat → metres, metres → lon/lat), built once. pyproj transformers are thread-safe (≥ 3.1)."""
    forward = Transformer.from_crs(f"EPSG:{STORAGE_EPSG}", f"EPSG:{METRIC_EPSG}", always_xy=True)
    inverse = Transformer.from_crs(f"EPSG:{METRIC_EPSG}", f"EPSG:{STORAGE_EPSG}", always_xy=True)
    return forward, inverse


def _project(transformer: Transformer, a: FloatArray | float, b: FloatArray | float) -> tuple[Any, Any]:
    if _is_scalar_pair(a, b):
        x, y = transformer.transform(float(a), float(b))
        return float(x), float(y)
    xs, ys = _as_arrays(a, b)
    out_x, out_y = transformer.transform(xs, ys)
    return np.asarray(out_x, dtype=np.float64).reshape(xs.shape), np.asarray(out_y, dtype=np.float64).reshape(ys.shape)


@overload
def to_metres(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def to_metres(lon: FloatArray, lat: FloatArray | float) -> tuple[FloatArray, FloatArray]: ...
@overload
def to_metres(lon: float, lat: FloatArray) -> tuple[FloatArray, FloatArray]: ...
def to_metres(lon: FloatArray | float, lat: FloatArray | float) -> tuple[Any, Any]:
    """CGCS2000 lon/lat → (easting, northing) in metres, EPSG:4547 (CM 114°E, false easting 500 000 m)."""
    return _project(_transformers()[0], lon, lat)


@overload
def from_metres(x: float, y: float) -> tuple[float, float]: ...
@overload
def from_metres(x: FloatArray, y: FloatArray | float) -> tuple[FloatArray, FloatArray]: ...
@overload
def from_metres(x: float, y: FloatArray) -> tuple[FloatArray, FloatArray]: ...
def from_metres(x: FloatArray | float, y: FloatArray | float) -> tuple[Any, Any]:
    """(easting, northing) in EPSG:4547 metres → CGCS2000 lon/lat."""
    return _project(_transformers()[1], x, y)


def validate_lonlat(lon: ArrayLike, lat: ArrayLike) -> None:
    """Raise ``geo.bad_coordinates`` unless every lon/lat is finite, |lon| ≤ 180 and |lat| ≤ 90.

    Scalars or arrays (broadcast together); the error names the first bad position in C order.
    """
    try:
        xs, ys = _as_arrays(lon, lat)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError("geo.bad_coordinates", f"经纬度无法识别：{exc}") from None
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(xs) & np.isfinite(ys) & (np.abs(xs) <= 180.0) & (np.abs(ys) <= 90.0))
    if not bad.any():
        return
    flat = int(np.argmax(bad.ravel()))
    bad_lon = float(xs.ravel()[flat])
    bad_lat = float(ys.ravel()[flat])
    if xs.ndim == 0:
        raise InvalidInputError(
            "geo.bad_coordinates",
            f"经纬度（{bad_lon}, {bad_lat}）无效：经度须在 -180～180、纬度须在 -90～90 之间且为有限数",
            lon=bad_lon,
            lat=bad_lat,
        )
    index: int | tuple[int, ...] = flat if xs.ndim == 1 else tuple(int(i) for i in np.unravel_index(flat, xs.shape))
    raise InvalidInputError(
        "geo.bad_coordinates",
        f"第 {index} 个经纬度（{bad_lon}, {bad_lat}）无效：经度须在 -180～180、纬度须在 -90～90 之间且为有限数",
        index=index,
        lon=bad_lon,
        lat=bad_lat,
        count=int(bad.sum()),
    )
