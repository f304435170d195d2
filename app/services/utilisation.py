"""Utilisation rates of bases, prefectures and the province, computed in SQL with a fixed number of queries.

Definitions and sources: docs/statistics.md. In short (国家统计局, 一般工业固体废物综合利用率):

    rate = utilised / (generated + utilised from earlier years' storage)

Each producer facility's month of one category is one *cell*. Its report balances
``generated + from_storage = self_utilised + supplied + disposed + stored + dumped``. Platform deliveries the
recycler declared utilised (never more than the weighed-in tonnes: the shipments service caps declarations at
received tonnes under a row lock) are the producer's 外供 too, counted once:

* supplied = max(reported supplied, platform tonnes): a producer who reports the official way already counts
  platform deliveries in its 外供, one who does not is credited with them;
* utilised = self_utilised + supplied;
* from_storage = reported from_storage + platform tonnes beyond the reported supply, and at least
  utilised − generated: tonnes delivered beyond what the month's balance accounts for came from earlier
  storage and enter the denominator too, so no cell's rate can exceed 100 %.

Credits go to the base and prefecture of the SOURCE facility, in the month it supplied the tonnes (the load's
dispatch month, ``UtilisationRecord.supply_period``; the declaration's month for rows without one). A zero
denominator gives ``None`` (shown as "—"), never a division error.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.services import periods, quantities
from models import (
    Allocation,
    Award,
    BaseTarget,
    Facility,
    FacilityYearRollup,
    GenerationReport,
    Lot,
    Organization,
    ResourceBase,
    UtilisationRecord,
    UtilisationRollup,
    WasteCategory,
)
from models.base import Tonnes

ZERO = Decimal(0)
BEHIND_POINTS = Decimal("0.05")


@dataclass(frozen=True)
class Scope:
    """What the figures cover: one base, one prefecture, or the province."""

    kind: str  # "base" | "prefecture" | "province" | "everywhere" | "facilities" (the last two for the rollups)
    base: ResourceBase | None = None
    prefecture_code: str | None = None
    facility_ids: tuple[int, ...] = ()  # kind "facilities"

    @property
    def code(self) -> str:
        """A short name for URLs and exports."""
        if self.kind == "base":
            return self.base.code
        return self.prefecture_code if self.kind == "prefecture" else "province"

    def name(self, locale: str) -> str:
        """The localised name of the scope."""
        if self.kind == "base":
            return self.base.name_zh if locale.startswith("zh") else self.base.name_en
        if self.kind == "prefecture":
            from app.services.catalogue import prefecture_name

            return prefecture_name(self.prefecture_code, locale) or self.prefecture_code
        return "黑龙江省" if locale.startswith("zh") else "Heilongjiang province"

    def rollup_filter(self) -> sa.ColumnElement[bool]:
        """The WHERE clause selecting this scope's rows of the monthly rollup (as facility_filter)."""
        if self.kind == "base":
            return UtilisationRollup.base_key == self.base.id
        if self.kind == "prefecture":
            return UtilisationRollup.prefecture_key == (self.prefecture_code or "")
        return UtilisationRollup.in_province.is_(True)

    def facility_filter(self, facility=Facility) -> sa.ColumnElement[bool]:
        """The WHERE clause selecting the facilities of this scope."""
        if self.kind == "base":
            return facility.base_id == self.base.id
        if self.kind == "prefecture":
            return facility.prefecture_code == self.prefecture_code
        if self.kind == "everywhere":
            return sa.true()
        if self.kind == "facilities":
            return facility.id.in_(self.facility_ids)
        return facility.in_province.is_(True)


def scope_named(session: so.Session, code: str) -> Scope | None:
    """The scope a URL names: "province" or a base code; None when there is no such base."""
    if code == "province":
        return Scope("province")
    base = session.scalar(sa.select(ResourceBase).where(ResourceBase.code == code[:20]))
    return Scope("base", base=base) if base is not None else None


