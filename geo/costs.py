"""Transport cost matrices: cheapest of road and rail(+road) per pair, vectorized."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geo.coords import validate_lonlat
from geo.distance import haversine_index_km, haversine_km
from geo.network import RoadNetwork, default_network
from geo.rail import RAILHEAD_K, RailNetwork, rail_network
from geo.rates import ClassRates, FreightRates, resolve_rates

MODE_ROAD = 0
MODE_RAIL = 1
# Rows of the source set processed at once: bounds the float32 temporaries (rows × N each).
CHUNK_ROWS = 1024

F32 = np.float32


@dataclass(frozen=True)
class CostMatrix:
    """Per-pair cheapest itinerary: M×N arrays (rail_km NaN where the pair goes by road)."""

    yuan_per_t: NDArray[np.float64]
    road_km: NDArray[np.float64]
    rail_km: NDArray[np.float64]
    co2_kg_per_t: NDArray[np.float64]
    mode: NDArray[np.int8]
    great_circle_km: NDArray[np.float64]
    freight_class: str = "bulk"

    @property
    def shape(self) -> tuple[int, int]:
        """(sources, destinations)."""
        return self.yuan_per_t.shape  # type: ignore[return-value]


@dataclass(frozen=True)
class RouteResult:
    """The cheapest itinerary for one origin–destination pair, with both modes' costs."""

    from_lon: float
    from_lat: float
    to_lon: float
    to_lat: float
    freight_class: str
    great_circle_km: float
    road_km: float
    rail_km: float | None
    mode: str  # "road" or "rail"
    cost_yuan_per_t: float
    co2_kg_per_t: float
    road_cost_yuan_per_t: float
    rail_cost_yuan_per_t: float | None
    from_railhead: str | None = None
    to_railhead: str | None = None
    # The all-road distance, whichever mode is cheaper (road_km holds only the access legs of a rail trip).
    road_route_km: float | None = None
    # Why rail was not an option at all (None when a rail itinerary was priced).
    rail_unavailable: str | None = None


@dataclass
class _Detail:
    """Per-pair extras for route(): both modes' costs and the railheads of the rail option."""

    road_cost: NDArray[np.float64]
    rail_cost: NDArray[np.float64]  # inf where rail is not offered
    origin_head: NDArray[np.intp]  # -1 where road wins
    dest_head: NDArray[np.intp]


@dataclass
class _RailSide:
    """Railhead options of a point set: indices (P,k) and road access km (P,k)."""

    idx: NDArray[np.intp]
    access_km: NDArray[np.float64]


def _rail_side(lon: NDArray, lat: NDArray, rail: RailNetwork, road: RoadNetwork) -> _RailSide:
    idx = rail.nearest(lon, lat, RAILHEAD_K)
    k = idx.shape[1]
    acc = road.km_pairs(np.repeat(lon, k), np.repeat(lat, k), rail.lon[idx.ravel()], rail.lat[idx.ravel()])
    return _RailSide(idx, acc.reshape(idx.shape))


def _source_rail_rows(side: _RailSide, rail: RailNetwork, cr: ClassRates):
    """Per source and per destination railhead: best origin railhead's cost, rail km, access km, index."""
    m = side.idx.shape[0]
    cost = np.full((m, rail.n), np.inf, dtype=F32)
    rail_km = np.zeros((m, rail.n), dtype=F32)
    acc = np.zeros((m, rail.n), dtype=F32)
    origin = np.zeros((m, rail.n), dtype=np.intp)
    for i in range(side.idx.shape[1]):  # loop over the few railhead options, not the points
        rk = rail.table[side.idx[:, i]].astype(F32)
        c = (cr.road_yuan_per_tkm * side.access_km[:, i, None]).astype(F32) + F32(cr.rail_yuan_per_tkm) * rk
        better = c < cost
        # In place (copyto with where=): the same values as np.where, without four new m × n arrays a pass.
        np.copyto(cost, c, where=better)
        np.copyto(rail_km, rk, where=better)
        np.copyto(acc, side.access_km[:, i, None].astype(F32), where=better)
        np.copyto(origin, side.idx[:, i, None], where=better)
    return cost, rail_km, acc, origin


