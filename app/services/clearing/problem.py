"""The one translation from the database to a matching problem, shared by clearing, price guidance and scenarios.

Public API (stable; other use cases build on it):

- ``build_category_problem(session, category, today, lot_ids=None)`` → ``CategoryProblem``: the open lots
  of a category (or only ``lot_ids``) and every active demand that may take them — bids on one of those
  lots, category-wide bids and standing demand profiles less what pending allocations already commit —
  with freight for every candidate pair. Pairs are pre-filtered by the great-circle bound of each
  demand's haul limit (a KD-tree over unit vectors; road and rail routes are never shorter), never
  join a demand to a lot of its own facility or organisation, and get road/rail km from ``geo`` for
  the surviving pairs only (``geo.cost_index_pairs``, per block of lot facilities). The compatibility
  rules proper (haul, quality, window, licence) and the surplus filter stay in ``matching``, so every
  consumer applies exactly the same ones.
  The hazardous regime's facts are translated here, by ``app.services.hazardous``: a demand "holds a licence"
  for the category when a valid licence covers its code or HW class/code, and a hazardous lot without a
  cross-province transfer approval never pairs with a receiver outside Heilongjiang.
- ``clearable_categories(session)``: categories with a lot that still has tonnes to clear.
- ``CategoryProblem.demand_ref(demand_id)``: the facility, bid and profile rows behind a demand
  (``demand_rows``: the same for every demand, as a dict).
- ``CategoryProblem.arc_km(lot_ids, demand_ids)``: road and rail km of given pairs (for writing).

Arrays, not dicts of tuples, carry the per-demand and per-arc data; ``release()`` drops them.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import sqlalchemy as sa
import sqlalchemy.orm as so
from scipy.spatial import cKDTree

import geo
import matching
from app.services import hazardous
from app.services import lots as lots_service
from geo.distance import EARTH_RADIUS_KM, unit_vectors
from geo.rates import resolve_rates
from models import Allocation, Bid, DemandProfile, Facility, FacilityCapacity, Lot, WasteCategory

# The lots the clearing may allocate are the lots buyers may bid on: one rule, in the lots service.
CLEARABLE_LOT_STATUSES = lots_service.BUYABLE_STATUSES
PENDING_ALLOCATION_STATUSES = ("proposed", "accepted")
# Lot facilities per geo.cost_index_pairs call: bounds its per-facility railhead tables (rows × railheads).
COST_BLOCK_ROWS = 4096


@dataclass
class DemandRows:
    """Per-demand database rows, aligned with ``problem.demands`` (0 where a demand has no bid/profile)."""

    facility_id: np.ndarray
    bid_id: np.ndarray
    profile_id: np.ndarray
    organization_id: np.ndarray
    prefecture: list[str | None]


@dataclass
class CategoryProblem:
    """One category's matching problem with the database rows behind its demands and the km of its arcs."""

    category: WasteCategory
    problem: matching.Problem
    demands: DemandRows
    lot_organization: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    road_km: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per cost-table row
    rail_km: np.ndarray = field(default_factory=lambda: np.zeros(0))  # NaN where the pair goes by road

    def demand_ref(self, demand_id: str) -> tuple[int, int | None, int | None]:
        """(facility id, bid id or None, profile id or None) behind a demand id."""
        j = self.problem.demand_position[demand_id]
        bid, profile = int(self.demands.bid_id[j]), int(self.demands.profile_id[j])
        return int(self.demands.facility_id[j]), bid or None, profile or None

    @property
    def demand_rows(self) -> dict[str, tuple[int, int | None, int | None]]:
        """Every demand id → (facility id, bid id or None, profile id or None)."""
        return {d.id: self.demand_ref(d.id) for d in self.problem.demands}

    def arc_km(self, lot_ids: Sequence[int], demand_ids: Sequence[str]) -> list[tuple[float, float | None]]:
        """Road and rail km (None: by road) of each (lot, demand) pair, looked up in the cost table."""
        t = self.problem.cost_table
        n_l = max(1, len(self.problem.lots))
        keys = t.demand_index.astype(np.int64) * n_l + t.lot_index
        wanted = np.array([self.problem.demand_position[d] * n_l + self.problem.lot_position[i]
                           for i, d in zip(lot_ids, demand_ids, strict=True)], dtype=np.int64)
        if not len(wanted):
            rows = np.zeros(0, dtype=np.int64)
        elif np.all(keys[1:] > keys[:-1]):  # as built: by demand, then lot; no sort of the whole table
            rows = np.searchsorted(keys, wanted)
        else:
            order = np.argsort(keys, kind="stable")
            rows = order[np.searchsorted(keys[order], wanted)]
        return [(float(r), None if np.isnan(x) else float(x))
                for r, x in zip(self.road_km[rows].tolist(), self.rail_km[rows].tolist(), strict=True)]

    def snapshot(self) -> dict[str, Any]:
        """A JSON-safe record of the inputs."""
        return {
            "lots": [{"id": lot.id, "tonnes": str(lot.tonnes), "reserve": str(lot.reserve_yuan_per_t),
                      "from": _iso(lot.available_from), "to": _iso(lot.available_to), "quality": dict(lot.quality),
                      "hazardous": lot.hazardous} for lot in self.problem.lots],
            "demands": [{"id": d.id, "tonnes": str(d.tonnes), "price": str(d.price_yuan_per_t),
                         "max_haul_km": d.max_haul_km, "from": _iso(d.window_from), "to": _iso(d.window_to),
                         "quality_limits": {k: list(v) for k, v in d.quality_limits.items()},
                         "licences": sorted(d.licences)} for d in self.problem.demands],
            "arcs": len(self.problem.cost_table),
        }

    def release(self) -> None:
        """Drop the arc arrays once the category is solved (the run keeps only what it writes)."""
        self.road_km = self.rail_km = np.zeros(0)
        self.problem = matching.Problem([], [])


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _numeric_quality(quality: dict[str, Any] | None) -> dict[str, float]:
    out = {}
    for key, value in (quality or {}).items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if np.isfinite(number):
            out[key] = number
    return out