def find_scope(session: so.Session, name: str) -> Scope | None:
    """A scope from a base code, Chinese or English base name, a prefecture adcode, or 'province'."""
    text = (name or "").strip()
    if text.lower() in ("province", "heilongjiang", "黑龙江", "黑龙江省", "全省"):
        return Scope("province")
    key = text.lower().removesuffix(" base").removesuffix("基地").removesuffix("市")
    for base in session.scalars(sa.select(ResourceBase)):
        if key in (base.code.lower(), base.name_zh, base.name_en.lower(), base.prefecture_code):
            return Scope("base", base=base)
    if text.isdigit() and len(text) == 6:
        return Scope("prefecture", prefecture_code=text)
    return None


def rate(utilised: Decimal | None, generated: Decimal | None, from_storage: Decimal | None) -> Decimal | None:
    """utilised / (generated + from_storage), rounded to 4 places; None when the denominator is zero."""
    denominator = (generated or ZERO) + (from_storage or ZERO)
    if denominator <= 0:
        return None
    return quantities.ratio(Decimal(utilised or 0) / Decimal(denominator))


CELL_FIELDS = ("generated_t", "stored_t", "disposed_t", "dumped_t", "from_storage_t", "self_utilised_t",
               "supplied_t", "market_utilised_t", "utilised_t")


@dataclass
class Cell:
    """Summed tonnes of one category (or total) in one period; utilised and from_storage are the counted ones."""

    generated_t: Decimal = ZERO
    stored_t: Decimal = ZERO
    disposed_t: Decimal = ZERO
    dumped_t: Decimal = ZERO
    from_storage_t: Decimal = ZERO
    self_utilised_t: Decimal = ZERO
    supplied_t: Decimal = ZERO  # as reported
    market_utilised_t: Decimal = ZERO  # platform deliveries declared utilised
    utilised_t: Decimal = ZERO  # self + max(reported supplied, platform)

    @property
    def rate(self) -> Decimal | None:
        """The utilisation rate (None when nothing was generated or drawn from storage)."""
        return rate(self.utilised_t, self.generated_t, self.from_storage_t)

    def add(self, other: Cell) -> None:
        """Add another cell's tonnes into this one."""
        for name in CELL_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def count_cell(generated: Decimal, self_utilised: Decimal, supplied: Decimal, from_storage: Decimal,
               platform: Decimal) -> tuple[Decimal, Decimal]:
    """(utilised, from_storage) as counted for one facility, category and month; the SQL below does the same."""
    utilised = self_utilised + max(supplied, platform)
    return utilised, max(from_storage + max(platform - supplied, ZERO), utilised - generated)


def _d(value) -> Decimal:
    return ZERO if value is None else Decimal(str(value))


def _platform(date_from: dt.date, date_to: dt.date, category_id: int | None) -> sa.Subquery:
    u = UtilisationRecord
    month = UtilisationRecord.counted_period
    stmt = (sa.select(u.source_facility_id.label("facility_id"), u.category_id.label("category_id"),
                      month.label("period"), sa.func.sum(u.tonnes).label("tonnes"))
            .where(u.award_id.is_not(None), u.source_facility_id.is_not(None), month >= date_from, month < date_to)
            .group_by(u.source_facility_id, u.category_id, month))
    if category_id is not None:
        stmt = stmt.where(u.category_id == category_id)
    return stmt.subquery("platform")


def _zero() -> sa.ColumnElement:
    return sa.cast(sa.literal(0), Tonnes)


