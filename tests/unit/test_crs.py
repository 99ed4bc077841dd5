"""CRS adapter: name parsing, GCJ-02 forward/inverse, EPSG:4547 metres and lon/lat validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import ArrayLike

from xiuhua.geo.adapters.crs import (
    Crs,
    from_metres,
    from_wgs84,
    to_metres,
    to_wgs84,
    validate_lonlat,
)
from xiuhua.kernel.errors import InvalidInputError

KAIFENG_LON = (114.1, 114.6)
KAIFENG_LAT = (34.6, 35.0)


def kaifeng_grid() -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.meshgrid(np.linspace(*KAIFENG_LON, 51), np.linspace(*KAIFENG_LAT, 41))
    return lon, lat


def metres_between(lon0: np.ndarray, lat0: np.ndarray, lon1: np.ndarray, lat1: np.ndarray) -> np.ndarray:
    """Distances in metres, measured in EPSG:4547 (fine near CM 114°E, a few % off far from it)."""
    x0, y0 = to_metres(lon0, lat0)
    x1, y1 = to_metres(lon1, lat1)
    return np.hypot(x1 - x0, y1 - y0)


# --------------------------------------------------------------------------------------------------
# Crs.parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("wgs84", Crs.WGS84),
        ("WGS84", Crs.WGS84),
        (" Wgs84 ", Crs.WGS84),
        ("EPSG:4326", Crs.WGS84),
        ("epsg:4326", Crs.WGS84),
        ("4326", Crs.WGS84),
        ("cgcs2000", Crs.CGCS2000),
        ("CGCS2000", Crs.CGCS2000),
        ("EPSG:4490", Crs.CGCS2000),
        ("4490", Crs.CGCS2000),
        ("gcj02", Crs.GCJ02),
        ("GCJ02", Crs.GCJ02),
    ],
)
def test_parse_accepts_names_and_epsg_codes(text: str, expected: Crs) -> None:
    assert Crs.parse(text) is expected


@pytest.mark.parametrize("text", ["", "bd09", "epsg:3857", "4547", "gcj-02x", "wgs 84", "EPSG:"])
def test_parse_rejects_unknown_names_in_chinese(text: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        Crs.parse(text)
    assert info.value.code == "geo.unknown_crs"
    assert "坐标系" in info.value.message
    for name in ("wgs84", "cgcs2000", "gcj02", "epsg:4326", "epsg:4490"):
        assert name in info.value.message


def test_enum_values_are_the_wire_names() -> None:
    assert [c.value for c in Crs] == ["wgs84", "cgcs2000", "gcj02"]
    assert Crs.parse(str(Crs.GCJ02)) is Crs.GCJ02


# --------------------------------------------------------------------------------------------------
# GCJ-02


def test_gcj_offset_in_kaifeng_is_hundreds_of_metres() -> None:
    lon, lat = kaifeng_grid()
    g_lon, g_lat = from_wgs84(lon, lat, Crs.GCJ02)
    offset = metres_between(lon, lat, g_lon, g_lat)
    assert offset.min() > 100.0
    assert offset.max() < 1000.0


def test_gcj_forward_matches_library_scalar() -> None:
    import coordTransform  # the reference implementation we delegate to

    expected = coordTransform.wgs84_to_gcj02(114.3, 34.8)
    assert from_wgs84(114.3, 34.8, Crs.GCJ02) == (expected[0], expected[1])


def test_gcj_round_trip_under_a_centimetre_in_kaifeng() -> None:
    lon, lat = kaifeng_grid()
    w_lon, w_lat = to_wgs84(*from_wgs84(lon, lat, Crs.GCJ02), Crs.GCJ02)
    error = metres_between(lon, lat, w_lon, w_lat)
    assert error.shape == lon.shape
    assert float(error.max()) < 0.01  # measured ~4e-5 m (0.04 mm)


def test_gcj_inverse_beats_the_one_step_inverse() -> None:
    """The library's one-step inverse errs by metres in Kaifeng; the iterated one by well under 1 cm."""
    import coordTransform

    g_lon, g_lat = from_wgs84(114.35, 34.79, Crs.GCJ02)
    one_step = coordTransform.gcj02_to_wgs84(g_lon, g_lat)
    ours = to_wgs84(g_lon, g_lat, Crs.GCJ02)
    one_step_err = metres_between(np.array(114.35), np.array(34.79), np.array(one_step[0]), np.array(one_step[1]))
    our_err = metres_between(np.array(114.35), np.array(34.79), np.array(ours[0]), np.array(ours[1]))
    assert float(one_step_err) > 0.5
    assert float(our_err) < 0.01


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        (116.397, 39.909),  # Beijing
        (121.474, 31.230),  # Shanghai
        (113.264, 23.129),  # Guangzhou
        (87.617, 43.826),  # Urumqi
        (91.117, 29.648),  # Lhasa
        (126.642, 45.756),  # Harbin
        (110.330, 20.031),  # Haikou
    ],
)
def test_gcj_round_trip_under_a_centimetre_elsewhere_in_china(lon: float, lat: float) -> None:
    g = from_wgs84(lon, lat, Crs.GCJ02)
    assert g != (lon, lat)  # really shifted
    w_lon, w_lat = to_wgs84(*g, Crs.GCJ02)
    # degrees → metres on the sphere: 1e-7° ≈ 1.1 cm, so stay below 5e-8°
    assert abs(w_lon - lon) * math.cos(math.radians(lat)) < 5e-8
    assert abs(w_lat - lat) < 5e-8


