"""Great-circle (haversine) and geodesic distances on the WGS84 earth."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import Geod

# IUGG mean earth radius (Moritz 1980, Geodetic Reference System 1980).
EARTH_RADIUS_KM = 6371.0088

_GEOD = Geod(ellps="WGS84")


def haversine_km(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> NDArray[np.float64]:
    """Great-circle distance in km, broadcasting over numpy arrays."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, dtype=np.float64)) for a in (lon1, lat1, lon2, lat2))
    return _haversine(lat2 - lat1, lon2 - lon1, np.cos(lat1) * np.cos(lat2))


def haversine_index_km(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike, i: ArrayLike,
                       j: ArrayLike) -> NDArray[np.float64]:
    """``haversine_km(lon1[i], lat1[i], lon2[j], lat2[j])`` with the same operations, so the same figures.

    Radians and cosines of latitude are worked out once per point rather than once per pair: for many
    pairs among few points (a category's candidate pairs) that is most of the work.
    """
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, dtype=np.float64)) for a in (lon1, lat1, lon2, lat2))
    i, j = np.asarray(i, dtype=np.intp), np.asarray(j, dtype=np.intp)
    cos1, cos2 = np.cos(lat1), np.cos(lat2)
    return _haversine(lat2[j] - lat1[i], lon2[j] - lon1[i], cos1[i] * cos2[j])


def _haversine(dlat: NDArray[np.float64], dlon: NDArray[np.float64], cos_product: NDArray[np.float64]
               ) -> NDArray[np.float64]:
    """km from the latitude and longitude differences (radians) and the product of the latitudes' cosines."""
    s = np.sin(dlat * 0.5) ** 2 + cos_product * np.sin(dlon * 0.5) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(s, 0.0, 1.0)))


def haversine_matrix_km(
    src_lon: ArrayLike, src_lat: ArrayLike, dst_lon: ArrayLike, dst_lat: ArrayLike
) -> NDArray[np.float64]:
    """M×N great-circle distance matrix in km."""
    src_lon = np.asarray(src_lon, dtype=np.float64)[:, None]
    src_lat = np.asarray(src_lat, dtype=np.float64)[:, None]
    dst_lon = np.asarray(dst_lon, dtype=np.float64)[None, :]
    dst_lat = np.asarray(dst_lat, dtype=np.float64)[None, :]
    return haversine_km(src_lon, src_lat, dst_lon, dst_lat)


def unit_vectors(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.float64]:
    """Points as 3-D unit vectors, so a KD-tree's chord order equals great-circle order."""
    lon = np.radians(np.asarray(lon, dtype=np.float64))
    lat = np.radians(np.asarray(lat, dtype=np.float64))
    cl = np.cos(lat)
    return np.column_stack([cl * np.cos(lon), cl * np.sin(lon), np.sin(lat)])


def geodesic_line_km(lons: ArrayLike, lats: ArrayLike) -> float:
    """Length in km of a polyline measured on the WGS84 ellipsoid."""
    return float(_GEOD.line_length(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))) / 1000.0
