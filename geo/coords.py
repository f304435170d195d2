"""Coordinate systems: WGS84 storage, GCJ-02 / BD-09 input, metric projection, region checks."""

from __future__ import annotations

import functools
import math
import threading

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer

from geo.errors import OutOfRegionError

SYSTEMS = ("wgs84", "gcj02", "bd09")

# Krasovsky 1940 ellipsoid, which the published GCJ-02 formulas use.
_A = 6378245.0
_EE = 0.00669342162296594323
# Baidu's BD-09 rotation constant (x_pi = π·3000/180).
_X_PI = math.pi * 3000.0 / 180.0

# Albers equal-area conic centred on Heilongjiang (standard parallels span the province),
# so buffers are in metres and areas are true.
METRIC_CRS = "+proj=aea +lat_1=44 +lat_2=52 +lat_0=48 +lon_0=128 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"

# Points this far beyond the provincial border, on the Chinese side, are still accepted (facilities
# just over the border in Jilin or Inner Mongolia trade with Heilongjiang); farther ones, and any
# across the state border, are data errors.
SERVICE_BUFFER_KM = 150.0

Array = NDArray[np.float64]


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    return np.broadcast_arrays(lon_a, lat_a)  # type: ignore[return-value]


def _out_of_china(lon: Array, lat: Array) -> NDArray[np.bool_]:
    # The GCJ-02 offset is applied only inside this rectangle.
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _gcj_offset(lon: Array, lat: Array) -> tuple[Array, Array]:
    """GCJ-02 minus WGS84 in degrees at a WGS84 position (published forward formulas)."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    dlat += (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * math.pi) + 320.0 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    dlon += (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad_lat = np.radians(lat)
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = dlon * 180.0 / (_A / sqrt_magic * np.cos(rad_lat) * math.pi)
    outside = _out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """WGS84 → GCJ-02 (forward transform)."""
    lon_a, lat_a = _as_arrays(lon, lat)
    dlon, dlat = _gcj_offset(lon_a, lat_a)
    return lon_a + dlon, lat_a + dlat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike, tol_deg: float = 1e-10, max_iter: int = 30) -> tuple[Array, Array]:
    """GCJ-02 → WGS84 by fixed-point iteration of the forward transform (error ≪ 1 m)."""
    g_lon, g_lat = _as_arrays(lon, lat)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(max_iter):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon, e_lat = g_lon - f_lon, g_lat - f_lat
        w_lon = w_lon + e_lon
        w_lat = w_lat + e_lat
        if np.nanmax(np.abs(e_lon), initial=0.0) < tol_deg and np.nanmax(np.abs(e_lat), initial=0.0) < tol_deg:
            break
    return w_lon, w_lat


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """GCJ-02 → BD-09 (Baidu's published transform)."""
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike, tol_deg: float = 1e-11, max_iter: int = 10) -> tuple[Array, Array]:
    """BD-09 → GCJ-02: the closed-form approximate inverse refined by iteration."""
    b_lon, b_lat = _as_arrays(lon, lat)
    x, y = b_lon - 0.0065, b_lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    g_lon, g_lat = z * np.cos(theta), z * np.sin(theta)
    for _ in range(max_iter):
        f_lon, f_lat = gcj02_to_bd09(g_lon, g_lat)
        e_lon, e_lat = b_lon - f_lon, b_lat - f_lat
        g_lon, g_lat = g_lon + e_lon, g_lat + e_lat
        if np.nanmax(np.abs(e_lon), initial=0.0) < tol_deg and np.nanmax(np.abs(e_lat), initial=0.0) < tol_deg:
            break
    return g_lon, g_lat


def _system(system: str) -> str:
    s = str(system).strip().lower().replace("-", "").replace("_", "")
    if s not in SYSTEMS:
        raise ValueError(f"unknown coordinate system {system!r}: expected one of {', '.join(SYSTEMS)}")
    return s