def counted_cells(scope: Scope, date_from: dt.date, date_to: dt.date, category_id: int | None = None) -> sa.Subquery:
    """Every counted cell of the scope in [from, to): reports with their platform tonnes, and platform tonnes of
    months without a report (all from storage), as rows (facility_id, period, category_id, *CELL_FIELDS)."""
    g = GenerationReport
    date_from, date_to = periods.clamp(date_from, date_to)  # rows stored before the window was checked stay out
    plat = _platform(date_from, date_to, category_id)
    in_scope = sa.select(Facility.id).where(scope.facility_filter())
    platform = sa.func.coalesce(plat.c.tonnes, 0)
    supplied = sa.case((platform > g.supplied_t, platform), else_=g.supplied_t)
    utilised = g.self_utilised_t + supplied
    drawn = g.from_storage_t + sa.case((platform > g.supplied_t, platform - g.supplied_t), else_=0)
    beyond = utilised - g.generated_t
    from_storage = sa.case((beyond > drawn, beyond), else_=drawn)
    reported = (sa.select(g.facility_id.label("facility_id"), g.period.label("period"),
                          g.category_id.label("category_id"), g.generated_t, g.stored_t, g.disposed_t, g.dumped_t,
                          from_storage.label("from_storage_t"), g.self_utilised_t, g.supplied_t,
                          platform.label("market_utilised_t"), utilised.label("utilised_t"))
                .outerjoin(plat, sa.and_(plat.c.facility_id == g.facility_id, plat.c.category_id == g.category_id,
                                         plat.c.period == g.period))
                .where(g.facility_id.in_(in_scope), g.period >= date_from, g.period < date_to))
    if category_id is not None:
        reported = reported.where(g.category_id == category_id)
    has_report = sa.exists().where(g.facility_id == plat.c.facility_id, g.category_id == plat.c.category_id,
                                   g.period == plat.c.period)
    unreported = (sa.select(plat.c.facility_id, plat.c.period, plat.c.category_id, _zero(), _zero(), _zero(),
                            _zero(), plat.c.tonnes, _zero(), _zero(), plat.c.tonnes, plat.c.tonnes)
                  .where(plat.c.facility_id.in_(in_scope), ~has_report))
    return sa.union_all(reported, unreported).subquery("cells")


def _sums(cells: sa.Subquery) -> list:
    return [sa.func.sum(cells.c[name]) for name in CELL_FIELDS]


def report_sums(session: so.Session, scope: Scope, date_from: dt.date, date_to: dt.date) -> dict:
    """ONE query: counted tonnes summed by (year, month, category id) for the scope and period [from, to)."""
    cells = counted_cells(scope, date_from, date_to)
    stmt = (sa.select(cells.c.period, cells.c.category_id, *_sums(cells))
            .group_by(cells.c.period, cells.c.category_id))
    out: dict = defaultdict(Cell)
    for period, category_id, *values in session.execute(stmt):
        period = as_date(period)
        out[(period.year, period.month, category_id)].add(Cell(*(_d(v) for v in values)))
    return dict(out)