def _limits(raw: dict[str, Any] | None) -> dict[str, tuple[float | None, float | None]]:
    out = {}
    for key, bounds in (raw or {}).items():
        if isinstance(bounds, (list, tuple)) and len(bounds) == 2:
            out[key] = tuple(None if b is None else float(b) for b in bounds)
    return out


def clearable_categories(session: so.Session) -> list[WasteCategory]:
    """Categories having at least one lot with tonnes to clear."""
    ids = sa.select(Lot.category_id).where(lots_service.buyable_clause())
    return list(session.scalars(sa.select(WasteCategory).where(WasteCategory.id.in_(ids)).order_by(WasteCategory.id)))


# ----------------------------------------------------------------------------- loading rows


@dataclass
class _Lots:
    rows: list[Any]
    lon: np.ndarray
    lat: np.ndarray
    facility: np.ndarray
    organization: np.ndarray
    transfer_approved: np.ndarray  # bool: may leave the province (a hazardous lot with an approval reference)


def _load_lots(session: so.Session, category: WasteCategory, today: dt.date, lot_ids: Sequence[int] | None) -> _Lots:
    stmt = (sa.select(Lot.id, Lot.remaining_tonnes, Lot.reserve_yuan_per_t, Lot.available_from, Lot.available_to,
                      Lot.quality, Lot.facility_id, Lot.transfer_approval_ref, Facility.organization_id,
                      Facility.lon, Facility.lat)
            .join(Facility, Facility.id == Lot.facility_id)
            .where(Lot.category_id == category.id, lots_service.buyable_clause(today))
            .order_by(Lot.id))
    if lot_ids is not None:
        stmt = stmt.where(Lot.id.in_(list(lot_ids)))
    return _lots_of(session.execute(stmt).all(), category)


@dataclass(frozen=True)
class _LotRow:
    """The columns _load_lots reads, taken from a lot loaded with its facility."""

    id: int
    remaining_tonnes: Decimal
    reserve_yuan_per_t: Decimal
    available_from: dt.date
    available_to: dt.date | None
    quality: dict
    facility_id: int
    transfer_approval_ref: str | None
    organization_id: int
    lon: float
    lat: float