def to_wgs84(lon: ArrayLike, lat: ArrayLike, system: str) -> tuple[Array, Array]:
    """Convert coordinates given in `system` ("wgs84", "gcj02" or "bd09") to WGS84."""
    s = _system(system)
    if s == "wgs84":
        return _as_arrays(lon, lat)
    if s == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def from_wgs84(lon: ArrayLike, lat: ArrayLike, system: str) -> tuple[Array, Array]:
    """Convert WGS84 coordinates to `system` ("wgs84", "gcj02" or "bd09")."""
    s = _system(system)
    if s == "wgs84":
        return _as_arrays(lon, lat)
    if s == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


@functools.cache
def _to_metric() -> Transformer:
    return Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)


@functools.cache
def _from_metric() -> Transformer:
    return Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)


def project(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """WGS84 lon/lat → metres in METRIC_CRS."""
    x, y = _to_metric().transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def unproject(x: ArrayLike, y: ArrayLike) -> tuple[Array, Array]:
    """Metres in METRIC_CRS → WGS84 lon/lat."""
    lon, lat = _from_metric().transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


_AREA_LOCK = threading.Lock()


@functools.cache
def service_area() -> shapely.Geometry:
    """The province and, within SERVICE_BUFFER_KM of it, the Chinese neighbours the networks reach (a prepared
    WGS84 polygon): a point in Russia across the Amur is as far from a Chinese road as one 500 km away."""
    from geo.boundaries import NEIGHBOUR_MASK, province_polygon  # late import: boundaries imports this module

    province = province_polygon()
    metric = shapely.transform(province, lambda xy: np.column_stack(project(xy[:, 0], xy[:, 1])))
    # Simplify at 1 km: the buffer is 150 km, so the edge precision hardly matters and checks get fast.
    buffered = shapely.simplify(shapely.buffer(metric, SERVICE_BUFFER_KM * 1000.0, quad_segs=4), 1000.0)
    reach = shapely.transform(buffered, lambda xy: np.column_stack(unproject(xy[:, 0], xy[:, 1])))
    area = shapely.union(province, shapely.intersection(reach, shapely.Polygon(NEIGHBOUR_MASK)))
    shapely.prepare(area)
    return area


def in_service_area(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Whether each WGS84 point lies in the service area (no error for points outside it)."""
    # GEOS prepared geometries build their indexes lazily and are not safe to query from two threads at once
    # (libgeos/geos#825, open): a server's request threads and a clearing's pricing threads take turns.
    with _AREA_LOCK:
        return shapely.contains_xy(service_area(), lon, lat)


def validate_lonlat(lon: ArrayLike, lat: ArrayLike, *, check_region: bool = True) -> tuple[Array, Array]:
    """Return lon/lat as 1-D float arrays; reject non-finite, out-of-range or out-of-region points."""
    lon_a, lat_a = _as_arrays(lon, lat)
    lon_a, lat_a = np.atleast_1d(lon_a).ravel(), np.atleast_1d(lat_a).ravel()
    bad = ~(np.isfinite(lon_a) & np.isfinite(lat_a))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"coordinate #{i} ({lon_a[i]}, {lat_a[i]}) is not a finite number")
    bad = (np.abs(lat_a) > 90.0) | (np.abs(lon_a) > 180.0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"coordinate #{i} (lon {lon_a[i]}, lat {lat_a[i]}) is out of range: "
            "longitude must be within ±180 and latitude within ±90 (are lon and lat swapped?)"
        )
    if check_region:
        inside = in_service_area(lon_a, lat_a)
        if not inside.all():
            idx = np.flatnonzero(~inside)
            shown = ", ".join(f"({lon_a[i]:.6f}, {lat_a[i]:.6f})" for i in idx[:3])
            more = f" and {idx.size - 3} more" if idx.size > 3 else ""
            raise OutOfRegionError(
                f"{idx.size} point(s) outside Heilongjiang and its {SERVICE_BUFFER_KM:.0f} km service area in China: "
                f"{shown}{more} (lon, lat in WGS84)"
            )
    return lon_a, lat_a
