"""Build geo/data/osm_network.npz and the browser base layer from the OSM networks of `scgraph-data`.

Run `make geo-network` (installs the pinned build-only package into build/, then runs
`python -m geo.data.build_osm build/scgraph`). The package's modules are Python literals of
the world graphs; they are parsed with `ast.literal_eval`, never imported, so the build needs
neither `scgraph` nor minutes of import time, and the running app never sees the package.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo.boundaries import DATA_DIR, NEIGHBOUR_MASK, counties, prefectures, province_polygon, seats

ROOT = DATA_DIR.parents[1]
NETWORK_FILE = DATA_DIR / "osm_network.npz"
BASEMAP_DIR = ROOT / "app" / "static" / "geo"

PROVINCE_BUFFER_DEG = 0.03
# Browser layers: Douglas-Peucker tolerances in degrees (~0.5 km boundaries, ~0.2 km lines).
BOUNDARY_TOLERANCE = 0.005
COUNTY_TOLERANCE = 0.004
ROAD_TOLERANCE = 0.002
# The OSM `highway` values a fuller extract's roads are drawn by (in China motorway is 高速公路, trunk mostly
# 国道, primary mostly 省道; their ramps go with them). Other ways are left out of the base layer.
ROAD_CLASSES = {
    "motorway": "expressway", "motorway_link": "expressway", "trunk": "national", "trunk_link": "national",
    "primary": "provincial", "primary_link": "provincial",
}


def region() -> shapely.Geometry:
    """The area whose roads and railways are kept: the province (widened ~3 km so border towns and bridges'
    Chinese ends stay in; the Amur/Ussuri side is never widened further) and the neighbour mask."""
    return shapely.union(province_polygon().buffer(PROVINCE_BUFFER_DEG), shapely.Polygon(NEIGHBOUR_MASK))


def parse_geograph(path: Path) -> tuple[list[dict[int, float]], np.ndarray]:
    """Read `graph=[...]` (adjacency dicts, km) and `nodes=[[lat, lon], ...]` from a scgraph_data module."""
    graph = nodes = None
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("graph="):
                graph = ast.literal_eval(line[len("graph=") :])
            elif line.startswith("nodes="):
                nodes = ast.literal_eval(line[len("nodes=") :])
    if graph is None or nodes is None:
        raise ValueError(f"{path}: no graph= / nodes= lines (unexpected scgraph_data layout)")
    return graph, np.asarray(nodes, dtype=np.float64)


def clip(
    graph: list[dict[int, float]], nodes: np.ndarray, area: shapely.Geometry, largest_only: bool
) -> dict[str, np.ndarray]:
    """Nodes inside area and the edges between them; only the largest connected piece when largest_only."""
    lat, lon = nodes[:, 0], nodes[:, 1]
    minx, miny, maxx, maxy = area.bounds
    cand = np.flatnonzero((lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy))
    inside = np.zeros(len(nodes), dtype=bool)
    inside[cand] = shapely.contains_xy(area, lon[cand], lat[cand])
    a, b, w = [], [], []
    for i in np.flatnonzero(inside):
        for j, km in graph[i].items():
            if i < j and inside[j]:  # each undirected edge once; drops self-loops
                a.append(i)
                b.append(j)
                w.append(km)
    keep = np.flatnonzero(inside)
    pos = np.full(len(nodes), -1)
    pos[keep] = np.arange(keep.size)
    a, b, w = pos[np.array(a)], pos[np.array(b)], np.array(w)
    g = coo_matrix((w, (a, b)), shape=(keep.size, keep.size))
    _, label = connected_components(g, directed=False)
    size = np.bincount(label)
    # Isolated nodes never carry a route; the rail graph keeps its other pieces for gap closing.
    wanted = size == size.max() if largest_only else size >= 2
    sub = np.flatnonzero(wanted[label])
    pos2 = np.full(keep.size, -1)
    pos2[sub] = np.arange(sub.size)
    e = wanted[label[a]] & wanted[label[b]]
    # Coordinates are 3-decimal degrees upstream: store exact integer millidegrees.
    return {
        "lon_mdeg": np.round(lon[keep][sub] * 1000).astype(np.int32),
        "lat_mdeg": np.round(lat[keep][sub] * 1000).astype(np.int32),
        "a": pos2[a[e]].astype(np.int32),
        "b": pos2[b[e]].astype(np.int32),
        "km": w[e].astype(np.float32),
    }


def chains(a: np.ndarray, b: np.ndarray, n: int) -> list[list[int]]:
    """Split an edge list into node paths that break at every node whose degree is not 2 (for drawing)."""
    adj: list[list[int]] = [[] for _ in range(n)]
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        adj[i].append(j)
        adj[j].append(i)
    seen: set[tuple[int, int]] = set()
    out: list[list[int]] = []
    for start in range(n):
        if len(adj[start]) == 2:
            continue
        for nxt in adj[start]:
            if (start, nxt) in seen:
                continue
            path = [start, nxt]
            seen.update({(start, nxt), (nxt, start)})
            while len(adj[path[-1]]) == 2:
                cur, prev = path[-1], path[-2]
                step = adj[cur][0] if adj[cur][0] != prev else adj[cur][1]
                if (cur, step) in seen:
                    break
                seen.update({(cur, step), (step, cur)})
                path.append(step)
            out.append(path)
    for i, j in zip(a.tolist(), b.tolist(), strict=True):  # pure cycles have no end node
        if (i, j) not in seen:
            seen.update({(i, j), (j, i)})
            out.append([i, j])
    return out


def _lines_geojson(net: dict[str, np.ndarray], kind: str) -> dict:
    lon = net["lon_mdeg"] / 1000.0
    lat = net["lat_mdeg"] / 1000.0
    # One MultiLineString per layer: a feature per chain would triple the bytes.
    parts = [[[lon[i], lat[i]] for i in path] for path in chains(net["a"], net["b"], lon.size)]
    geometry = {"type": "MultiLineString", "coordinates": parts}
    feature = {"type": "Feature", "properties": {"kind": kind}, "geometry": geometry}
    return {"type": "FeatureCollection", "features": [feature]}


def classed_roads_geojson(path: Path, area: shapely.Geometry | None = None) -> dict:
    """The roads of an OSM GeoJSON extract (LineStrings or MultiLineStrings with a `highway` property, as
    `osmium export` or `ogr2ogr` write them) as one MultiLineString per class in ROAD_CLASSES, clipped to the
    region and simplified; ways of other classes are left out."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    area = region() if area is None else area
    by_class: dict[str, list] = {name: [] for name in dict.fromkeys(ROAD_CLASSES.values())}
    for feature in data.get("features", []):
        road_class = ROAD_CLASSES.get((feature.get("properties") or {}).get("highway"))
        geometry = feature.get("geometry") or {}
        if road_class is None or geometry.get("type") not in ("LineString", "MultiLineString"):
            continue
        by_class[road_class].append(shapely.geometry.shape(geometry))
    features = []
    for road_class, lines in by_class.items():
        if not lines:
            continue
        kept = shapely.intersection(shapely.line_merge(shapely.union_all(lines)), area)
        kept = shapely.simplify(kept, ROAD_TOLERANCE, preserve_topology=False)
        parts = [list(map(list, part.coords)) for part in shapely.get_parts(kept)
                 if part.geom_type == "LineString" and len(part.coords) >= 2]
        if parts:
            features.append({"type": "Feature", "properties": {"kind": "road", "class": road_class},
                             "geometry": {"type": "MultiLineString", "coordinates": parts}})
    if not features:
        raise ValueError(f"{path}: no motorway, trunk or primary roads inside the region")
    return {"type": "FeatureCollection", "features": features}