def cost_matrix(
    src_lon: ArrayLike,
    src_lat: ArrayLike,
    dst_lon: ArrayLike,
    dst_lat: ArrayLike,
    freight_class: str = "bulk",
    rates: FreightRates | Mapping[str, object] | None = None,
    *,
    network: RoadNetwork | None = None,
) -> CostMatrix:
    """M×N cheapest-mode freight cost (yuan/t), distances and CO2 between WGS84 sources and destinations."""
    return _cost_matrix(src_lon, src_lat, dst_lon, dst_lat, freight_class, rates, network, with_railheads=False)[0]


def cost_pairs(
    src_lon: ArrayLike,
    src_lat: ArrayLike,
    dst_lon: ArrayLike,
    dst_lat: ArrayLike,
    freight_class: str = "bulk",
    rates: FreightRates | Mapping[str, object] | None = None,
    *,
    network: RoadNetwork | None = None,
) -> CostMatrix:
    """Cheapest-mode cost for paired points (src[k] → dst[k]): the same figures as cost_matrix's entries, 1-D.

    For callers that pre-filter candidate pairs (e.g. within a great-circle bound) instead of
    asking for the whole M×N matrix.
    """
    cr = resolve_rates(rates).for_class(freight_class)
    s_lon, s_lat = validate_lonlat(src_lon, src_lat)
    d_lon, d_lat = validate_lonlat(dst_lon, dst_lat)
    if s_lon.size != d_lon.size:
        raise ValueError(f"cost_pairs needs as many sources as destinations, got {s_lon.size} and {d_lon.size}")
    road = network or default_network()
    gc = haversine_km(s_lon, s_lat, d_lon, d_lat)
    road_km = road.km_pairs(s_lon, s_lat, d_lon, d_lat)
    road_cost = cr.handling_yuan_per_t + cr.road_yuan_per_tkm * road_km
    mode = np.zeros(s_lon.size, dtype=np.int8)
    rail_km = np.full(s_lon.size, np.nan)
    out_road, cost, co2 = road_km.copy(), road_cost.copy(), cr.road_co2_kg_per_tkm * road_km
    if cr.rail_allowed and s_lon.size:
        rail = rail_network()
        s_side, d_side = _rail_side(s_lon, s_lat, rail, road), _rail_side(d_lon, d_lat, rail, road)
        fixed = cr.handling_yuan_per_t + 2.0 * cr.railhead_transfer_yuan_per_t
        for i in range(s_side.idx.shape[1]):
            for j in range(d_side.idx.shape[1]):
                rk = rail.table[s_side.idx[:, i], d_side.idx[:, j]]
                acc = s_side.access_km[:, i] + d_side.access_km[:, j]
                c = fixed + cr.road_yuan_per_tkm * acc + cr.rail_yuan_per_tkm * rk
                better = c < cost
                cost = np.where(better, c, cost)
                mode = np.where(better, MODE_RAIL, mode).astype(np.int8)
                rail_km = np.where(better, rk, rail_km)
                out_road = np.where(better, acc, out_road)
                co2 = np.where(better, cr.rail_co2_kg_per_tkm * rk + cr.road_co2_kg_per_tkm * acc, co2)
    return CostMatrix(cost, out_road, rail_km, co2, mode, gc, cr.freight_class)