def _loaded_lots(lots: Sequence[Lot], category: WasteCategory, today: dt.date) -> _Lots:
    """_load_lots for lots the caller has already read (with their facility): the same rows, in id order, and the
    same rule (lots.is_buyable is buyable_clause in Python); a lot of another category takes no part."""
    rows = [_LotRow(lot.id, lot.remaining_tonnes, lot.reserve_yuan_per_t, lot.available_from, lot.available_to,
                    lot.quality, lot.facility_id, lot.transfer_approval_ref, lot.facility.organization_id,
                    lot.facility.lon, lot.facility.lat)
            for lot in sorted(lots, key=lambda x: x.id)
            if lot.category_id == category.id and lots_service.is_buyable(lot, today)]
    return _lots_of(rows, category)


def _lots_of(rows: Sequence[Any], category: WasteCategory) -> _Lots:
    return _Lots(rows, np.array([r.lon for r in rows], dtype=np.float64),
                 np.array([r.lat for r in rows], dtype=np.float64),
                 np.array([r.facility_id for r in rows], dtype=np.int64),
                 np.array([r.organization_id for r in rows], dtype=np.int64),
                 np.array([hazardous.may_go_to(category, r.transfer_approval_ref, False) for r in rows], dtype=bool))


@dataclass
class _Demand:
    spec: dict[str, Any]  # matching.Demand's arguments: the object is built only for demands that keep a pair
    facility_id: int
    organization_id: int
    lon: float
    lat: float
    prefecture: str | None
    in_province: bool = True
    bid_id: int = 0
    profile_id: int = 0
    lot_id: int | None = None  # a bid on one lot pairs with that lot only

    @property
    def max_haul_km(self) -> float | None:
        """The haul limit of the demand (None: unlimited)."""
        return self.spec.get("max_haul_km")

    def build(self) -> matching.Demand:
        """The matching demand (built once: it is immutable, so a cached demand list reuses it)."""
        built = self.__dict__.get("_built")
        if built is None:
            built = self.__dict__["_built"] = matching.Demand(**self.spec)
        return built


@dataclass
class _DemandArrays:
    """Per-demand columns of a demand list, for the array operations of candidate pairs and costs."""

    wide: np.ndarray  # bool: category-wide (pairs by distance), not a bid on one lot
    bound: np.ndarray  # the haul limit as a chord on the unit sphere, a hair over (inf: unlimited)
    points: np.ndarray  # unit vectors
    facility: np.ndarray
    organization: np.ndarray
    in_province: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    bid_id: np.ndarray
    profile_id: np.ndarray

    @classmethod
    def of(cls, demands: Sequence[_Demand]) -> _DemandArrays:
        """The columns of `demands` (in their order)."""
        haul = np.array([np.inf if d.max_haul_km is None else d.max_haul_km for d in demands], dtype=np.float64)
        lon = np.array([d.lon for d in demands], dtype=np.float64)
        lat = np.array([d.lat for d in demands], dtype=np.float64)
        # A hair over the bound so rounding never drops a pair the exact rule would keep (as the KD-tree's query).
        return cls(np.array([d.lot_id is None for d in demands], dtype=bool), _chord(haul) * (1 + 1e-9) + 1e-12,
                   unit_vectors(lon, lat).reshape(len(demands), 3),
                   np.array([d.facility_id for d in demands], dtype=np.int64),
                   np.array([d.organization_id for d in demands], dtype=np.int64),
                   np.array([d.in_province for d in demands], dtype=bool), lon, lat,
                   np.array([d.bid_id for d in demands], dtype=np.int64),
                   np.array([d.profile_id for d in demands], dtype=np.int64))

    def take(self, rows: np.ndarray) -> _DemandArrays:
        """The columns of some demands, by position."""
        return _DemandArrays(*(getattr(self, f.name)[rows] for f in dataclasses.fields(self)))


class DemandSet(list):
    """A category's demands (``_Demand``s) with their columns worked out once: price guidance reuses one set for
    every lot page of a market version, so a page does no per-demand Python work before its few pairs."""

    def __init__(self, demands=(), arrays: _DemandArrays | None = None) -> None:
        super().__init__(demands)
        self._arrays = arrays

    @property
    def arrays(self) -> _DemandArrays:
        """The columns, computed on first use (the set must not change afterwards)."""
        if self._arrays is None:
            self._arrays = _DemandArrays.of(self)
        return self._arrays

    def take(self, rows: np.ndarray) -> DemandSet:
        """Some demands, by position, with their columns."""
        return DemandSet([self[j] for j in rows.tolist()], self.arrays.take(rows))


