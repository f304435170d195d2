"""Road network: the OpenStreetMap highway graph (or a deployment's GeoJSON), shortest paths, road-km matrices."""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from geo.boundaries import DATA_DIR
from geo.circuity import ROAD_CIRCUITY
from geo.coords import project, validate_lonlat
from geo.distance import geodesic_line_km, haversine_km, haversine_matrix_km, unit_vectors

# The OSM road and rail graphs clipped to Heilongjiang and its neighbours (geo/data/build_osm.py).
OSM_NETWORK_FILE = DATA_DIR / "osm_network.npz"
# Nodes joined by an OSM edge shorter than this merge into one (interchanges, station throats,
# city grids): it halves the graph, so the all-pairs table stays small, and moves no node more
# than ~4 km (measured at build time; see geo/data/README.md).
COLLAPSE_KM = 0.6
# The access leg: a facility reaches the network through its K nearest nodes (the best of them
# wins) along local roads, modelled as great-circle × ROAD_CIRCUITY.
ACCESS_K = 3
# Below this great-circle distance a trip may use local roads directly (great-circle × circuity)
# when that is shorter than going out to the trunk network and back.
LOCAL_DIRECT_KM = 40.0
# Up to this many nodes, shortest-path rows (float32) are cached as they are first asked for, so
# a process pays Dijkstra once per node it ever uses; larger networks compute rows each time,
# from the unique nodes asked for only.
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
    _table: NDArray[np.float32] | None = field(default=None, init=False, repr=False)
    _ready: NDArray[np.bool_] | None = field(default=None, init=False, repr=False)  # rows of _table filled
    _tree: cKDTree | None = field(default=None, init=False, repr=False)
    # Threads share the table (a server's request threads, a clearing's pricing threads): rows are filled
    # under the lock and marked ready only once written, so no reader sees a half-written row.
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.node_lon = np.asarray(self.node_lon, dtype=np.float64)
        self.node_lat = np.asarray(self.node_lat, dtype=np.float64)
        self._tree = cKDTree(unit_vectors(self.node_lon, self.node_lat))

    @property
    def n_nodes(self) -> int:
        """Number of graph nodes."""
        return int(self.node_lon.size)

    def is_connected(self) -> bool:
        """True when every node can reach every other."""
        return connected_components(self.graph, directed=False)[0] == 1

    def node_rows(self, idx: ArrayLike) -> NDArray[np.float32]:
        """Shortest-path km from the given nodes to every node (Dijkstra once per unique node, then cached)."""
        idx = np.asarray(idx, dtype=np.intp)
        if self.n_nodes > _FULL_TABLE_MAX_NODES:  # too big to cache: compute what is asked, once per node
            uniq, inverse = np.unique(idx, return_inverse=True)
            return dijkstra(self.graph, directed=False, indices=uniq).astype(F32)[inverse]
        if self._table is None or not self._ready[idx].all():
            with self._lock:
                if self._table is None:
                    self._ready = np.zeros(self.n_nodes, dtype=bool)  # before _table: see the check above
                    self._table = np.full((self.n_nodes, self.n_nodes), np.nan, dtype=F32)
                missing = np.unique(idx[~self._ready[idx]])
                if missing.size:
                    self._table[missing] = dijkstra(self.graph, directed=False, indices=missing)
                    self._ready[missing] = True
        return self._table[idx]

    def node_block(self, rows: NDArray[np.intp], cols: NDArray[np.intp]) -> NDArray[np.float32]:
        """Shortest-path km from the nodes `rows` to the nodes `cols` (len(rows) × len(cols), float32)."""
        rows, cols = np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp)
        if self.n_nodes > _FULL_TABLE_MAX_NODES:
            return self.node_rows(rows)[:, cols]
        self.node_rows(np.unique(rows))  # fills the cache; then gather the block without full-width rows
        return self._table[np.ix_(rows, cols)]

    def pair_km(self, a: NDArray[np.intp], b: NDArray[np.intp]) -> NDArray[np.float32]:
        """Shortest-path km between node a[k] and node b[k], element-wise."""
        if self.n_nodes > _FULL_TABLE_MAX_NODES:
            return self.node_rows(a)[np.arange(a.size), b]
        self.node_rows(np.unique(a))  # fills the cache; gather without a P × n temporary
        return self._table[a, b]

    def table(self) -> NDArray[np.float32]:
        """The full node-to-node shortest-path table in km (float32; rows are computed on first use)."""
        return self.node_rows(np.arange(self.n_nodes))

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

    def source_rows(self, lon: ArrayLike, lat: ArrayLike, cols: NDArray[np.intp] | None = None) -> NDArray[np.float32]:
        """For each point, road km to every node, or to the nodes `cols` only (best of its k access legs)."""
        idx, access = self.nearest_nodes(lon, lat)
        access = access.astype(F32)
        width = self.n_nodes if cols is None else cols.size
        rows = np.full((idx.shape[0], width), np.inf, dtype=F32)
        for i in range(idx.shape[1]):  # k ≤ a few: loop over access options, not over points
            part = self.node_rows(idx[:, i])
            if cols is not None:
                part = part[:, cols]
            part += access[:, i, None]
            np.minimum(rows, part, out=rows)
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
        didx, dacc = self.nearest_nodes(dst_lon, dst_lat)
        # Only the destinations' nodes matter: rows restricted to them, indexed through `didx`.
        cols, didx = np.unique(didx, return_inverse=True)
        didx = didx.reshape(dacc.shape)
        rows = self.source_rows(src_lon, src_lat, cols)
        out = np.full((rows.shape[0], didx.shape[0]), np.inf, dtype=F32)
        for j in range(didx.shape[1]):
            leg = np.take(rows, didx[:, j], axis=1)
            leg += dacc[:, j].astype(F32)[None, :]
            np.minimum(out, leg, out=out)
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
        for i in range(i1.shape[1]):
            for j in range(i2.shape[1]):
                np.minimum(best, a1[:, i] + self.pair_km(i1[:, i], i2[:, j]) + a2[:, j], out=best)
        gc = haversine_km(lon1, lat1, lon2, lat2)
        best = np.where(gc <= self.local_direct_km, np.minimum(best, gc * self.circuity), best)
        return np.maximum(best, gc)

    def _apply_local(self, out: NDArray[np.float32], gc_km: NDArray) -> None:
        """Short trips may go direct by local roads; no trip is ever shorter than the great circle.

        Merged nodes and 100 m coordinate rounding can leave a path a hair under the straight line.
        """
        near = gc_km <= self.local_direct_km
        if near.any():
            out[near] = np.minimum(out[near], (gc_km[near] * self.circuity).astype(F32))
        np.maximum(out, gc_km.astype(F32), out=out)

    # -- constructors ------------------------------------------------------------------------

    @classmethod
    def from_links(
        cls, node_ids: list[str], lon: ArrayLike, lat: ArrayLike, a: ArrayLike, b: ArrayLike, length_km: ArrayLike, **kw
    ) -> RoadNetwork:
        """Build from node positions and an undirected edge list (node indices, km)."""
        graph = undirected_graph(len(node_ids), a, b, length_km)
        return cls(np.asarray(lon, float), np.asarray(lat, float), graph, list(node_ids), **kw)

    @classmethod
    def from_npz(cls, path: str | Path, prefix: str = "road", collapse_km: float = COLLAPSE_KM, **kw) -> RoadNetwork:
        """Load one graph of an osm_network.npz, merging nodes joined by edges shorter than collapse_km."""
        lon, lat, a, b, w = collapse_short_edges(*load_npz_graph(path, prefix), collapse_km)
        return cls.from_links([f"{prefix}{i}" for i in range(lon.size)], lon, lat, a, b, w, **kw)

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


