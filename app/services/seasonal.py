"""Seasonal plan: the clearing problem over twelve months, with kiln calendars, generation profiles and yards.

The lots, demands and freight come from the clearing's own translation (`clearing.build_category_problem`);
this module only adds time to it and hands it to `matching.seasonal`:

* a lot's remaining tonnes arrive over the months of its availability window inside the plan, weighted by its
  facility's generation profile (flat without one);
* a demand's tonnes are spread over the months it can take deliveries — inside its window and in proportion
  to its facility's operating share of each month (0 = stopped) — and never above the facility's monthly
  capacity for the category times that share;
* the base yards of the category hold stock between months at their cost, within their capacity.

Nothing real changes: a plan is kept as a scenario MatchRun (results as JSON, no allocations) with an audit event.
The projected rate of a base is the plan's rate for its producers: tonnes placed with a buyer (directly or through
a yard, which ends the year empty) ÷ tonnes the plan offers, the NBS ratio over the plan's own tonnes.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

import geo
from app.services import audit, clearing, facilities, quantities, utilisation
from app.services.errors import PermissionDenied, ServiceError
from app.services.utilisation import Scope
from matching import seasonal as ms
from models import Bid, Facility, FacilityCapacity, Lot, MatchRun, ResourceBase, User, WasteCategory, Yard, utcnow

ZERO = Decimal(0)
KG = Decimal("0.001")
MONTHS_IN_PLAN = 12
YARD_REACH_KM = 150.0  # a producer hauls to a base yard within about this road distance
MAX_FLOWS_PER_MONTH = 300  # lines drawn on each month's map

# Cement clinker lines in Heilongjiang, share of each month (January first) a kiln runs.
# Source: Heilongjiang Dept. of Industry and IT and Dept. of Ecology and Environment, 关于进一步做好水泥常态化
# 错峰生产的通知 (2020): general-cement clinker lines stop from 15 October to 15 March, at least five
# consecutive months of the heating season; Heilongjiang Cement Association, summer staggered production,
# kilns stopped 1–16 July (notice of June 2024). Editable per facility.
KILN_STAGGERED_MONTHS = (0.0, 0.0, 0.52, 1.0, 1.0, 1.0, 0.52, 1.0, 1.0, 0.45, 0.0, 0.0)
# Heat-and-power plants burn most coal in Harbin's heating season (20 October – 20 April): relative monthly
# generation. Demo figures, not measurements.
HEATING_SEASON_PROFILE = (1.6, 1.5, 1.3, 1.0, 0.5, 0.45, 0.45, 0.45, 0.5, 0.8, 1.5, 1.6)


@dataclass(frozen=True)
class WhatIf:
    """Changes tried in memory: an extra yard, and/or a kiln whose stopped months move."""

    yard: dict[str, Any] | None = None  # category (code), lon, lat, capacity_t, cost_yuan_per_t_month
    kiln_facility_id: int | None = None
    kiln_stopped_months: tuple[int, ...] = ()  # calendar months 1–12 the kiln stops in; the rest it runs

    @property
    def is_empty(self) -> bool:
        """True when nothing is changed."""
        return self.yard is None and self.kiln_facility_id is None

    def as_json(self) -> dict[str, Any]:
        """JSON-safe form for the run record."""
        yard = None if self.yard is None else {k: (float(v) if isinstance(v, Decimal) else v)
                                                for k, v in self.yard.items()}
        return {"yard": yard, "kiln_facility_id": self.kiln_facility_id,
                "kiln_stopped_months": list(self.kiln_stopped_months)}


# ----------------------------------------------------------------------------- calendars and profiles


def parse_months(values, what: str, upper: float | None) -> list[float] | None:
    """Twelve numbers (January first) in [0, upper]; None for an empty entry. Raises ServiceError."""
    if values is None or values == "" or values == []:
        return None
    if isinstance(values, str):
        values = [v for v in values.replace(",", " ").split() if v]
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError):
        raise ServiceError(_("%(what)s must be twelve numbers, January first.", what=what)) from None
    if len(numbers) != 12 or not all(np.isfinite(numbers)):
        raise ServiceError(_("%(what)s must be twelve numbers, January first.", what=what))
    if any(n < 0 or (upper is not None and n > upper) for n in numbers):
        raise ServiceError(_("%(what)s must lie between 0 and %(upper)s.", what=what, upper=upper or "∞"))
    if upper is None and sum(numbers) <= 0:
        raise ServiceError(_("%(what)s must have some generation in at least one month.", what=what))
    return [round(n, 4) for n in numbers]


def set_seasons(session: so.Session, user: User, facility: Facility, operating_months, generation_profile) -> None:
    """Save a facility's calendar and generation profile (validated), with an audit event."""
    if not facilities.can_edit(user, facility):
        raise PermissionDenied(_("Only the owner organisation can change this facility."))
    facility.operating_months = parse_months(operating_months, _("Operating months"), 1.0)
    facility.generation_profile = parse_months(generation_profile, _("Generation profile"), None)
    audit.record(session, user.id, "facility", facility.id, "seasons",
                 {"operating_months": facility.operating_months, "generation_profile": facility.generation_profile})
    session.commit()