def cost_index_pairs(
    src_lon: ArrayLike,
    src_lat: ArrayLike,
    dst_lon: ArrayLike,
    dst_lat: ArrayLike,
    si: ArrayLike,
    di: ArrayLike,
    freight_class: str = "bulk",
    rates: FreightRates | Mapping[str, object] | None = None,
    *,
    network: RoadNetwork | None = None,
) -> CostMatrix:
    """Cheapest-mode cost of the pairs (source si[k] → destination di[k]) of two point sets, 1-D.

    Bit for bit ``cost_matrix(...)[si, di]`` (the same float32 operations in the same order), but each
    point's access legs and railhead options are worked out once and only the asked pairs are priced:
    for a sparse set of pairs (e.g. those within a haul limit) it does a fraction of the matrix's work.
    """
    cr = resolve_rates(rates).for_class(freight_class)
    s_lon, s_lat = validate_lonlat(src_lon, src_lat)
    d_lon, d_lat = validate_lonlat(dst_lon, dst_lat)
    si = np.asarray(si, dtype=np.intp).ravel()
    di = np.asarray(di, dtype=np.intp).ravel()
    if si.size != di.size:
        raise ValueError(f"cost_index_pairs needs as many sources as destinations, got {si.size} and {di.size}")
    road = network or default_network()
    p = si.size
    gc = haversine_index_km(s_lon, s_lat, d_lon, d_lat, si, di)
    if not p:
        empty = np.empty(0)
        return CostMatrix(empty, empty, empty, empty, np.zeros(0, dtype=np.int8), empty, cr.freight_class)

    # Road: min over the access options i (source) and j (destination) of node-to-node km plus both legs.
    s_idx, s_acc = road.nearest_nodes(s_lon, s_lat)
    d_idx, d_acc = road.nearest_nodes(d_lon, d_lat)
    s_nodes, s_row = np.unique(s_idx, return_inverse=True)
    d_nodes, d_col = np.unique(d_idx, return_inverse=True)
    s_row, d_col = s_row.reshape(s_idx.shape), d_col.reshape(d_idx.shape)
    sub = road.node_block(s_nodes, d_nodes)  # only the nodes these points reach the network by
    width = sub.shape[1]
    # cost_matrix's source rows: per source, road km to each destination node, best of its access legs.
    via = np.full((s_lon.size, width), np.inf, dtype=F32)
    s_acc32, d_acc32 = s_acc.astype(F32), d_acc.astype(F32)
    for i in range(s_idx.shape[1]):
        part = sub[s_row[:, i]]
        part += s_acc32[:, i, None]
        np.minimum(via, part, out=via)
    del part, sub
    flat, base = via.ravel(), si * width
    road_km = np.full(p, np.inf, dtype=F32)
    for j in range(d_idx.shape[1]):
        leg = np.take(flat, base + np.take(d_col[:, j], di))
        leg += np.take(d_acc32[:, j], di)
        np.minimum(road_km, leg, out=road_km)
    del via, flat, base
    near = gc <= road.local_direct_km
    if near.any():
        road_km[near] = np.minimum(road_km[near], (gc[near] * road.circuity).astype(F32))
    np.maximum(road_km, gc.astype(F32), out=road_km)
    road_cost = F32(cr.handling_yuan_per_t) + F32(cr.road_yuan_per_tkm) * road_km
    rail = rail_network() if cr.rail_allowed else None
    if rail is None:
        return CostMatrix(road_cost.astype(np.float64), road_km.astype(np.float64), np.full(p, np.nan),
                          (cr.road_co2_kg_per_tkm * road_km).astype(np.float64), np.zeros(p, dtype=np.int8), gc,
                          cr.freight_class)

    # Rail: per source, the best origin railhead towards every destination railhead (as cost_matrix has it);
    # per pair, the cheapest of the destination's railhead options.
    s_cost, s_rk, s_acc_rail, _origin = _source_rail_rows(_rail_side(s_lon, s_lat, rail, road), rail, cr)
    d_side = _rail_side(d_lon, d_lat, rail, road)
    d_leg_cost = (cr.road_yuan_per_tkm * d_side.access_km).astype(F32)
    d_leg_km = d_side.access_km.astype(F32)
    base = si * rail.n
    s_cost = s_cost.ravel()
    best = np.take(s_cost, base + np.take(d_side.idx[:, 0], di))
    best += np.take(d_leg_cost[:, 0], di)
    pick = np.zeros(p, dtype=np.int8)
    for j in range(1, d_side.idx.shape[1]):
        cand = np.take(s_cost, base + np.take(d_side.idx[:, j], di))
        cand += np.take(d_leg_cost[:, j], di)
        np.putmask(pick, cand < best, j)
        np.minimum(best, cand, out=best)
    k = d_side.idx.shape[1]
    at = di * k + pick
    dest_head = base + np.take(d_side.idx.ravel(), at)
    rail_km = np.take(s_rk.ravel(), dest_head)
    acc_km = np.take(s_acc_rail.ravel(), dest_head) + np.take(d_leg_km.ravel(), at)
    rail_cost = best + F32(cr.handling_yuan_per_t + 2.0 * cr.railhead_transfer_yuan_per_t)
    use_rail = rail_cost < road_cost
    return CostMatrix(
        np.where(use_rail, rail_cost, road_cost).astype(np.float64),
        np.where(use_rail, acc_km, road_km).astype(np.float64),
        np.where(use_rail, rail_km, np.nan).astype(np.float64),
        np.where(use_rail, cr.rail_co2_kg_per_tkm * rail_km + cr.road_co2_kg_per_tkm * acc_km,
                 cr.road_co2_kg_per_tkm * road_km).astype(np.float64),
        use_rail.astype(np.int8), gc, cr.freight_class)