def as_date(value) -> dt.date:
    """A date read back from SQL: SQLite hands a UNION's or COALESCE's date column back as text."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def market_sums(session: so.Session, scope: Scope, date_from: dt.date, date_to: dt.date) -> dict:
    """ONE query: declared-utilised platform tonnes by (year, month, category), credited to the source in the
    month it supplied them."""
    u = UtilisationRecord
    month = UtilisationRecord.counted_period
    stmt = (sa.select(month, u.category_id, sa.func.sum(u.tonnes))
            .join(Facility, Facility.id == u.source_facility_id)
            .where(scope.facility_filter(), u.award_id.is_not(None), month >= date_from, month < date_to)
            .group_by(month, u.category_id))
    out: dict = defaultdict(Decimal)
    for period, cid, t in session.execute(stmt):
        period = as_date(period)
        out[(period.year, period.month, cid)] += _d(t)
    return dict(out)


def rollup_sums(session: so.Session, scope: Scope, date_from: dt.date, date_to: dt.date) -> dict:
    """ONE query on the monthly rollup: counted tonnes by (year, month, category id), as report_sums."""
    r = UtilisationRollup
    date_from, date_to = periods.clamp(date_from, date_to)
    stmt = (sa.select(r.period, r.category_id, *(sa.func.sum(getattr(r, name)) for name in CELL_FIELDS))
            .where(scope.rollup_filter(), r.period >= date_from, r.period < date_to)
            .group_by(r.period, r.category_id))
    out: dict = defaultdict(Cell)
    for period, category_id, *values in session.execute(stmt):
        out[(period.year, period.month, category_id)].add(Cell(*(_d(v) for v in values)))
    return dict(out)


def monthly_cells(session: so.Session, scope: Scope, date_from: dt.date, date_to: dt.date) -> dict:
    """ONE query: every (year, month, category id) → Cell of counted tonnes, read from the rollup."""
    return rollup_sums(session, scope, date_from, date_to)


def latest_report_year(session: so.Session) -> int | None:
    """The most recent year generation reports cover (None before any report)."""
    latest = session.scalar(sa.select(sa.func.max(GenerationReport.period))
                            .where(periods.window_clause(GenerationReport.period)))
    return latest.year if latest else None


def default_year(session: so.Session) -> int:
    """The year pages show unless asked: the latest reported year, else this year."""
    return latest_report_year(session) or dt.date.today().year


def latest_month(session: so.Session, year: int) -> dt.date:
    """The last month of `year` with a report (December when the year has none)."""
    latest = session.scalar(
        sa.select(sa.func.max(GenerationReport.period)).where(GenerationReport.period < dt.date(year + 1, 1, 1),
                                                              periods.window_clause(GenerationReport.period)))
    return latest if latest else dt.date(year, 12, 1)


def month_start(text: str) -> dt.date:
    """The first day of a 'YYYY-MM' month (the text is already validated)."""
    return dt.date(int(text[:4]), int(text[5:7]), 1)


def categories_by_id(session: so.Session) -> dict[int, WasteCategory]:
    """ONE query: the catalogue by id."""
    return {c.id: c for c in session.scalars(sa.select(WasteCategory).order_by(WasteCategory.id))}


def _period_key(year: int, month: int, grain: str) -> str:
    if grain == "year":
        return f"{year}"
    if grain == "quarter":
        return f"{year}-Q{(month - 1) // 3 + 1}"
    return f"{year}-{month:02d}"


@dataclass
class Table:
    """Figures by category for one scope and period, with a total row."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    total: dict[str, Any] = field(default_factory=dict)
    demo: bool = False  # some figures come from demo organisations: every view marks them


def _row(cell: Cell, category: WasteCategory | None, locale: str) -> dict[str, Any]:
    co2, exempt = ZERO, None
    if category is not None:
        co2 = cell.utilised_t * category.co2_avoided_t_per_t
        # Art. 12(1)(4) exempts the taxpayer's own compliant utilisation: self-utilised tonnes only. Where the annex
        # names no rate for the category the figure is absent (None), not 0: the page, exports and API agree.
        if category.exemption_rate is not None:
            exempt = quantities.yuan(cell.self_utilised_t * category.exemption_rate)
    return {
        "category": category.code if category else None,
        "category_name": category.display_name(locale) if category else None,
        "family": category.family if category else None,
        **{name: getattr(cell, name) for name in CELL_FIELDS}, "rate": cell.rate,
        "co2_avoided_t": quantities.tonnes(co2), "env_tax_exemption_yuan": exempt,
    }


def year_table(session: so.Session, scope: Scope, year: int, locale: str = "zh_CN",
               family: str | None = None) -> Table:
    """Two queries: one row per category for the year, and the total (CO2 avoided and Art. 12 exemption)."""
    categories = categories_by_id(session)
    cells = monthly_cells(session, scope, dt.date(year, 1, 1), dt.date(year + 1, 1, 1))
    by_category: dict[int, Cell] = defaultdict(Cell)
    for (_y, _m, cid), cell in cells.items():
        if family is None or categories[cid].family == family:
            by_category[cid].add(cell)
    table = Table()
    total = Cell()
    co2 = exempt = ZERO
    for cid in sorted(by_category):
        row = _row(by_category[cid], categories[cid], locale)
        table.rows.append(row)
        total.add(by_category[cid])
        co2 += row["co2_avoided_t"]
        exempt += row["env_tax_exemption_yuan"] or ZERO
    table.total = _row(total, None, locale) | {"co2_avoided_t": co2, "env_tax_exemption_yuan": quantities.yuan(exempt)}
    table.demo = includes_demo(session, scope, dt.date(year, 1, 1), dt.date(year + 1, 1, 1))
    return table