# ----------------------------------------------------------------------------- yards


def may_manage_yards(user: User, scope: Scope) -> bool:
    """The regulator and admins anywhere; a base officer only in their own base (app.policy.may_oversee)."""
    from app import policy

    return policy.may_oversee(user, scope.base)


def yards(session: so.Session, scope: Scope) -> list[Yard]:
    """The yards of a base (or every yard for the province)."""
    stmt = sa.select(Yard).order_by(Yard.id)
    if scope.kind == "base":
        stmt = stmt.where(Yard.base_id == scope.base.id)
    return list(session.scalars(stmt))


def _yard_values(session: so.Session, data: dict[str, Any]) -> dict[str, Any]:
    """Checked yard fields; the limits live here, the form only parses."""
    category = session.scalar(sa.select(WasteCategory).where(WasteCategory.code == data.get("category")))
    if category is None:
        raise ServiceError(_("Choose a category."), field="category")
    lon, lat = data.get("lon"), data.get("lat")
    if lon is None or lat is None or not (-180 <= float(lon) <= 180 and -90 <= float(lat) <= 90):
        raise ServiceError(_("Give the yard's longitude and latitude."), field="lon")
    capacity = Decimal(str(data.get("capacity_t") or 0))
    if not ZERO < capacity <= Decimal("10000000"):
        raise ServiceError(_("Capacity must be above 0 and at most 10,000,000 t."), field="capacity_t")
    cost = Decimal(str(data.get("cost_yuan_per_t_month") if data.get("cost_yuan_per_t_month") is not None else -1))
    if not ZERO <= cost <= Decimal(1000):
        raise ServiceError(_("Storage cost must be from 0 to 1,000 yuan per tonne and month."),
                           field="cost_yuan_per_t_month")
    loss = Decimal(str(data.get("loss_pct_per_month") or 0))
    if not ZERO <= loss < Decimal(100):
        raise ServiceError(_("Monthly loss must be from 0 to below 100 %."), field="loss_pct_per_month")
    return {"category": category, "lon": float(lon), "lat": float(lat), "capacity_t": quantities.tonnes(capacity),
            "cost_yuan_per_t_month": quantities.yuan(cost),
            "loss_pct_per_month": quantities.round_places(loss, 3)}


_WHAT_IF_FIELDS = {"category": "yard_category", "lon": "yard_lon", "capacity_t": "yard_capacity_t",
                   "cost_yuan_per_t_month": "yard_cost"}


def check_what_if(session: so.Session, what_if: WhatIf) -> WhatIf:
    """The what-if with its yard checked like a real one and its kiln known; ServiceError names the field."""
    yard = what_if.yard
    if yard is not None:
        try:
            values = _yard_values(session, yard)
        except ServiceError as exc:
            raise ServiceError(exc.message, field=_WHAT_IF_FIELDS.get(exc.field, exc.field)) from None
        yard = {"category": values["category"].code, **{k: values[k] for k in ("lon", "lat", "capacity_t",
                                                                                "cost_yuan_per_t_month")}}
    if what_if.kiln_facility_id is not None and session.get(Facility, what_if.kiln_facility_id) is None:
        raise ServiceError(_("No such facility."), field="kiln")
    if any(not 1 <= m <= 12 for m in what_if.kiln_stopped_months):
        raise ServiceError(_("Months are numbered 1 to 12."), field="kiln_stopped")
    return WhatIf(yard, what_if.kiln_facility_id, tuple(sorted(set(what_if.kiln_stopped_months))))