def _cost_matrix(src_lon, src_lat, dst_lon, dst_lat, freight_class, rates, network, with_railheads: bool):
    cr = resolve_rates(rates).for_class(freight_class)
    s_lon, s_lat = validate_lonlat(src_lon, src_lat)
    d_lon, d_lat = validate_lonlat(dst_lon, dst_lat)
    road = network or default_network()
    m, n = s_lon.size, d_lon.size

    out_cost = np.empty((m, n))
    out_road = np.empty((m, n))
    out_rail = np.full((m, n), np.nan)
    out_co2 = np.empty((m, n))
    out_mode = np.zeros((m, n), dtype=np.int8)
    out_gc = np.empty((m, n))
    detail = None
    if with_railheads:
        detail = _Detail(
            np.empty((m, n)),
            np.full((m, n), np.inf),
            np.full((m, n), -1, dtype=np.intp),
            np.full((m, n), -1, dtype=np.intp),
        )

    d_idx, d_acc = road.nearest_nodes(d_lon, d_lat)
    d_acc32 = d_acc.astype(F32)
    d_cols, d_idx = np.unique(d_idx, return_inverse=True)  # rows only to the destinations' nodes
    d_idx = d_idx.reshape(d_acc.shape)
    src_rows = road.source_rows(s_lon, s_lat, d_cols)
    rail = rail_network() if cr.rail_allowed else None
    if rail is not None:
        d_side = _rail_side(d_lon, d_lat, rail, road)
        s_side = _rail_side(s_lon, s_lat, rail, road)
        s_cost, s_rk, s_acc, s_origin = _source_rail_rows(s_side, rail, cr)
        d_leg_cost = (cr.road_yuan_per_tkm * d_side.access_km).astype(F32)
        d_leg_km = d_side.access_km.astype(F32)

    fixed_road = F32(cr.handling_yuan_per_t)
    fixed_rail = F32(cr.handling_yuan_per_t + 2.0 * cr.railhead_transfer_yuan_per_t)
    for start in range(0, m, CHUNK_ROWS):
        sl = slice(start, min(start + CHUNK_ROWS, m))
        gc = haversine_km(s_lon[sl, None], s_lat[sl, None], d_lon[None, :], d_lat[None, :])
        out_gc[sl] = gc

        rows = src_rows[sl]
        road_km = np.full((rows.shape[0], n), np.inf, dtype=F32)
        for j in range(d_idx.shape[1]):
            leg = np.take(rows, d_idx[:, j], axis=1)
            leg += d_acc32[None, :, j]
            np.minimum(road_km, leg, out=road_km)
        road._apply_local(road_km, gc)
        road_cost = fixed_road + F32(cr.road_yuan_per_tkm) * road_km
        if detail is not None:
            detail.road_cost[sl] = road_cost

        if rail is None:
            out_cost[sl] = road_cost
            out_road[sl] = road_km
            out_co2[sl] = cr.road_co2_kg_per_tkm * road_km
            continue

        # Cheapest destination railhead per pair: keep its option number, gather its km once at the end.
        # (np.take along axis 1 and putmask: several times faster than fancy indexing and np.where.)
        s_cost_sl = s_cost[sl]
        best = np.take(s_cost_sl, d_side.idx[:, 0], axis=1)
        best += d_leg_cost[None, :, 0]
        pick = np.zeros(road_km.shape, dtype=np.int8)
        for j in range(1, d_side.idx.shape[1]):
            cand = np.take(s_cost_sl, d_side.idx[:, j], axis=1)
            cand += d_leg_cost[None, :, j]
            np.putmask(pick, cand < best, j)
            np.minimum(best, cand, out=best)
        cols = np.arange(n)[None, :]
        dest_head = d_side.idx[cols, pick]
        rail_km = np.take_along_axis(s_rk[sl], dest_head, axis=1)
        acc_km = np.take_along_axis(s_acc[sl], dest_head, axis=1) + d_leg_km[cols, pick]
        rail_cost = best + F32(fixed_rail)
        use_rail = rail_cost < road_cost

        out_cost[sl] = np.where(use_rail, rail_cost, road_cost)
        out_road[sl] = np.where(use_rail, acc_km, road_km)
        out_rail[sl] = np.where(use_rail, rail_km, np.nan)
        out_co2[sl] = np.where(
            use_rail,
            cr.rail_co2_kg_per_tkm * rail_km + cr.road_co2_kg_per_tkm * acc_km,
            cr.road_co2_kg_per_tkm * road_km,
        )
        out_mode[sl] = use_rail
        if detail is not None:
            detail.rail_cost[sl] = rail_cost
            detail.dest_head[sl] = np.where(use_rail, dest_head, -1)
            detail.origin_head[sl] = np.where(use_rail, np.take_along_axis(s_origin[sl], dest_head, axis=1), -1)

    result = CostMatrix(out_cost, out_road, out_rail, out_co2, out_mode, out_gc, cr.freight_class)
    return result, detail, rail