def _columns(demands: Sequence[_Demand]) -> _DemandArrays:
    return demands.arrays if isinstance(demands, DemandSet) else _DemandArrays.of(demands)


def _licences(session: so.Session, facility_ids: set[int], category: WasteCategory,
              today: dt.date) -> dict[int, frozenset[str]]:
    """The category's code for each facility a valid licence covers it for (matching's licence rule reads that)."""
    if not category.hazardous:
        return {}
    covered = frozenset({category.code})
    return {f: covered for f in hazardous.licensed_facilities(session, facility_ids, category, today)}


_FACILITY_COLUMNS = (Facility.organization_id, Facility.lon, Facility.lat, Facility.prefecture_code,
                     Facility.in_province, Facility.max_haul_km.label("facility_haul"))


def _load_demands(session: so.Session, category: WasteCategory, today: dt.date,
                  lot_ids: Sequence[int] | None) -> list[_Demand]:
    """Active bids (on a clearable lot or category-wide) and standing profiles less committed tonnes."""
    bid_stmt = (sa.select(Bid.id, Bid.lot_id, Bid.facility_id, Bid.tonnes, Bid.price_yuan_per_t, Bid.max_haul_km,
                          *_FACILITY_COLUMNS)
                .join(Facility, Facility.id == Bid.facility_id).outerjoin(Lot, Bid.lot_id == Lot.id)
                .where(Bid.category_id == category.id, Bid.status == "active",
                       sa.or_(Bid.lot_id.is_(None), Lot.status.in_(CLEARABLE_LOT_STATUSES)))
                .order_by(Bid.id))
    if lot_ids is not None:
        bid_stmt = bid_stmt.where(sa.or_(Bid.lot_id.is_(None), Bid.lot_id.in_(list(lot_ids))))
    bids = session.execute(bid_stmt).all()
    committed = (sa.select(Allocation.demand_profile_id, sa.func.sum(Allocation.tonnes).label("taken"))
                 .where(Allocation.demand_profile_id.is_not(None), Allocation.status.in_(PENDING_ALLOCATION_STATUSES))
                 .group_by(Allocation.demand_profile_id).subquery())
    profiles = session.execute(
        sa.select(DemandProfile.id, DemandProfile.facility_id, DemandProfile.tonnes, DemandProfile.price_yuan_per_t,
                  DemandProfile.period_start, DemandProfile.period_end, DemandProfile.max_haul_km,
                  DemandProfile.quality_limits, sa.func.coalesce(committed.c.taken, 0).label("taken"),
                  *_FACILITY_COLUMNS)
        .join(Facility, Facility.id == DemandProfile.facility_id)
        .outerjoin(committed, committed.c.demand_profile_id == DemandProfile.id)
        .where(DemandProfile.category_id == category.id, DemandProfile.active.is_(True),
               DemandProfile.period_end >= today)
        .order_by(DemandProfile.id)).all()
    capacity = dict(session.execute(sa.select(FacilityCapacity.facility_id, FacilityCapacity.quality_limits)
                                    .where(FacilityCapacity.category_id == category.id)).all())
    licences = _licences(session, {b.facility_id for b in bids} | {p.facility_id for p in profiles}, category, today)
    out = []
    for b in bids:
        out.append(_Demand(dict(
            id=f"b{b.id}", category=category.code, tonnes=b.tonnes, price_yuan_per_t=b.price_yuan_per_t,
            quality_limits=_limits(capacity.get(b.facility_id)), max_haul_km=b.max_haul_km or b.facility_haul,
            licences=licences.get(b.facility_id, frozenset())),
            b.facility_id, b.organization_id, b.lon, b.lat, b.prefecture_code, bool(b.in_province), bid_id=b.id,
            lot_id=b.lot_id))
    for p in profiles:
        left = p.tonnes - Decimal(str(p.taken))
        if left <= 0:
            continue
        out.append(_Demand(dict(
            id=f"p{p.id}", category=category.code, tonnes=left, price_yuan_per_t=p.price_yuan_per_t,
            window_from=p.period_start, window_to=p.period_end,
            quality_limits=_limits(p.quality_limits or capacity.get(p.facility_id)),
            max_haul_km=p.max_haul_km or p.facility_haul, licences=licences.get(p.facility_id, frozenset())),
            p.facility_id, p.organization_id, p.lon, p.lat, p.prefecture_code, bool(p.in_province), profile_id=p.id))
    return out