def add_yard(session: so.Session, user: User, scope: Scope, data: dict[str, Any]) -> Yard:
    """Record a yard in the scope's base (audited)."""
    if not may_manage_yards(user, scope):
        raise PermissionDenied(_("You may manage yards only in your own base."))
    name = (data.get("name") or "").strip()
    if not name or len(name) > 120:
        raise ServiceError(_("Give the yard a name of at most 120 characters."), field="name")
    yard = Yard(name=name, base=scope.base if scope.kind == "base" else None, created_by_id=user.id,
                **_yard_values(session, data))
    session.add(yard)
    session.flush()
    audit.record(session, user.id, "yard", yard.id, "created",
                 {"name": name, "capacity_t": str(yard.capacity_t), "category": yard.category.code})
    session.commit()
    return yard


def update_yard(session: so.Session, user: User, scope: Scope, yard_id: int, changes: dict[str, Any]) -> Yard:
    """Change fields of a yard of the scope (the others keep their values), checked as a new one (audited)."""
    yard = session.get(Yard, yard_id)
    if yard is None or (scope.kind == "base" and yard.base_id != scope.base.id):
        raise ServiceError(_("No such yard."))
    if not may_manage_yards(user, scope):
        raise PermissionDenied(_("You may manage yards only in your own base."))
    current = {"name": yard.name, "category": yard.category.code, "lon": yard.lon, "lat": yard.lat,
               "capacity_t": yard.capacity_t, "cost_yuan_per_t_month": yard.cost_yuan_per_t_month,
               "loss_pct_per_month": yard.loss_pct_per_month}
    data = current | {k: v for k, v in changes.items() if k in current and v is not None}
    name = str(data["name"]).strip()
    if not name or len(name) > 120:
        raise ServiceError(_("Give the yard a name of at most 120 characters."), field="name")
    values = _yard_values(session, data)
    for key, value in {"name": name, **values}.items():
        setattr(yard, key, value)
    audit.record(session, user.id, "yard", yard.id, "updated",
                 {k: str(v) for k, v in changes.items() if k in current and v is not None})
    session.commit()
    return yard


def delete_yard(session: so.Session, user: User, scope: Scope, yard_id: int) -> None:
    """Remove a yard of the scope (audited)."""
    yard = session.get(Yard, yard_id)
    if yard is None or (scope.kind == "base" and yard.base_id != scope.base.id):
        raise ServiceError(_("No such yard."))
    if not may_manage_yards(user, scope):
        raise PermissionDenied(_("You may manage yards only in your own base."))
    audit.record(session, user.id, "yard", yard.id, "deleted", {"name": yard.name})
    session.delete(yard)
    session.commit()


# ----------------------------------------------------------------------------- the plan's problem


@dataclass
class _Places:
    """Where ids of one category's problem sit, for maps and base totals."""

    lot_point: dict = field(default_factory=dict)  # lot id → (lon, lat)
    lot_base: dict = field(default_factory=dict)  # lot id → base id
    demand_point: dict = field(default_factory=dict)
    yard_point: dict = field(default_factory=dict)
    yard_meta: dict = field(default_factory=dict)  # yard key → (name, base id, capacity t, loss share)


def _weights(months: list[int], profile) -> list[float]:
    return [float(profile[m - 1]) if profile else 1.0 for m in months]