def test_gcj_round_trip_china_wide_grid() -> None:
    lon, lat = np.meshgrid(np.linspace(74.0, 134.5, 121), np.linspace(18.0, 53.0, 71))
    w_lon, w_lat = to_wgs84(*from_wgs84(lon, lat, Crs.GCJ02), Crs.GCJ02)
    err_m = np.hypot((w_lon - lon) * np.cos(np.radians(lat)), w_lat - lat) * 111_320.0
    assert float(err_m.max()) < 0.01  # measured ~1.6e-4 m


@pytest.mark.parametrize(("lon", "lat"), [(2.35, 48.86), (-74.0, 40.7), (139.69, 35.69), (151.2, -33.87), (0.0, 0.0)])
def test_gcj_is_identity_outside_china(lon: float, lat: float) -> None:
    assert from_wgs84(lon, lat, Crs.GCJ02) == (lon, lat)
    assert to_wgs84(lon, lat, Crs.GCJ02) == (lon, lat)
    arr = from_wgs84(np.array([lon]), np.array([lat]), Crs.GCJ02)
    assert arr[0].tolist() == [lon]
    assert arr[1].tolist() == [lat]


@pytest.mark.parametrize("crs", [Crs.WGS84, Crs.CGCS2000])
def test_wgs84_and_cgcs2000_are_identity(crs: Crs) -> None:
    assert to_wgs84(114.3, 34.8, crs) == (114.3, 34.8)
    assert from_wgs84(114.3, 34.8, crs) == (114.3, 34.8)
    lon = np.array([114.3, 114.4])
    out_lon, _ = to_wgs84(lon, np.array([34.8, 34.9]), crs)
    assert out_lon.tolist() == [114.3, 114.4]
    out_lon[0] = 0.0
    assert lon[0] == 114.3  # a copy, not a view of the caller's array


def test_scalar_and_array_paths_agree() -> None:
    lon, lat = kaifeng_grid()
    g_lon, g_lat = from_wgs84(lon, lat, Crs.GCJ02)
    w_lon, w_lat = to_wgs84(g_lon, g_lat, Crs.GCJ02)
    for i, j in [(0, 0), (10, 20), (40, 50)]:
        assert from_wgs84(float(lon[i, j]), float(lat[i, j]), Crs.GCJ02) == (g_lon[i, j], g_lat[i, j])
        s_lon, s_lat = to_wgs84(float(g_lon[i, j]), float(g_lat[i, j]), Crs.GCJ02)
        assert s_lon == pytest.approx(w_lon[i, j], abs=1e-12)
        assert s_lat == pytest.approx(w_lat[i, j], abs=1e-12)


# --------------------------------------------------------------------------------------------------
# Vectorised shapes and types