def undirected_graph(n: int, a: ArrayLike, b: ArrayLike, length_km: ArrayLike) -> csr_matrix:
    """A symmetric CSR graph from an edge list; parallel edges keep the shortest, self-loops go."""
    a = np.asarray(a, dtype=np.intp)
    b = np.asarray(b, dtype=np.intp)
    w = np.asarray(length_km, dtype=np.float64)
    # coo→csr would add parallel edges up, so reduce them to their minimum first.
    df = pd.DataFrame({"a": np.minimum(a, b), "b": np.maximum(a, b), "w": w})
    df = df[df.a != df.b].groupby(["a", "b"], as_index=False)["w"].min()
    return coo_matrix((np.r_[df.w, df.w], (np.r_[df.a, df.b], np.r_[df.b, df.a])), shape=(n, n)).tocsr()


def load_npz_graph(path: str | Path, prefix: str) -> tuple[NDArray, NDArray, NDArray, NDArray, NDArray]:
    """(lon, lat, a, b, km) of the `prefix` graph in an osm_network.npz (coordinates stored in millidegrees)."""
    with np.load(path) as z:
        return (
            z[f"{prefix}_lon_mdeg"] / 1000.0,
            z[f"{prefix}_lat_mdeg"] / 1000.0,
            z[f"{prefix}_a"].astype(np.intp),
            z[f"{prefix}_b"].astype(np.intp),
            z[f"{prefix}_km"].astype(np.float64),
        )


def collapse_short_edges(lon: NDArray, lat: NDArray, a: NDArray, b: NDArray, w: NDArray, below_km: float):
    """Merge the ends of every edge shorter than below_km into one node at their mean position.

    An edge that keeps running between two merged nodes is lengthened by how far each of its ends
    moved, so a path crossing a merged cluster still pays entry → centre → exit: merging must
    not drop the km inside interchanges, station throats and towns (the straight line between
    entry and exit is at most that). Without this a route lost ~2 % of its length (rail
    reference bias -2.2 % → -0.1 %, see geo/data/README.md, "Accuracy").
    """
    short = w < below_km
    n = lon.size
    links = coo_matrix((np.ones(short.sum()), (a[short], b[short])), shape=(n, n))
    _, label = connected_components(links, directed=False)
    count = np.bincount(label)
    mlon = np.bincount(label, weights=lon) / count
    mlat = np.bincount(label, weights=lat) / count
    moved = haversine_km(lon, lat, mlon[label], mlat[label])
    keep = ~short & (label[a] != label[b])
    return mlon, mlat, label[a[keep]], label[b[keep]], w[keep] + moved[a[keep]] + moved[b[keep]]


@functools.cache
def osm_road_network() -> RoadNetwork:
    """The built-in road network: OpenStreetMap highways of Heilongjiang and its neighbours."""
    return RoadNetwork.from_npz(OSM_NETWORK_FILE, "road")


@functools.cache
def _geojson_network(path: str) -> RoadNetwork:
    return RoadNetwork.from_geojson(path)


_road_network_path: str | None = None


def configure_road_network(path: str | Path | None) -> None:
    """Make a GeoJSON road network the default (None restores the built-in OSM network)."""
    global _road_network_path
    _road_network_path = str(path) if path else None


def default_network() -> RoadNetwork:
    """The deployment's network: the configured GeoJSON, else the built-in OSM network."""
    return _geojson_network(_road_network_path) if _road_network_path else osm_road_network()


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