def _spread(total_kg: int, weights: list[float]) -> list[int]:
    """Integer kg over periods in proportion to weights; the remainder goes to the heaviest period."""
    w = sum(weights)
    if w <= 0 or total_kg <= 0:
        return [0] * len(weights)
    out = [int(total_kg * x // w) for x in weights]
    out[int(np.argmax(weights))] += total_kg - sum(out)
    return out


def _window_months(periods: tuple[str, ...], start: dt.date | None, end: dt.date | None) -> list[bool]:
    inside = []
    for p in periods:
        first, last = ms.month_bounds(p)
        inside.append(not ((start is not None and start > last) or (end is not None and end < first)))
    return inside


def _lot_available(periods, lot, facility: Facility) -> dict[str, Decimal]:
    months = [int(p[5:]) for p in periods]
    inside = _window_months(periods, lot.available_from, lot.available_to)
    weights = [w if ok else 0.0 for w, ok in zip(_weights(months, facility.generation_profile), inside, strict=True)]
    kg = _spread(int(lot.tonnes * 1000), weights)
    return {p: Decimal(k) * KG for p, k in zip(periods, kg, strict=True)}


def _demand_capacity(periods, demand, facility: Facility, monthly_cap: Decimal | None,
                     calendar: list[float] | None) -> dict[str, Decimal]:
    months = [int(p[5:]) for p in periods]
    share = [float(calendar[m - 1]) if calendar else 1.0 for m in months]
    inside = _window_months(periods, demand.window_from, demand.window_to)
    weights = [s if ok else 0.0 for s, ok in zip(share, inside, strict=True)]
    kg = _spread(int(demand.tonnes * 1000), weights)
    if monthly_cap is not None:
        cap = int(monthly_cap * 1000)
        kg = [min(k, int(cap * s)) for k, s in zip(kg, share, strict=True)]
    return {p: Decimal(k) * KG for p, k in zip(periods, kg, strict=True)}


def _pooled_buyers(session: so.Session, part: clearing.CategoryProblem) -> list[int]:
    """Positions of the demands that may take pooled stock: profiles and category-wide bids, not a bid on one lot."""
    bid_ids = [int(b) for b in part.demands.bid_id.tolist() if b]
    on_one_lot = set(session.scalars(sa.select(Bid.id).where(Bid.id.in_(bid_ids), Bid.lot_id.is_not(None)))) \
        if bid_ids else set()
    return [j for j, b in enumerate(part.demands.bid_id.tolist()) if int(b) not in on_one_lot]


def _yard_rows(category: WasteCategory, part: clearing.CategoryProblem, yard_list: list[dict], lot_facility: dict,
               demand_facility: dict, places: _Places,
               buyers: list[int]) -> tuple[list[ms.Storage], list[ms.StorageCost]]:
    """Storage and freight rows of the category's yards (to ``buyers``), priced by the clearing's freight model.

    A yard pools its lots' stock, so a tonne out of it may come from any lot that entered it. The direct
    clearing never pairs a demand with a lot of its own facility or organisation; to keep that true through
    a yard, a lot may not enter a yard that one of its own facility's or organisation's demands can buy from
    (the buyers keep the yard; the lot keeps every direct buyer and every other yard).
    """
    storage, rows = [], []
    lots = part.problem.lots
    if not yard_list or not lots:
        return storage, rows
    demands = [part.problem.demands[j] for j in buyers]
    lon = [y["lon"] for y in yard_list]
    lat = [y["lat"] for y in yard_list]
    lot_fac = [lot_facility[lot.id] for lot in lots]
    into = geo.cost_matrix([f.lon for f in lot_fac], [f.lat for f in lot_fac], lon, lat, category.freight_class)
    dem_fac = [demand_facility[d.id] for d in demands]
    out = geo.cost_matrix(lon, lat, [f.lon for f in dem_fac], [f.lat for f in dem_fac], category.freight_class) \
        if demands else None
    buyer_org = part.demands.organization_id[buyers].tolist()
    buyer_fac = part.demands.facility_id[buyers].tolist()
    for k, y in enumerate(yard_list):
        storage.append(ms.Storage(y["key"], y["capacity_t"], y["cost_yuan_per_t_month"],
                                  y.get("loss_pct_per_month") or 0, lon=y["lon"], lat=y["lat"],
                                  category=category.code))
        places.yard_point[y["key"]] = (y["lon"], y["lat"])
        places.yard_meta[y["key"]] = (y["name"], y.get("base_id"), y["capacity_t"])
        orgs, facs = set(), set()
        for j, d in enumerate(demands):
            km = float(out.road_km[k, j])
            if d.max_haul_km is not None and km > d.max_haul_km:
                continue  # the same haul rule matching applies; a buyer out of reach takes nothing from the yard
            rows.append(ms.StorageCost(y["key"], quantities.yuan(float(out.yuan_per_t[k, j])),
                                       demand_id=d.id, km=km))
            orgs.add(int(buyer_org[j]))
            facs.add(int(buyer_fac[j]))
        for i, lot in enumerate(lots):
            if into.road_km[i, k] <= YARD_REACH_KM and lot_fac[i].organization_id not in orgs \
                    and lot_fac[i].id not in facs:
                rows.append(ms.StorageCost(y["key"], quantities.yuan(float(into.yuan_per_t[i, k])),
                                           lot_id=lot.id, km=float(into.road_km[i, k])))
    return storage, rows


def _yard_dicts(session: so.Session, what_if: WhatIf) -> dict[int, list[dict]]:
    """Every yard by category id, as plain dicts, with the what-if yard added."""
    by_category: dict[int, list[dict]] = defaultdict(list)
    for y in session.scalars(sa.select(Yard).order_by(Yard.id)):
        by_category[y.category_id].append({"key": f"y{y.id}", "name": y.name, "base_id": y.base_id,
                                           "lon": y.lon, "lat": y.lat, "capacity_t": y.capacity_t,
                                           "cost_yuan_per_t_month": y.cost_yuan_per_t_month,
                                           "loss_pct_per_month": y.loss_pct_per_month})
    if what_if.yard:
        category = session.scalar(sa.select(WasteCategory).where(WasteCategory.code == what_if.yard["category"]))
        if category is not None:
            by_category[category.id].append({"key": "what-if", "name": _("What-if yard"), "base_id": None,
                                             **{k: what_if.yard[k] for k in ("lon", "lat", "capacity_t",
                                                                             "cost_yuan_per_t_month")}})
    return by_category


def category_plan(session: so.Session, category: WasteCategory, periods: tuple[str, ...], today: dt.date,
                  what_if: WhatIf, yard_list: list[dict]) -> tuple[ms.SeasonalProblem | None, _Places]:
    """One category's seasonal problem, built on the clearing's problem translation."""
    part = clearing.build_category_problem(session, category, today)
    places = _Places()
    problem = part.problem
    if not problem.lots:
        return None, places
    lot_rows = session.execute(sa.select(Lot.id, Lot.facility_id)
                               .where(Lot.id.in_([lot.id for lot in problem.lots]))).all()
    demand_facility = {d.id: int(f) for d, f in zip(problem.demands, part.demands.facility_id.tolist(), strict=True)}
    wanted = {f for _, f in lot_rows} | set(demand_facility.values())
    plants = {f.id: f for f in session.scalars(sa.select(Facility).where(Facility.id.in_(wanted)))}
    by_lot = {lot_id: plants[f] for lot_id, f in lot_rows}
    monthly = dict(session.execute(sa.select(FacilityCapacity.facility_id, FacilityCapacity.tonnes_per_month)
                                   .where(FacilityCapacity.category_id == category.id)).all())
    available = {lot.id: _lot_available(periods, lot, by_lot[lot.id]) for lot in problem.lots}
    capacity = {}
    for d in problem.demands:
        fac = plants[demand_facility[d.id]]
        calendar = fac.operating_months
        if what_if.kiln_facility_id == fac.id:
            calendar = [0.0 if m in what_if.kiln_stopped_months else 1.0 for m in range(1, 13)]
        capacity[d.id] = _demand_capacity(periods, d, fac, monthly.get(fac.id), calendar)
        places.demand_point[d.id] = (fac.lon, fac.lat)
    for lot in problem.lots:
        places.lot_point[lot.id] = (by_lot[lot.id].lon, by_lot[lot.id].lat)
        places.lot_base[lot.id] = by_lot[lot.id].base_id
    storage, rows = _yard_rows(category, part, yard_list, by_lot, {d: plants[f] for d, f in demand_facility.items()},
                               places, _pooled_buyers(session, part))
    return ms.SeasonalProblem(problem, periods, available, capacity, storage, rows), places


# ----------------------------------------------------------------------------- running a plan


def plan(session: so.Session, start: str, what_if: WhatIf | None = None, today: dt.date | None = None,
         locale: str = "zh_CN") -> dict[str, Any]:
    """Solve the year from ``start`` (YYYY-MM) for every clearable category; a JSON-safe month-by-month summary."""
    what_if = what_if or WhatIf()
    try:
        periods = ms.months(start, MONTHS_IN_PLAN)
    except ms.ProblemError:
        raise ServiceError(_("Choose the first month of the plan as YYYY-MM."), field="start") from None
    today = today or utcnow().date()
    yard_lists = _yard_dicts(session, what_if)
    summary = _Summary(periods)
    for category in clearing.clearable_categories(session):
        problem, places = category_plan(session, category, periods, today, what_if, yard_lists.get(category.id, []))
        if problem is None:
            continue
        try:
            result = ms.solve_seasonal(problem)
        except ms.SolverError as exc:
            raise ServiceError(_("The plan for %(category)s could not be solved: %(reason)s",
                                 category=category.code, reason=str(exc))) from None
        summary.add(category, problem, result, places)
    return summary.as_json(session, locale)


class _Summary:
    """Month-by-month totals, yard levels, base rates and map lines accumulated over categories."""

    def __init__(self, periods: tuple[str, ...]) -> None:
        self.periods = periods
        self.index = {p: k for k, p in enumerate(periods)}
        n = len(periods)
        self.delivered = [ZERO] * n
        self.stored_in = [ZERO] * n
        self.disposed = [ZERO] * n
        self.offered = [ZERO] * n
        self.objective = ZERO
        self.storage_cost = ZERO
        self.status = "optimal"
        self.yards: dict[str, dict] = {}
        self.base_offered: dict = defaultdict(Decimal)
        self.base_placed: dict = defaultdict(Decimal)
        self.flows: dict[str, list] = {p: [] for p in periods}

    def add(self, category: WasteCategory, sp: ms.SeasonalProblem, result: ms.SeasonalResult,
            places: _Places) -> None:
        """Fold one category's result in."""
        self.objective += result.objective_yuan
        if result.status != "optimal":
            self.status = result.status
        for i, lot in enumerate(sp.problem.lots):
            for t, kg in enumerate(sp.lot_kg[i].tolist()):
                self.offered[t] += Decimal(kg) * KG
                self.base_offered[places.lot_base.get(lot.id)] += Decimal(kg) * KG
        for d in result.deliveries:
            self.delivered[self.index[d.period]] += d.tonnes
            origin = places.yard_point[d.storage_id] if d.storage_id else places.lot_point[d.lot_id]
            self.flows[d.period].append({"from": origin, "to": places.demand_point[d.demand_id],
                                         "tonnes": float(d.tonnes), "category": category.code,
                                         "via_yard": d.storage_id is not None})
            if d.storage_id is None:
                self.base_placed[places.lot_base.get(d.lot_id)] += d.tonnes
        for period, lot_id, _yard, tonnes in result.stored:
            self.stored_in[self.index[period]] += tonnes
            # A yard ends the plan empty, so what enters it is delivered later (less any loss).
            self.base_placed[places.lot_base.get(lot_id)] += tonnes
        for period, _lot, tonnes in result.unplaced:
            self.disposed[self.index[period]] += tonnes
        for s in result.storage:
            name, base_id, capacity = places.yard_meta[s.storage_id]
            row = self.yards.setdefault(s.storage_id, {"id": s.storage_id, "name": name, "base_id": base_id,
                                                       "category": category.code, "capacity_t": float(capacity),
                                                       "levels_t": [0.0] * len(self.periods), "loss_t": 0.0})
            row["levels_t"][self.index[s.period]] = float(s.level_t)
            row["loss_t"] += float(s.loss_t)
        cost = {storage.id: storage.cost_yuan_per_t_month for storage in sp.storage}
        # Each month-end tonne carried is charged one month of storage.
        self.storage_cost += sum((s.level_t * cost[s.storage_id] for s in result.storage), ZERO)

    def as_json(self, session: so.Session, locale: str) -> dict[str, Any]:
        """The plan as JSON-safe numbers (tonnes to the kg, money to the fen)."""
        months = [{"period": p, "offered_t": float(self.offered[k]), "delivered_t": float(self.delivered[k]),
                   "stored_in_t": float(self.stored_in[k]), "disposed_t": float(self.disposed[k])}
                  for k, p in enumerate(self.periods)]
        for lines in self.flows.values():
            lines.sort(key=lambda f: -f["tonnes"])
            del lines[MAX_FLOWS_PER_MONTH:]
        return {
            "periods": list(self.periods), "status": self.status, "objective_yuan": float(self.objective),
            "storage_cost_yuan": float(quantities.yuan(self.storage_cost)),
            "months": months, "yards": list(self.yards.values()), "bases": self._bases(session, locale),
            "flows": self.flows,
            "totals": {"offered_t": float(sum(self.offered)), "delivered_t": float(sum(self.delivered)),
                       "disposed_t": float(sum(self.disposed))},
        }

    def _bases(self, session: so.Session, locale: str) -> list[dict[str, Any]]:
        year = int(self.periods[-1][:4])
        rows = []
        for base in session.scalars(sa.select(ResourceBase).order_by(ResourceBase.code)):
            offered = self.base_offered.get(base.id, ZERO)
            if offered <= 0:
                continue
            # After the last target year the last target stays (the dashboards' trajectory rule).
            target = utilisation.target_for_month(utilisation.targets(session, Scope("base", base=base)), year, 12)
            rate = utilisation.rate(self.base_placed.get(base.id, ZERO), offered, ZERO)
            rows.append({"code": base.code, "name": base.name_zh if locale.startswith("zh") else base.name_en,
                         "offered_t": float(offered), "placed_t": float(self.base_placed.get(base.id, ZERO)),
                         "rate": None if rate is None else float(rate),
                         "target": None if target is None else float(target), "target_year": year})
        return rows


def compare(baseline: dict[str, Any], scenario: dict[str, Any]) -> dict[str, Any]:
    """Change in rate per base, surplus and storage cost between two plans."""
    before = {b["code"]: b for b in baseline["bases"]}
    rates = []
    for b in scenario["bases"]:
        old = before.get(b["code"], {}).get("rate")
        rates.append({"code": b["code"], "name": b["name"], "baseline": old, "scenario": b["rate"],
                      "change": None if old is None or b["rate"] is None else round(b["rate"] - old, 4)})
    return {"rates": rates,
            "objective_change_yuan": round(scenario["objective_yuan"] - baseline["objective_yuan"], 2),
            "storage_cost_change_yuan": round(scenario["storage_cost_yuan"] - baseline["storage_cost_yuan"], 2),
            "disposed_change_t": round(scenario["totals"]["disposed_t"] - baseline["totals"]["disposed_t"], 3)}


def run_plan(session: so.Session, user: User | None, scope: Scope, start: str, what_if: WhatIf | None = None,
             today: dt.date | None = None, locale: str = "zh_CN") -> MatchRun:
    """Plan the year (and the what-if, when one is given), keep it as a scenario run and audit it."""
    started = utcnow()
    what_if = what_if or WhatIf()
    baseline = plan(session, start, None, today, locale)
    results: dict[str, Any] = {"kind": "seasonal", "baseline": baseline}
    if not what_if.is_empty:
        scenario = plan(session, start, what_if, today, locale)
        results |= {"scenario": scenario, "comparison": compare(baseline, scenario)}
    run = MatchRun(status="succeeded", is_scenario=True, solver="seasonal",
                   parameters={"kind": "seasonal", "start": start, "scope": scope.code, "what_if": what_if.as_json()},
                   results=results, objective_yuan=quantities.yuan(baseline["objective_yuan"]),
                   tonnes_matched=quantities.tonnes(baseline["totals"]["delivered_t"]),
                   created_by_id=user.id if user else None, started_at=started, finished_at=utcnow(),
                   progress_pct=100, message="seasonal plan",
                   seconds=(utcnow() - started).total_seconds())
    session.add(run)
    session.flush()
    audit.record(session, user.id if user else None, "match_run", run.id, "seasonal_plan", run.parameters)
    session.commit()
    return run


def get_run(session: so.Session, user: User, run_id: int) -> MatchRun | None:
    """A seasonal plan run the user may see (officers their own, regulator and admin every one)."""
    run = session.get(MatchRun, run_id)
    if run is None or not run.is_scenario or (run.parameters or {}).get("kind") != "seasonal":
        return None
    if user.role not in ("admin", "regulator") and run.created_by_id != user.id:
        return None
    return run


def recent(session: so.Session, user: User, limit: int = 10) -> list[MatchRun]:
    """The latest seasonal plans the user may see."""
    stmt = sa.select(MatchRun).where(MatchRun.is_scenario.is_(True), MatchRun.solver == "seasonal") \
        .order_by(MatchRun.id.desc()).limit(limit)
    if user.role not in ("admin", "regulator"):
        stmt = stmt.where(MatchRun.created_by_id == user.id)
    return list(session.scalars(stmt))