def includes_demo(session: so.Session, scope: Scope, date_from: dt.date, date_to: dt.date) -> bool:
    """ONE query: whether any counted figure of the scope in [from, to) comes from a demo organisation."""
    r = UtilisationRollup
    found = sa.exists().where(scope.rollup_filter(), r.period >= date_from, r.period < date_to, r.demo_cells > 0)
    return bool(session.scalar(sa.select(found)))


def series(session: so.Session, scope: Scope, date_from: dt.date, date_to: dt.date, grain: str = "month",
           family: str | None = None) -> dict[str, Any]:
    """Three queries: rate and tonnes per period (month/quarter/year) in total and per category."""
    categories = categories_by_id(session)
    cells = monthly_cells(session, scope, date_from, date_to)
    keys = []
    index = date_from.year * 12 + date_from.month - 1
    while index < date_to.year * 12 + date_to.month - 1:
        key = _period_key(index // 12, index % 12 + 1, grain)
        if key not in keys:
            keys.append(key)
        index += 1
    totals: dict[str, Cell] = defaultdict(Cell)
    per_category: dict[str, dict[str, Cell]] = defaultdict(lambda: defaultdict(Cell))
    for (year, month, cid), cell in cells.items():
        category = categories[cid]
        if family is not None and category.family != family:
            continue
        key = _period_key(year, month, grain)
        totals[key].add(cell)
        per_category[category.code][key].add(cell)
    return {
        "demo": includes_demo(session, scope, date_from, date_to),
        "periods": keys,
        "total": [totals[k].rate if k in totals else None for k in keys],
        "categories": {code: [data[k].rate if k in data else None for k in keys]
                       for code, data in sorted(per_category.items())},
        "utilised_t": [totals[k].utilised_t if k in totals else ZERO for k in keys],
        "generated_t": [totals[k].generated_t if k in totals else ZERO for k in keys],
    }


# ----------------------------------------------------------------------------- targets and trajectory


def targets(session: so.Session, scope: Scope, family: str = "bulk_industrial") -> dict[int, Decimal]:
    """ONE query: year → target rate of the scope (a base's own targets, else the province's)."""
    base_id = scope.base.id if scope.kind == "base" else None
    rows = session.execute(sa.select(BaseTarget.base_id, BaseTarget.year, BaseTarget.target_rate).where(
        BaseTarget.family == family, sa.or_(BaseTarget.base_id.is_(None), BaseTarget.base_id == base_id)))
    own: dict[int, Decimal] = {}
    province: dict[int, Decimal] = {}
    for row_base, year, value in rows:
        (own if row_base is not None and row_base == base_id else province)[year] = _d(value)
    return own or province


def target_assumed(session: so.Session, scope: Scope, family: str = "bulk_industrial") -> bool:
    """ONE query: whether the scope is a base with no target of its own for `family`, so that the province's
    applies to it as an assumption (no source gives the bases targets of their own; docs/statistics.md)."""
    if scope.kind != "base":
        return False
    own = sa.exists().where(BaseTarget.base_id == scope.base.id, BaseTarget.family == family)
    return not session.scalar(sa.select(own))


def target_for_month(by_year: dict[int, Decimal], year: int, month: int) -> Decimal | None:
    """The trajectory value at the end of a month: each year's target is reached in December.

    Between the previous year's target and this year's, the value moves linearly by month; a year with no
    previous target holds its own value; after the last target year the last target stays.
    """
    if not by_year:
        return None
    if year in by_year:
        previous = by_year.get(year - 1)
        if previous is None:
            return by_year[year]
        return quantities.ratio(previous + (by_year[year] - previous) * Decimal(month) / 12)
    earlier = [y for y in by_year if y < year]
    if earlier:
        return by_year[max(earlier)]
    return None


def trajectory(by_year: dict[int, Decimal], periods: list[str]) -> list[Decimal | None]:
    """The interpolated target at the end of each period key ('YYYY-MM', 'YYYY-Qn' or 'YYYY')."""
    out = []
    for key in periods:
        year, rest = int(key[:4]), key[5:]
        month = int(rest[1]) * 3 if rest.startswith("Q") else int(rest) if rest else 12
        out.append(target_for_month(by_year, year, month))
    return out


# ----------------------------------------------------------------------------- early warnings


@dataclass(frozen=True)
class Warning:
    """An early warning: behind the trajectory, or a large producer's storage growing."""

    kind: str  # "behind" | "storage"
    subject: str
    detail: dict[str, Any]


def _behind(subject: str, cell: Cell, target: Decimal | None) -> Warning | None:
    value = cell.rate
    if value is None or target is None or target - value <= BEHIND_POINTS:
        return None
    return Warning("behind", subject, {"rate": value, "target": target, "gap_points": (target - value) * 100})


def warnings(session: so.Session, scope: Scope, year: int, month: int, locale: str = "zh_CN",
             family: str = "bulk_industrial") -> list[Warning]:
    """Five queries: year-to-date rate of the scope and each category of `family` more than 5 points behind the
    interpolated target; large producers whose monthly addition to storage rose three months in a row."""
    by_year = targets(session, scope, family)
    target = target_for_month(by_year, year, month)
    categories = categories_by_id(session)
    cells = monthly_cells(session, scope, dt.date(year, 1, 1), _next_month(dt.date(year, month, 1)))
    total = Cell()
    per_category: dict[int, Cell] = defaultdict(Cell)
    for (_y, _m, cid), cell in cells.items():
        if categories[cid].family == family:
            total.add(cell)
            per_category[cid].add(cell)
    out = []
    found = _behind(scope.name(locale), total, target)
    if found:
        out.append(found)
    for cid in sorted(per_category):
        found = _behind(categories[cid].display_name(locale), per_category[cid], target)
        if found:
            out.append(found)
    out.extend(storage_warnings(session, scope, dt.date(year, month, 1), categories, locale))
    return out


def _next_month(day: dt.date, months: int = 1) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def storage_warnings(session: so.Session, scope: Scope, month: dt.date, categories: dict[int, WasteCategory],
                     locale: str) -> list[Warning]:
    """ONE query: large producers whose net addition to storage (stored − utilised and disposed from storage)
    rose in each of the three months up to `month` (four monthly reports, strictly increasing)."""
    start = _next_month(month, -3)
    g = GenerationReport
    rows = session.execute(
        sa.select(g.facility_id, Facility.name, g.category_id, g.period,
                  g.stored_t - g.from_storage_t - g.disposed_from_storage_t)
        .join(Facility, Facility.id == g.facility_id)
        .where(scope.facility_filter(), Facility.large_producer.is_(True), g.period >= start, g.period <= month)
        .order_by(g.facility_id, g.category_id, g.period))
    series_by: dict[tuple[int, int], list] = defaultdict(list)
    names = {}
    for facility_id, name, cid, period, added in rows:
        series_by[(facility_id, cid)].append((period, _d(added)))
        names[facility_id] = name
    out = []
    for (facility_id, cid), values in series_by.items():
        if len(values) == 4 and all(values[k][1] < values[k + 1][1] for k in range(3)):
            out.append(Warning("storage", f"{names[facility_id]} · {categories[cid].display_name(locale)}",
                               {"facility_id": facility_id, "added_t": [v for _p, v in values]}))
    return out


# ----------------------------------------------------------------------------- marketplace flows and rankings


def flows(session: so.Session, scope: Scope, year: int, locale: str = "zh_CN") -> list[dict[str, Any]]:
    """ONE query: awarded tonnes from producers in the scope to each recycler in the year, summed per pair,
    category and mode (rail when the clearing priced the allocation by rail), and whether either party is a demo
    organisation (its figures are invented)."""
    source = so.aliased(Facility)
    target = so.aliased(Facility)
    source_org = so.aliased(Organization)
    target_org = so.aliased(Organization)
    demo = sa.or_(source_org.is_demo, target_org.is_demo)
    mode = sa.case((Allocation.rail_km.is_not(None), "rail"), else_="road")
    name = WasteCategory.display_name(locale)
    stmt = (sa.select(source.id, source.name, source.lon, source.lat, target.id, target.name, target.lon,
                      target.lat, WasteCategory.code, name, mode, sa.func.sum(Award.tonnes), demo)
            .select_from(Award)
            .join(Allocation, Allocation.id == Award.allocation_id)
            .join(Lot, Lot.id == Allocation.lot_id)
            .join(source, source.id == Lot.facility_id)
            .join(target, target.id == Allocation.facility_id)
            .join(source_org, source_org.id == source.organization_id)
            .join(target_org, target_org.id == target.organization_id)
            .join(WasteCategory, WasteCategory.id == Lot.category_id)
            .where(scope.facility_filter(source), sa.extract("year", Award.awarded_at) == year)
            .group_by(source.id, source.name, source.lon, source.lat, target.id, target.name, target.lon,
                      target.lat, WasteCategory.code, name, mode, source_org.is_demo, target_org.is_demo))
    return [{"from_id": r[0], "from": r[1], "from_lon": r[2], "from_lat": r[3], "to_id": r[4], "to": r[5],
             "to_lon": r[6], "to_lat": r[7], "category": r[8], "category_name": r[9], "mode": r[10],
             "tonnes": _d(r[11]), "demo": bool(r[12])} for r in session.execute(stmt)]


def flows_geojson(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Flow rows as a GeoJSON FeatureCollection of producer → recycler lines."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature",
         "geometry": {"type": "LineString",
                      "coordinates": [[r["from_lon"], r["from_lat"]], [r["to_lon"], r["to_lat"]]]},
         "properties": {"from": r["from"], "to": r["to"], "category": r["category"],
                        "category_name": r["category_name"], "mode": r["mode"], "tonnes": float(r["tonnes"]),
                        "demo": r["demo"]}}
        for r in rows]}


