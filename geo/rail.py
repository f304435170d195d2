"""Rail network: the OpenStreetMap railway graph, railheads (stations on it) and rail km between them."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from geo.boundaries import DATA_DIR, province_polygon, stations
from geo.circuity import RAIL_CIRCUITY
from geo.distance import haversine_km, unit_vectors
from geo.network import COLLAPSE_KM, OSM_NETWORK_FILE, collapse_short_edges, load_npz_graph, undirected_graph

# A facility considers this many nearest railheads for each end of a rail leg.
RAILHEAD_K = 3
# A station is a railhead when the OSM rail graph passes within this distance of it; the
# snap (station to track) is added to the rail km at both ends.
RAILHEAD_SNAP_KM = 3.0
# The simplified OSM rail graph has gaps (e.g. south of Bei'an, around Jiagedaqi): pieces are
# joined to the rest by their closest node pair when the gap is at most this long, the joint
# costing great-circle × RAIL_CIRCUITY. Longer gaps leave the piece out.
RAIL_GAP_KM = 45.0
# Freight does not run on the passenger-dedicated lines opened since 2015 (哈齐, 哈牡, 牡佳 and
# in practice 哈佳), which OSM carries beside the old lines. The graph has no tags, so a line
# piece (junction to junction) inside Heilongjiang at least this long that passes none of the
# 340 listed conventional stations is taken to be one of them and left out of the freight graph.
PASSENGER_LINE_MIN_KM = 40.0
STATION_ON_LINE_KM = 1.5
# Where the simplified graph lacks a stretch of a listed line (geo/data/rail_lines.csv: the main
# lines as ordered station lists), consecutive stations are joined directly when the graph's
# path between them is missing or longer than this many times their great-circle distance; the
# joint costs great-circle × RAIL_CIRCUITY, and a station off the graph becomes a node.
LINE_FILL_DETOUR = 3.0
SPUR_KM = 25.0


@dataclass(eq=False)
class RailNetwork:
    """Railheads (stations on the rail graph) and the rail km between every pair."""

    names: list[str]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    table: NDArray[np.float64]  # rail km; inf on the diagonal and where the graph does not connect
    unplaced: list[str] = field(default_factory=list)  # stations too far from any track
    _tree: cKDTree = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._tree = cKDTree(unit_vectors(self.lon, self.lat))

    @property
    def n(self) -> int:
        """Number of railheads."""
        return len(self.names)

    def nearest(self, lon: ArrayLike, lat: ArrayLike, k: int = RAILHEAD_K) -> NDArray[np.intp]:
        """Indices of the k nearest railheads (great-circle) of each point, shape (P, k)."""
        lon = np.asarray(lon, dtype=np.float64).ravel()
        k = min(k, self.n)
        _, idx = self._tree.query(unit_vectors(lon, np.asarray(lat, dtype=np.float64).ravel()), k=k)
        return np.asarray(idx, dtype=np.intp).reshape(lon.size, k)

    def km(self, a: str, b: str) -> float:
        """Rail km between two railheads by station name."""
        return float(self.table[self.names.index(a), self.names.index(b)])


def railheads_on(
    st: pd.DataFrame, node_lon: NDArray, node_lat: NDArray, on_track: NDArray[np.bool_] | None = None
) -> tuple[pd.DataFrame, NDArray[np.intp], NDArray[np.float64], list[str]]:
    """Stations within RAILHEAD_SNAP_KM of a rail node: (railheads, their node, snap km, names left out).

    Only nodes marked on_track (default: all) count: a node left without edges (its line dropped as
    passenger-only) is no track, and a station snapped to it could reach no other station."""
    usable = np.arange(node_lon.size) if on_track is None else np.flatnonzero(on_track)
    _, k = cKDTree(unit_vectors(node_lon[usable], node_lat[usable])).query(unit_vectors(st["lon"], st["lat"]))
    node = usable[k]
    snap = haversine_km(st["lon"], st["lat"], node_lon[node], node_lat[node])
    on = snap <= RAILHEAD_SNAP_KM
    return st[on].reset_index(drop=True), np.asarray(node)[on], np.asarray(snap)[on], list(st.loc[~on, "name"])


def drop_passenger_lines(lon: NDArray, lat: NDArray, a: NDArray, b: NDArray, w: NDArray, st: pd.DataFrame):
    """Remove long station-less line pieces inside the province (see PASSENGER_LINE_MIN_KM); returns kept edges."""
    from geo.data.build_osm import chains  # drawing helper shared with the build

    node = cKDTree(unit_vectors(lon, lat)).query(unit_vectors(st["lon"], st["lat"]))[1]
    near = haversine_km(st["lon"], st["lat"], lon[node], lat[node]) <= STATION_ON_LINE_KM
    has_station = np.zeros(lon.size, dtype=bool)
    has_station[node[near]] = True
    length = {}
    for i, j, km in zip(a.tolist(), b.tolist(), w.tolist(), strict=True):
        length[(i, j)] = length[(j, i)] = km
    poly = province_polygon()
    drop: set[tuple[int, int]] = set()
    for path in chains(a, b, lon.size):
        km = sum(length[(p, q)] for p, q in zip(path, path[1:], strict=False))
        mid = path[len(path) // 2]
        inside = shapely.contains_xy(poly, lon[mid], lat[mid])
        if km >= PASSENGER_LINE_MIN_KM and not has_station[path].any() and inside:
            drop.update(zip(path, path[1:], strict=False))
            drop.update(zip(path[1:], path, strict=False))
    keep = np.array([(i, j) not in drop for i, j in zip(a.tolist(), b.tolist(), strict=True)], dtype=bool)
    return a[keep], b[keep], w[keep]


def close_gaps(lon: NDArray, lat: NDArray, a: NDArray, b: NDArray, w: NDArray, max_km: float = RAIL_GAP_KM):
    """Join each piece of track to the largest one through its closest node pair when that gap is ≤ max_km.

    Nodes left without any edge (e.g. inside a dropped passenger line) are no piece and stay out.
    """
    n = lon.size
    on_track = np.zeros(n, dtype=bool)
    on_track[a] = on_track[b] = True
    while True:
        _, label = connected_components(coo_matrix((np.ones(a.size), (a, b)), shape=(n, n)), directed=False)
        label = np.where(on_track, label, -1)
        main = np.argmax(np.bincount(label[on_track]))
        main_idx = np.flatnonzero(label == main)
        tree = cKDTree(unit_vectors(lon[main_idx], lat[main_idx]))
        best = None
        for piece in np.unique(label[on_track & (label != main)]):
            idx = np.flatnonzero(label == piece)
            _, j = tree.query(unit_vectors(lon[idx], lat[idx]))
            gap = haversine_km(lon[idx], lat[idx], lon[main_idx[j]], lat[main_idx[j]])
            k = int(np.argmin(gap))
            if gap[k] <= max_km and (best is None or gap[k] < best[0]):
                best = (float(gap[k]), int(idx[k]), int(main_idx[j[k]]))
        if best is None:
            return a, b, w
        a, b, w = np.r_[a, best[1]], np.r_[b, best[2]], np.r_[w, best[0] * RAIL_CIRCUITY]


def fill_from_line_lists(lon: NDArray, lat: NDArray, a: NDArray, b: NDArray, w: NDArray, st: pd.DataFrame):
    """Join the listed lines' stations to the graph, and consecutive stations where it lacks the track.

    A station within RAILHEAD_SNAP_KM of a node is that node; one within SPUR_KM gets a spur to its
    nearest node (the simplified track runs a few km off); one further out becomes a free node.
    Then consecutive stations whose path is missing or longer than LINE_FILL_DETOUR × great
    circle are joined directly. Every added edge costs great-circle × RAIL_CIRCUITY.
    """
    lines = pd.read_csv(DATA_DIR / "rail_lines.csv")["stations"].str.split("|")
    pos = st.drop_duplicates("name").set_index("name")[["lon", "lat"]]
    tree = cKDTree(unit_vectors(lon, lat))
    lon, lat = list(lon), list(lat)
    node_of: dict[str, int] = {}
    extra: list[tuple[int, int, float]] = []
    for name in dict.fromkeys(x for seq in lines for x in seq):
        x, y = float(pos.loc[name, "lon"]), float(pos.loc[name, "lat"])
        j = int(tree.query(unit_vectors([x], [y]))[1][0])
        d = float(haversine_km(x, y, lon[j], lat[j]))
        if d <= RAILHEAD_SNAP_KM:
            node_of[name] = j
            continue
        node_of[name] = len(lon)
        lon.append(x)
        lat.append(y)
        if d <= SPUR_KM:
            extra.append((node_of[name], j, d * RAIL_CIRCUITY))
    graph = undirected_graph(len(lon), np.r_[a, [e[0] for e in extra]], np.r_[b, [e[1] for e in extra]],
                             np.r_[w, [e[2] for e in extra]])
    for seq in lines:
        for s1, s2 in zip(seq, seq[1:], strict=False):
            u, v = node_of[s1], node_of[s2]
            gc = float(haversine_km(lon[u], lat[u], lon[v], lat[v]))
            if u != v and dijkstra(graph, indices=u, limit=gc * LINE_FILL_DETOUR)[v] > gc * LINE_FILL_DETOUR:
                extra.append((u, v, gc * RAIL_CIRCUITY))
    ea, eb, ew = (np.array([e[k] for e in extra]) for k in range(3))
    return np.asarray(lon), np.asarray(lat), np.r_[a, ea].astype(np.intp), np.r_[b, eb].astype(np.intp), np.r_[w, ew]


@functools.cache
def freight_rail_graph() -> tuple[NDArray, NDArray, NDArray, NDArray, NDArray]:
    """The OSM rail graph as freight uses it: passenger-only lines out, gaps closed, listed lines' missing
    stretches filled, short edges merged."""
    lon, lat, a, b, w = load_npz_graph(OSM_NETWORK_FILE, "rail")
    a, b, w = drop_passenger_lines(lon, lat, a, b, w, stations())
    a, b, w = close_gaps(lon, lat, a, b, w)
    lon, lat, a, b, w = fill_from_line_lists(lon, lat, a, b, w, stations())
    return collapse_short_edges(lon, lat, a, b, w, COLLAPSE_KM)


@functools.cache
def rail_network() -> RailNetwork:
    """Build (once) the railhead table: shortest paths over the freight rail graph between snapped stations."""
    lon, lat, a, b, w = freight_rail_graph()
    graph = undirected_graph(lon.size, a, b, w)
    on_track = np.zeros(lon.size, dtype=bool)
    on_track[a] = on_track[b] = True
    heads, node, snap, unplaced = railheads_on(stations().drop_duplicates("name"), lon, lat, on_track)
    uniq, inverse = np.unique(node, return_inverse=True)
    rows = dijkstra(graph, directed=False, indices=uniq)[:, uniq][inverse][:, inverse]
    table = rows + snap[:, None] + snap[None, :]
    # Merged nodes and 100 m coordinates can leave a path a little under the straight line.
    hlon, hlat = heads["lon"].to_numpy(float), heads["lat"].to_numpy(float)
    np.maximum(table, haversine_km(hlon[:, None], hlat[:, None], hlon[None], hlat[None]), out=table)
    np.fill_diagonal(table, np.inf)
    # Two stations snapped to one merged node are not a rail trip either.
    table[rows == 0] = np.inf
    return RailNetwork(list(heads["name"]), hlon, hlat, table, unplaced)