def _polygons_geojson(gdf, tolerance: float, props: tuple[str, ...]) -> dict:
    gdf = gdf.copy()
    gdf["geometry"] = gdf.geometry.simplify(tolerance, preserve_topology=True)
    gdf = gdf[list(props) + ["geometry"]]
    return json.loads(gdf.to_json(drop_id=True, to_wgs84=False))


def _labels_geojson() -> dict:
    s = seats()
    feats = [
        {
            "type": "Feature",
            "properties": {"name": r.name, "name_en": r.name_en or r.name, "level": r.level},
            "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
        }
        for r in s.itertuples()
    ]
    return {"type": "FeatureCollection", "features": feats}


def _write_json(path: Path, data: dict) -> None:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # Round every coordinate to 4 decimals (~10 m): plenty for a browser, a third of the bytes.
    path.write_text(_round_floats(text), encoding="utf-8")


def _round_floats(text: str) -> str:
    return json.dumps(
        json.loads(text, parse_float=lambda s: round(float(s), 4)), ensure_ascii=False, separators=(",", ":")
    )


def write_basemap(road: dict[str, np.ndarray], rail: dict[str, np.ndarray], out_dir: Path = BASEMAP_DIR,
                  classed_roads: Path | None = None) -> None:
    """The static GeoJSON layers every map draws offline: roads, railways, boundaries, labels.

    ``classed_roads``: an OSM GeoJSON extract whose expressways, national and provincial roads are drawn apart,
    instead of the unclassed routing graph.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    roads = classed_roads_geojson(classed_roads) if classed_roads else _lines_geojson(road, "road")
    _write_json(out_dir / "roads.geojson", roads)
    _write_json(out_dir / "railways.geojson", _lines_geojson(rail, "rail"))
    pref = _polygons_geojson(prefectures(), BOUNDARY_TOLERANCE, ("adcode", "name", "name_en"))
    _write_json(out_dir / "prefectures.geojson", pref)
    cty = _polygons_geojson(counties(), COUNTY_TOLERANCE, ("adcode", "name", "name_en"))
    _write_json(out_dir / "counties.geojson", cty)
    _write_json(out_dir / "labels.geojson", _labels_geojson())


def build(package_dir: Path, classed_roads: Path | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Parse, clip and save both networks; returns them."""
    area = region()
    nets = {}
    for key, module in (("road", "world_highways.py"), ("rail", "world_railways.py")):
        graph, nodes = parse_geograph(package_dir / "scgraph_data" / module)
        nets[key] = clip(graph, nodes, area, largest_only=key == "road")
        print(f"{key}: {nets[key]['lon_mdeg'].size} nodes, {nets[key]['a'].size} edges", file=sys.stderr)
    arrays = {f"{k}_{name}": arr for k, net in nets.items() for name, arr in net.items()}
    np.savez_compressed(NETWORK_FILE, **arrays)
    write_basemap(nets["road"], nets["rail"], classed_roads=classed_roads)
    return nets


def main(argv: list[str] | None = None) -> int:
    """CLI: python -m geo.data.build_osm PACKAGE_DIR (the pip --target folder holding scgraph_data/)."""
    p = argparse.ArgumentParser(prog="python -m geo.data.build_osm")
    p.add_argument("package_dir", type=Path, nargs="?", help="folder containing scgraph_data/ (pip install --target)")
    p.add_argument("--basemap-only", action="store_true", help="redraw app/static/geo from the committed npz")
    p.add_argument("--classed-roads", type=Path, metavar="GEOJSON",
                   help="draw the roads of this OSM extract by class (highway=motorway/trunk/primary)")
    args = p.parse_args(argv)
    if args.basemap_only:
        z = np.load(NETWORK_FILE)
        nets = {k: {n: z[f"{k}_{n}"] for n in ("lon_mdeg", "lat_mdeg", "a", "b", "km")} for k in ("road", "rail")}
        write_basemap(nets["road"], nets["rail"], classed_roads=args.classed_roads)
    elif args.package_dir is None:
        p.error("PACKAGE_DIR is required unless --basemap-only")
    else:
        build(args.package_dir, args.classed_roads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