# ----------------------------------------------------------------------------- candidate pairs and costs


def _chord(km: np.ndarray) -> np.ndarray:
    """Straight-line distance through the earth (on the unit sphere) of a great-circle distance."""
    return 2.0 * np.sin(np.minimum(km, np.pi * EARTH_RADIUS_KM) / (2.0 * EARTH_RADIUS_KM))


def candidate_pairs(lots: _Lots, demands: list[_Demand]) -> tuple[np.ndarray, np.ndarray]:
    """(lot position, demand position) of every pair within its demand's haul limit as the crow flies.

    A bid on one lot pairs with that lot; a category-wide bid or a profile with every lot whose
    great-circle distance does not exceed its haul limit (road and rail never run shorter), never
    a lot at its own facility or of its own organisation. Pairs come out ordered by (demand, lot).
    """
    n = len(lots.rows)
    if n * len(demands) <= DENSE_PAIRS_MAX:
        return _candidate_pairs_dense(lots, demands)
    d_fac = np.array([d.facility_id for d in demands], dtype=np.int64)
    d_org = np.array([d.organization_id for d in demands], dtype=np.int64)
    wide = np.flatnonzero([d.lot_id is None for d in demands])
    # Each pair as one key, demand × n + lot: sorting the keys orders the pairs by (demand, lot).
    keys = [_wide_pair_keys(lots, demands, wide)] if len(wide) and n else []
    position = {row.id: k for k, row in enumerate(lots.rows)}
    one = [(j, position[d.lot_id]) for j, d in enumerate(demands) if d.lot_id is not None and d.lot_id in position]
    if one:
        keys.append(np.array([j * n + k for j, k in one], dtype=np.int64))
    if not keys:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    key = np.sort(np.concatenate(keys))
    di_a, li_a = np.divmod(key, n)
    # Never the demand's own facility or organisation (a bid on one lot was checked when it was placed).
    wide_row = np.zeros(len(demands), dtype=bool)
    wide_row[wide] = True
    keep = ~wide_row[di_a] | ((lots.facility[li_a] != d_fac[di_a]) & (lots.organization[li_a] != d_org[di_a]))
    # A hazardous lot without a cross-province transfer approval stays in the province (hazardous.may_go_to).
    d_in = np.array([d.in_province for d in demands], dtype=bool)
    keep &= lots.transfer_approved[li_a] | d_in[di_a]
    return li_a[keep], di_a[keep]  # a filter keeps the (demand, lot) order


# Category-wide demands per KD-tree pass, taken in order of haul limit so one search radius fits them all:
# bounds the pairs a pass holds before its per-demand filter.
TREE_DEMANDS_PER_PASS = 256


def _wide_pair_keys(lots: _Lots, demands: list[_Demand], wide: np.ndarray) -> np.ndarray:
    """Keys (demand × lots + lot) of the pairs within the haul bound of the category-wide demands ``wide``.

    One tree over the lots, one over each group of demands, and the tree-to-tree search gives every pair
    within the group's largest radius as arrays (no Python list per demand); each demand then keeps its own.
    """
    n = len(lots.rows)
    tree = cKDTree(unit_vectors(lots.lon, lots.lat))
    haul = np.array([np.inf if demands[j].max_haul_km is None else demands[j].max_haul_km for j in wide.tolist()])
    points = unit_vectors([demands[j].lon for j in wide.tolist()], [demands[j].lat for j in wide.tolist()])
    # A hair over the bound so rounding never drops a pair the exact rule would keep.
    radius = _chord(haul) * (1 + 1e-9) + 1e-12
    order = np.argsort(radius, kind="stable")
    keys = []
    for start in range(0, len(order), TREE_DEMANDS_PER_PASS):
        group = order[start:start + TREE_DEMANDS_PER_PASS]
        near = cKDTree(points[group]).sparse_distance_matrix(tree, radius[group[-1]], output_type="ndarray")
        inside = near["v"] <= radius[group][near["i"]]
        keys.append(wide[group][near["i"][inside]].astype(np.int64) * n + near["j"][inside])
    return np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)