def top_producers(session: so.Session, scope: Scope, year: int, limit: int = 10) -> list[dict[str, Any]]:
    """ONE query on the yearly facility rollup: facilities of the scope with the most tonnes generated in the
    year, with their counted rate (the same figures as top_producers_direct, read from one row per facility)."""
    r = FacilityYearRollup
    stmt = (sa.select(Facility.id, Facility.name, Organization.is_demo, r.generated_t, r.from_storage_t,
                      r.utilised_t)
            .join(Facility, Facility.id == r.facility_id)
            .join(Organization, Organization.id == Facility.organization_id)
            .where(r.year == year, scope.facility_filter())
            .order_by(sa.desc(r.generated_t), Facility.id).limit(limit))
    return _producer_rows(session.execute(stmt))


def top_producers_direct(session: so.Session, scope: Scope, year: int, limit: int = 10) -> list[dict[str, Any]]:
    """ONE query: top_producers computed from the counted cells of the raw rows (the peer and the check)."""
    cells = counted_cells(scope, dt.date(year, 1, 1), dt.date(year + 1, 1, 1))
    sums = sa.select(cells.c.facility_id, sa.func.sum(cells.c.generated_t).label("gen"),
                     sa.func.sum(cells.c.from_storage_t).label("storage"),
                     sa.func.sum(cells.c.utilised_t).label("used")).group_by(cells.c.facility_id).subquery()
    stmt = (sa.select(Facility.id, Facility.name, Organization.is_demo, sums.c.gen, sums.c.storage, sums.c.used)
            .join(sums, sums.c.facility_id == Facility.id)
            .join(Organization, Organization.id == Facility.organization_id)
            .order_by(sa.desc(sums.c.gen), Facility.id).limit(limit))
    return _producer_rows(session.execute(stmt))


