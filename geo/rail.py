"""Rail network: main lines as ordered station lists, railhead-to-railhead distances."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geo.boundaries import DATA_DIR, stations
from geo.distance import haversine_km, unit_vectors

# A facility considers this many nearest railheads for each end of a rail leg.
RAILHEAD_K = 3


@dataclass(frozen=True)
class RailLine:
    """One railway line: names and its stations in order."""

    line_id: str
    name_zh: str
    name_en: str
    stations: tuple[str, ...]
    source: str


@dataclass(eq=False)
class RailNetwork:
    """Railheads (stations on the main lines) and the rail km between every pair."""

    names: list[str]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    table: NDArray[np.float64]  # rail km; inf on the diagonal (a rail leg must go somewhere)
    lines: list[RailLine]
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
        """Rail km between two stations by name."""
        return float(self.table[self.names.index(a), self.names.index(b)])


def load_lines() -> list[RailLine]:
    """The lines listed in geo/data/rail_lines.csv."""
    df = pd.read_csv(DATA_DIR / "rail_lines.csv")
    return [RailLine(r.line_id, r.name_zh, r.name_en, tuple(r.stations.split("|")), r.source) for r in df.itertuples()]


@functools.cache
def rail_network() -> RailNetwork:
    """Build (once) the rail graph: consecutive stations joined by great-circle × RAIL_CIRCUITY."""
    lines = load_lines()
    circuity = float(pd.read_csv(DATA_DIR / "rail_lines.csv")["circuity"].iloc[0])
    st = stations().drop_duplicates("name").set_index("name")
    names: list[str] = []
    pos: dict[str, int] = {}
    for line in lines:
        for s in line.stations:
            if s not in pos:
                pos[s] = len(names)
                names.append(s)
    lon = st.loc[names, "lon"].to_numpy(dtype=np.float64)
    lat = st.loc[names, "lat"].to_numpy(dtype=np.float64)
    a = np.array([pos[x] for line in lines for x in line.stations[:-1]])
    b = np.array([pos[x] for line in lines for x in line.stations[1:]])
    w = haversine_km(lon[a], lat[a], lon[b], lat[b]) * circuity
    n = len(names)
    graph = coo_matrix((np.r_[w, w], (np.r_[a, b], np.r_[b, a])), shape=(n, n)).tocsr()
    table = dijkstra(graph, directed=False)
    np.fill_diagonal(table, np.inf)
    return RailNetwork(names, lon, lat, table, lines)