@pytest.mark.parametrize("shape", [(0,), (1,), (7,), (3, 4), (2, 3, 2)])
def test_shapes_are_preserved(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(7)
    lon = rng.uniform(*KAIFENG_LON, size=shape)
    lat = rng.uniform(*KAIFENG_LAT, size=shape)
    for a, b in (
        from_wgs84(lon, lat, Crs.GCJ02),
        to_wgs84(lon, lat, Crs.GCJ02),
        to_wgs84(lon, lat, Crs.CGCS2000),
        to_metres(lon, lat),
        from_metres(*to_metres(lon, lat)),
    ):
        assert isinstance(a, np.ndarray)
        assert isinstance(b, np.ndarray)
        assert a.shape == shape
        assert b.shape == shape
        assert a.dtype == np.float64


def test_scalars_return_python_floats() -> None:
    for pair in (
        from_wgs84(114.3, 34.8, Crs.GCJ02),
        to_wgs84(114.3, 34.8, Crs.GCJ02),
        to_metres(114.3, 34.8),
        from_metres(527_000.0, 3_852_000.0),
    ):
        assert type(pair[0]) is float
        assert type(pair[1]) is float


def test_non_contiguous_arrays_are_handled() -> None:
    lon, lat = kaifeng_grid()
    t_lon, t_lat = lon.T, lat.T  # Fortran-ordered views
    g_lon, g_lat = from_wgs84(t_lon, t_lat, Crs.GCJ02)
    ref_lon, ref_lat = from_wgs84(lon, lat, Crs.GCJ02)
    assert np.array_equal(g_lon, ref_lon.T)
    assert np.array_equal(g_lat, ref_lat.T)


def test_scalar_broadcasts_against_array() -> None:
    lon = np.array([114.2, 114.3, 114.4])
    g_lon, g_lat = from_wgs84(lon, 34.8, Crs.GCJ02)
    assert g_lon.shape == (3,)
    assert g_lat[1] == from_wgs84(114.3, 34.8, Crs.GCJ02)[1]


# --------------------------------------------------------------------------------------------------
# EPSG:4547 metres


def test_central_meridian_at_equator_is_false_origin() -> None:
    x, y = to_metres(114.0, 0.0)
    assert x == pytest.approx(500_000.0, abs=1e-6)
    assert y == pytest.approx(0.0, abs=1e-6)


def test_known_kaifeng_value() -> None:
    # Kaifeng (114.3°E, 34.8°N): ~27.5 km east of CM 114°E, ~3852 km north of the equator.
    x, y = to_metres(114.3, 34.8)
    assert x == pytest.approx(527_452.964, abs=0.01)
    assert y == pytest.approx(3_852_446.171, abs=0.01)
    # a degree of latitude is ~111 km
    _, y2 = to_metres(114.3, 35.8)
    assert 110_000 < y2 - y < 112_000


def test_metres_round_trip_under_a_millimetre() -> None:
    lon, lat = kaifeng_grid()
    x, y = to_metres(lon, lat)
    back_lon, back_lat = from_metres(x, y)
    x2, y2 = to_metres(back_lon, back_lat)
    assert float(np.hypot(x2 - x, y2 - y).max()) < 0.001
    assert float(np.abs(back_lon - lon).max()) < 1e-8
    assert float(np.abs(back_lat - lat).max()) < 1e-8


# --------------------------------------------------------------------------------------------------
# validate_lonlat


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(114.3, 34.8), (180.0, 90.0), (-180.0, -90.0), (np.array([114.3, 0.0]), np.array([34.8, 0.0])), ([1.0], [2.0])],
)
def test_validate_accepts_good_values(lon: ArrayLike, lat: ArrayLike) -> None:
    validate_lonlat(lon, lat)  # raises on failure


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(180.1, 0.0), (-181.0, 0.0), (0.0, 90.5), (0.0, -91.0), (math.nan, 0.0), (0.0, math.inf), (-math.inf, 0.0)],
)
def test_validate_rejects_bad_scalars(lon: float, lat: float) -> None:
    with pytest.raises(InvalidInputError) as info:
        validate_lonlat(lon, lat)
    assert info.value.code == "geo.bad_coordinates"
    assert "经纬度" in info.value.message
    assert "index" not in info.value.details


def test_validate_names_first_bad_index() -> None:
    lon = np.array([114.3, 114.4, 200.0, 114.5, math.nan])
    lat = np.array([34.8, 34.9, 34.9, 95.0, 34.9])
    with pytest.raises(InvalidInputError) as info:
        validate_lonlat(lon, lat)
    assert info.value.code == "geo.bad_coordinates"
    assert info.value.details["index"] == 2
    assert info.value.details["count"] == 3
    assert "第 2 个" in info.value.message


def test_validate_names_first_bad_index_in_2d() -> None:
    lon = np.full((3, 4), 114.3)
    lat = np.full((3, 4), 34.8)
    lat[1, 2] = math.nan
    with pytest.raises(InvalidInputError) as info:
        validate_lonlat(lon, lat)
    assert info.value.details["index"] == (1, 2)


def test_validate_rejects_mismatched_shapes() -> None:
    with pytest.raises(InvalidInputError) as info:
        validate_lonlat(np.zeros(3), np.zeros(4))
    assert info.value.code == "geo.bad_coordinates"