# Up to this many (demand, lot) cells, candidate_pairs tests every pair in one array operation: a lot page's
# guidance (one lot against a category's few hundred demands) then costs no KD-tree and no loop per demand.
DENSE_PAIRS_MAX = 250_000


def _candidate_pairs_dense(lots: _Lots, demands: list[_Demand]) -> tuple[np.ndarray, np.ndarray]:
    """candidate_pairs for few lots × demands: the same rule and the same (demand, lot) order, as one mask."""
    n = len(lots.rows)
    if not n or not demands:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    d = _columns(demands)
    chord = np.sqrt(((d.points[:, None, :] - unit_vectors(lots.lon, lots.lat)[None, :, :]) ** 2).sum(axis=2))
    # As the tree's bound: a hair over the haul limit, never the lot's own facility or organisation.
    mask = ((chord <= d.bound[:, None])
            & (lots.facility[None, :] != d.facility[:, None]) & (lots.organization[None, :] != d.organization[:, None]))
    mask &= d.wide[:, None]
    # A bid on one lot pairs with that lot only (if it is among these lots), whatever the distance.
    position = {row.id: k for k, row in enumerate(lots.rows)}
    for j in np.flatnonzero(~d.wide).tolist():
        if demands[j].lot_id in position:
            mask[j, position[demands[j].lot_id]] = True
    di_a, li_a = np.nonzero(mask)  # row-major: ordered by (demand, lot) like the tree's output
    keep = lots.transfer_approved[li_a] | d.in_province[di_a]
    return li_a[keep].astype(np.int64), di_a[keep].astype(np.int64)


def _places(facility: np.ndarray, used: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position of each used facility's first row, each row's place number; -1 where unused)."""
    rows = np.flatnonzero(used)
    _ids, first, inverse = np.unique(facility[rows], return_index=True, return_inverse=True)
    place = np.full(len(facility), -1, dtype=np.int64)
    place[rows] = inverse.ravel()
    return rows[first], place


def configured_rates() -> geo.FreightRates | None:
    """The deployment's freight rates (app config FREIGHT_RATES overriding geo's defaults), or geo's defaults."""
    from flask import current_app, has_app_context

    overrides = current_app.config.get("FREIGHT_RATES") if has_app_context() else None
    return resolve_rates(overrides) if overrides else None