def route(
    from_lonlat: tuple[float, float],
    to_lonlat: tuple[float, float],
    freight_class: str = "bulk",
    rates: FreightRates | Mapping[str, object] | None = None,
    *,
    network: RoadNetwork | None = None,
) -> RouteResult:
    """Cheapest itinerary between two WGS84 (lon, lat) points."""
    (flon, flat), (tlon, tlat) = from_lonlat, to_lonlat
    cm, detail, rail = _cost_matrix([flon], [flat], [tlon], [tlat], freight_class, rates, network, with_railheads=True)
    rail_cost: float | None = float(detail.rail_cost[0, 0])
    reason = None
    if rail is None:
        reason = f"rail is not offered for {cm.freight_class} freight"
    elif not np.isfinite(rail_cost):
        reason = "the rail graph does not connect the railheads near the two ends"
    if reason is not None:
        rail_cost = None
    is_rail = bool(cm.mode[0, 0] == MODE_RAIL)
    return RouteResult(
        from_lon=float(flon),
        from_lat=float(flat),
        to_lon=float(tlon),
        to_lat=float(tlat),
        freight_class=cm.freight_class,
        great_circle_km=float(cm.great_circle_km[0, 0]),
        road_km=float(cm.road_km[0, 0]),
        rail_km=float(cm.rail_km[0, 0]) if is_rail else None,
        mode="rail" if is_rail else "road",
        cost_yuan_per_t=float(cm.yuan_per_t[0, 0]),
        co2_kg_per_t=float(cm.co2_kg_per_t[0, 0]),
        road_cost_yuan_per_t=float(detail.road_cost[0, 0]),
        rail_cost_yuan_per_t=rail_cost,
        from_railhead=rail.names[detail.origin_head[0, 0]] if is_rail else None,
        to_railhead=rail.names[detail.dest_head[0, 0]] if is_rail else None,
        road_route_km=float((network or default_network()).km_matrix([flon], [flat], [tlon], [tlat])[0, 0]),
        rail_unavailable=reason,
    )
