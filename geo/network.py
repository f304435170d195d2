"""Road network: seat-to-seat graph (or a deployment's GeoJSON), shortest paths and road-km matrices."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from geo.boundaries import DATA_DIR, seats
from geo.circuity import ROAD_CIRCUITY
from geo.coords import project, validate_lonlat
from geo.distance import geodesic_line_km, haversine_km, haversine_matrix_km, unit_vectors

# A facility reaches the trunk network through its K nearest nodes (the best of them wins), so a
# plant between two seats is not forced through the one that happens to be closest.
ACCESS_K = 3
# Below this great-circle distance a trip uses local roads directly (great-circle × circuity)
# instead of going through the seat network: inside one county the local grid is dense enough.
LOCAL_DIRECT_KM = 40.0
# Environment variable a deployment sets to a GeoJSON of LineStrings to replace the seat graph.
# All-pairs tables are precomputed up to this many nodes; larger networks compute rows on demand.
_FULL_TABLE_MAX_NODES = 4000

F32 = np.float32


@dataclass(eq=False)
class RoadNetwork:
    """An undirected road graph with node positions and a shortest-path table."""

    node_lon: NDArray[np.float64]
    node_lat: NDArray[np.float64]
    graph: csr_matrix
    node_ids: list[str] = field(default_factory=list)
    circuity: float = ROAD_CIRCUITY
    access_k: int = ACCESS_K
    local_direct_km: float = LOCAL_DIRECT_KM
    _table: NDArray[np.float64] | None = field(default=None, init=False, repr=False)
    _tree: cKDTree | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.node_lon = np.asarray(self.node_lon, dtype=np.float64)
        self.node_lat = np.asarray(self.node_lat, dtype=np.float64)
        self._tree = cKDTree(unit_vectors(self.node_lon, self.node_lat))
        if self.n_nodes <= _FULL_TABLE_MAX_NODES:
            self._table = dijkstra(self.graph, directed=False)

    @property
    def n_nodes(self) -> int:
        """Number of graph nodes."""
        return int(self.node_lon.size)

    def is_connected(self) -> bool:
        """True when every node can reach every other."""
        return connected_components(self.graph, directed=False)[0] == 1

    def node_rows(self, idx: ArrayLike) -> NDArray[np.float64]:
        """Shortest-path km from the given nodes to every node."""
        idx = np.asarray(idx, dtype=np.intp)
        if self._table is not None:
            return self._table[idx]
        return dijkstra(self.graph, directed=False, indices=idx)

    def table(self) -> NDArray[np.float64]:
        """The full node-to-node shortest-path table in km."""
        if self._table is None:
            self._table = dijkstra(self.graph, directed=False)
        return self._table

    def nearest_nodes(
        self, lon: ArrayLike, lat: ArrayLike, k: int | None = None
    ) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        """The k nearest nodes of each point and the road access leg to each (great-circle × circuity)."""
        k = min(k or self.access_k, self.n_nodes)
        lon = np.asarray(lon, dtype=np.float64).ravel()
        lat = np.asarray(lat, dtype=np.float64).ravel()
        _, idx = self._tree.query(unit_vectors(lon, lat), k=k)
        idx = np.asarray(idx, dtype=np.intp).reshape(lon.size, k)
        access = haversine_km(lon[:, None], lat[:, None], self.node_lon[idx], self.node_lat[idx]) * self.circuity
        return idx, access

    # -- distances ---------------------------------------------------------------------------

    def source_rows(self, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.float32]:
        """For each point, road km to every node (best of its k access legs)."""
        idx, access = self.nearest_nodes(lon, lat)
        rows = np.full((idx.shape[0], self.n_nodes), np.inf, dtype=F32)
        for i in range(idx.shape[1]):  # k ≤ a few: loop over access options, not over points
            np.minimum(rows, (access[:, i, None] + self.node_rows(idx[:, i])).astype(F32), out=rows)
        return rows

    def km_matrix(
        self,
        src_lon: ArrayLike,
        src_lat: ArrayLike,
        dst_lon: ArrayLike,
        dst_lat: ArrayLike,
        gc_km: NDArray | None = None,
    ) -> NDArray[np.float32]:
        """M×N road km between two point sets (already validated, WGS84)."""
        rows = self.source_rows(src_lon, src_lat)
        didx, dacc = self.nearest_nodes(dst_lon, dst_lat)
        out = np.full((rows.shape[0], didx.shape[0]), np.inf, dtype=F32)
        for j in range(didx.shape[1]):
            np.minimum(out, rows[:, didx[:, j]] + dacc[:, j].astype(F32)[None, :], out=out)
        if gc_km is None:
            gc_km = haversine_matrix_km(src_lon, src_lat, dst_lon, dst_lat)
        self._apply_local(out, np.asarray(gc_km))
        return out

    def km_pairs(self, lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> NDArray[np.float64]:
        """Road km between paired points (element-wise, not a matrix)."""
        lon1, lat1, lon2, lat2 = (np.asarray(a, dtype=np.float64).ravel() for a in (lon1, lat1, lon2, lat2))
        i1, a1 = self.nearest_nodes(lon1, lat1)
        i2, a2 = self.nearest_nodes(lon2, lat2)
        best = np.full(lon1.size, np.inf)
        table = self._table
        for i in range(i1.shape[1]):
            rows = self.node_rows(i1[:, i]) if table is None else None
            for j in range(i2.shape[1]):
                d = table[i1[:, i], i2[:, j]] if table is not None else rows[np.arange(lon1.size), i2[:, j]]
                np.minimum(best, a1[:, i] + d + a2[:, j], out=best)
        gc = haversine_km(lon1, lat1, lon2, lat2)
        return np.where(gc <= self.local_direct_km, np.minimum(best, gc * self.circuity), best)

    def _apply_local(self, out: NDArray[np.float32], gc_km: NDArray) -> None:
        near = gc_km <= self.local_direct_km
        if near.any():
            out[near] = np.minimum(out[near], (gc_km[near] * self.circuity).astype(F32))

    # -- constructors ------------------------------------------------------------------------

    @classmethod
    def from_links(
        cls, node_ids: list[str], lon: ArrayLike, lat: ArrayLike, a: ArrayLike, b: ArrayLike, length_km: ArrayLike, **kw
    ) -> RoadNetwork:
        """Build from node positions and an undirected edge list (node indices, km)."""
        a = np.asarray(a, dtype=np.intp)
        b = np.asarray(b, dtype=np.intp)
        w = np.asarray(length_km, dtype=np.float64)
        n = len(node_ids)
        # Parallel edges: keep the shortest (coo→csr would add them up).
        df = pd.DataFrame({"a": np.minimum(a, b), "b": np.maximum(a, b), "w": w})
        df = df[df.a != df.b].groupby(["a", "b"], as_index=False)["w"].min()
        graph = coo_matrix((np.r_[df.w, df.w], (np.r_[df.a, df.b], np.r_[df.b, df.a])), shape=(n, n)).tocsr()
        return cls(np.asarray(lon, float), np.asarray(lat, float), graph, list(node_ids), **kw)

    @classmethod
    def from_geojson(cls, path: str | Path, snap_m: float = 50.0, **kw) -> RoadNetwork:
        """Build from a GeoJSON of LineStrings: endpoints within snap_m merge into nodes; edges get geodesic length."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        feats = data["features"] if data.get("type") == "FeatureCollection" else [data]
        lines: list[NDArray[np.float64]] = []
        for f in feats:
            geom = f.get("geometry") or {}
            if geom.get("type") == "LineString":
                parts = [geom["coordinates"]]
            elif geom.get("type") == "MultiLineString":
                parts = geom["coordinates"]
            else:
                continue
            lines.extend(np.asarray(p, dtype=np.float64)[:, :2] for p in parts if len(p) >= 2)
        if not lines:
            raise ValueError(f"{path}: no LineString features found")
        ends = np.array([[ln[0], ln[-1]] for ln in lines]).reshape(-1, 2)
        x, y = project(ends[:, 0], ends[:, 1])
        # Union-find over endpoint pairs closer than snap_m (metric CRS), so touching lines share a node.
        parent = np.arange(len(ends))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for i, j in cKDTree(np.column_stack([x, y])).query_pairs(snap_m):
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
        roots = np.array([find(i) for i in range(len(ends))])
        uniq, node_of_end = np.unique(roots, return_inverse=True)
        lon = np.bincount(node_of_end, weights=ends[:, 0]) / np.bincount(node_of_end)
        lat = np.bincount(node_of_end, weights=ends[:, 1]) / np.bincount(node_of_end)
        length = np.array([geodesic_line_km(ln[:, 0], ln[:, 1]) for ln in lines])
        a, b = node_of_end[0::2], node_of_end[1::2]
        ids = [f"n{i}" for i in range(uniq.size)]
        return cls.from_links(ids, lon, lat, a, b, length, **kw)