def pair_costs(lots: _Lots, demands: list[_Demand], li: np.ndarray, di: np.ndarray,
               freight_class: str, rates: geo.FreightRates | None = None) -> dict[str, np.ndarray]:
    """Freight yuan/t, road km, rail km (NaN: by road) and CO2 per pair, from geo, for the pairs only.

    Costs depend on places only, so each lot facility and each demand facility is one point, and geo
    prices just the candidate pairs between them (not the dense facility matrix, mostly out of reach),
    in blocks of lot facilities to bound the per-facility railhead tables.
    """
    out = {k: np.empty(len(li)) for k in ("yuan", "road", "rail", "co2")}
    if not len(li):
        return out
    # Only places some pair uses (a lot with no candidate demand is never priced, as before).
    lot_used = np.zeros(len(lots.rows), dtype=bool)
    lot_used[li] = True
    dem_used = np.zeros(len(demands), dtype=bool)
    dem_used[di] = True
    src_first, lot_src = _places(lots.facility, lot_used)
    columns = _columns(demands)
    dst_first, dem_dst = _places(columns.facility, dem_used)
    src_lon, src_lat = lots.lon[src_first], lots.lat[src_first]
    dst_lon, dst_lat = columns.lon[dst_first], columns.lat[dst_first]
    si, dj = lot_src[li], dem_dst[di]
    n_src = len(src_first)
    n_blocks = max(-(-n_src // COST_BLOCK_ROWS), min(_cores(), n_src) if len(li) >= PARALLEL_PAIRS_MIN else 1)
    per_block = -(-n_src // n_blocks)
    if n_blocks == 1:
        blocks = [(0, np.arange(len(li)))]
    else:  # pairs grouped by block of lot facilities (a radix sort on a small key)
        key = (si // per_block).astype(np.uint16)
        order = np.argsort(key, kind="stable")
        bounds = np.searchsorted(key[order], np.arange(n_blocks + 1))
        blocks = [(b, order[bounds[b]:bounds[b + 1]]) for b in range(n_blocks)]

    def price(block: tuple[int, np.ndarray]) -> None:
        b, pairs = block
        if not len(pairs):
            return
        first = b * per_block
        rows = slice(first, min(first + per_block, n_src))
        m = geo.cost_index_pairs(src_lon[rows], src_lat[rows], dst_lon, dst_lat, si[pairs] - first, dj[pairs],
                                 freight_class, rates)
        out["yuan"][pairs] = m.yuan_per_t  # blocks own disjoint pairs: no two threads write one element
        out["road"][pairs] = m.road_km
        out["rail"][pairs] = m.rail_km
        out["co2"][pairs] = m.co2_kg_per_t

    threads = min(_cores(), n_blocks)
    if threads == 1:
        for block in blocks:
            price(block)
    else:
        # numpy releases the GIL in the array work that is nearly all of the pricing: blocks priced on
        # several cores at once (each pair's figures are computed alone, so the result is the same).
        # One pair priced first, here: a first use builds geo's shared networks and caches, which must not
        # happen in two threads at once.
        geo.cost_index_pairs(src_lon[:1], src_lat[:1], dst_lon[:1], dst_lat[:1], [0], [0], freight_class, rates)
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(price, blocks))
    return out


# Pairs from which a category's pricing is split over the cores (a lot page's guidance prices a few hundred).
PARALLEL_PAIRS_MIN = 200_000


def _cores() -> int:
    """Cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def load_demands(session: so.Session, category: WasteCategory, today: dt.date) -> DemandSet:
    """Every current demand of the category (as ``build_category_problem`` loads it), for callers that build
    many problems of one category against an unchanged market (price guidance caches it per market version)."""
    return DemandSet(_load_demands(session, category, today, None))


def build_category_problem(session: so.Session, category: WasteCategory, today: dt.date,
                           lot_ids: Sequence[int] | None = None,
                           demands: list[_Demand] | None = None, lots: Sequence[Lot] | None = None
                           ) -> CategoryProblem:
    """The matching problem of one category (or of some of its lots) against all its current demand.

    ``demands``: the category's demands from ``load_demands`` (same category and day), instead of reading them.
    ``lots``: with ``lot_ids``, those lots as the caller has just read them with their facility (a lot page),
    instead of reading them again; the same buyable rule applies.

    With ``lot_ids`` only the demands within reach of those lots are kept (the others could take no part).
    """
    if lots is not None and lot_ids is not None:
        wanted = set(lot_ids)
        lot_rows = _loaded_lots([lot for lot in lots if lot.id in wanted], category, today)
    else:
        lot_rows = _load_lots(session, category, today, lot_ids)
    lots = lot_rows
    if demands is None:
        demands = _load_demands(session, category, today, lot_ids)
    li, di = candidate_pairs(lots, demands)  # a bid on a lot not among these pairs with nothing
    if lot_ids is not None:
        # For some lots only (price guidance): the demands out of their reach play no part.
        kept, di = np.unique(di, return_inverse=True)
        demands = demands.take(kept) if isinstance(demands, DemandSet) else [demands[j] for j in kept.tolist()]
        di = di.ravel().astype(np.int64)
    m_lots = [matching.Lot(
        id=r.id, category=category.code, tonnes=r.remaining_tonnes, reserve_yuan_per_t=r.reserve_yuan_per_t,
        available_from=r.available_from, available_to=r.available_to, quality=_numeric_quality(r.quality),
        hazardous=category.hazardous) for r in lots.rows]
    columns = _columns(demands)
    rows = DemandRows(columns.facility, columns.bid_id, columns.profile_id, columns.organization,
                      [d.prefecture for d in demands])
    costs = pair_costs(lots, demands, li, di, category.freight_class, configured_rates())
    # The haul rule judges the whole route: road legs plus the rail leg.
    km = costs["road"] + np.nan_to_num(costs["rail"], nan=0.0)
    problem = matching.Problem.from_arrays(m_lots, [d.build() for d in demands], li, di, costs["yuan"], km,
                                           costs["co2"])
    return CategoryProblem(category, problem, rows, lots.organization, costs["road"], costs["rail"])