def _producer_rows(rows) -> list[dict[str, Any]]:
    return [{"facility_id": fid, "name": name, "is_demo": bool(demo), "generated_t": _d(gen),
             "utilised_t": _d(used), "rate": rate(_d(used), _d(gen), _d(storage))}
            for fid, name, demo, gen, storage, used in rows]


def top_recyclers(session: so.Session, scope: Scope, year: int, limit: int = 10) -> list[dict[str, Any]]:
    """ONE query: recyclers that utilised the most tonnes coming from the scope's producers in the year."""
    source = so.aliased(Facility)
    recycler = so.aliased(Facility)
    u = UtilisationRecord
    stmt = (sa.select(recycler.id, recycler.name, sa.func.sum(u.tonnes).label("t"))
            .join(source, source.id == u.source_facility_id)
            .join(recycler, recycler.id == u.facility_id)
            .where(scope.facility_filter(source), u.period >= dt.date(year, 1, 1), u.period < dt.date(year + 1, 1, 1))
            .group_by(recycler.id, recycler.name).order_by(sa.desc("t")).limit(limit))
    return [{"facility_id": fid, "name": name, "utilised_t": _d(t)} for fid, name, t in session.execute(stmt)]


def as_json(value: Any) -> Any:
    """Decimals → JSON numbers, recursively (None stays None)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_json(v) for v in value]
    return value


def cli_summary(session: so.Session, scope: Scope, year: int) -> dict[str, Any]:
    """The `flask utilisation --json` document: rows by category and the total, numbers as numbers."""
    table = year_table(session, scope, year, "en")
    keys = ("generated_t", "from_storage_t", "utilised_t", "rate")
    return {
        "base": scope.code, "year": year,
        "rows": [{"category": r["category"], **{k: as_json(r[k]) for k in keys}} for r in table.rows],
        "total": {k: as_json(table.total[k]) for k in keys}
        | {"co2_avoided_t": float(table.total["co2_avoided_t"]),
           "env_tax_exemption_yuan": float(table.total["env_tax_exemption_yuan"])},
    }


def target_rows(session: so.Session, scope: Scope) -> list[BaseTarget]:
    """ONE query: the targets set for a base (or the province's own when the scope is the province)."""
    base_id = scope.base.id if scope.kind == "base" else None
    column = BaseTarget.base_id
    stmt = sa.select(BaseTarget).where(column == base_id if base_id is not None else column.is_(None))
    return list(session.scalars(stmt.order_by(BaseTarget.family, BaseTarget.year)))


def save_target(session: so.Session, user, scope: Scope, family: str, year: int, target_rate: Decimal,
                source: str | None) -> BaseTarget:
    """Create or update the target of a base (or the province) for a family and year, audited."""
    from app import policy
    from app.services import audit

    policy.require(policy.may_set_targets(user))
    base_id = scope.base.id if scope.kind == "base" else None
    stmt = sa.select(BaseTarget).where(BaseTarget.family == family, BaseTarget.year == year,
                                       BaseTarget.base_id == base_id if base_id is not None
                                       else BaseTarget.base_id.is_(None))
    target = session.scalar(stmt) or BaseTarget(base_id=base_id, family=family, year=year)
    target.target_rate = quantities.ratio(target_rate)
    target.source = (source or "").strip() or target.source
    session.add(target)
    session.flush()
    audit.record(session, user.id, "base_target", target.id, "saved",
                 {"base": scope.code, "family": family, "year": year, "target_rate": target.target_rate})
    session.commit()
    return target