@functools.cache
def seat_network() -> RoadNetwork:
    """The built-in network over the 135 seats, from geo/data/road_links.csv."""
    s = seats()
    links = pd.read_csv(DATA_DIR / "road_links.csv", dtype={"from_adcode": str, "to_adcode": str})
    pos = {c: i for i, c in enumerate(s["adcode"])}
    return RoadNetwork.from_links(
        list(s["adcode"]),
        s["lon"].to_numpy(),
        s["lat"].to_numpy(),
        links["from_adcode"].map(pos).to_numpy(),
        links["to_adcode"].map(pos).to_numpy(),
        links["length_km"].to_numpy(),
    )


@functools.cache
def _geojson_network(path: str) -> RoadNetwork:
    return RoadNetwork.from_geojson(path)


_road_network_path: str | None = None


def configure_road_network(path: str | Path | None) -> None:
    """Make a GeoJSON road network the default (None restores the built-in seat network)."""
    global _road_network_path
    _road_network_path = str(path) if path else None


def default_network() -> RoadNetwork:
    """The deployment's network: the configured GeoJSON, else the seat network."""
    return _geojson_network(_road_network_path) if _road_network_path else seat_network()


def seat_road_km(code_a: str, code_b: str) -> float:
    """Shortest road km between two seats given by adcode."""
    net = seat_network()
    i, j = net.node_ids.index(code_a), net.node_ids.index(code_b)
    return float(net.table()[i, j])


def road_km_matrix(
    src_lon: ArrayLike, src_lat: ArrayLike, dst_lon: ArrayLike, dst_lat: ArrayLike, network: RoadNetwork | None = None
) -> NDArray[np.float64]:
    """M×N road distance matrix in km between WGS84 points."""
    src_lon, src_lat = validate_lonlat(src_lon, src_lat)
    dst_lon, dst_lat = validate_lonlat(dst_lon, dst_lat)
    net = network or default_network()
    return net.km_matrix(src_lon, src_lat, dst_lon, dst_lat).astype(np.float64)


def within_road_km(
    origin_lon: float,
    origin_lat: float,
    lons: ArrayLike,
    lats: ArrayLike,
    radius_km: float,
    network: RoadNetwork | None = None,
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Which points lie within radius_km by road of the origin; returns (mask, road km)."""
    if not np.isfinite(radius_km) or radius_km < 0:
        raise ValueError(f"radius_km must be a finite non-negative number, got {radius_km!r}")
    km = road_km_matrix([origin_lon], [origin_lat], lons, lats, network=network)[0]
    return km <= radius_km, km
