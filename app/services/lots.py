"""Lots: browse (with road-distance filters and a map), post, edit, withdraw, and price guidance."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import gettext as _

import geo
from app import policy
from app.labels import QUALITY, label
from app.services import audit, hazardous, keywords, notifications, quantities, saved_searches
from app.services.errors import PermissionDenied, ServiceError
from models import Bid, Facility, Lot, Organization, WasteCategory
from models.lots import SETTLEMENT_BASES

SORTS = {
    "newest": (Lot.created_at.desc(), Lot.id.desc()),
    "tonnes_desc": (Lot.remaining_tonnes.desc(), Lot.id.desc()),
    "tonnes_asc": (Lot.remaining_tonnes.asc(), Lot.id.asc()),
    "reserve_asc": (Lot.reserve_yuan_per_t.asc(), Lot.id.asc()),
    "available": (Lot.available_from.asc(), Lot.id.asc()),
    "distance": (Lot.id.asc(),),  # ordered by road km after the distance filter
    "relevance": (Lot.created_at.desc(), Lot.id.desc()),  # keywords.order_by when there are keywords
}
# Statuses whose remaining tonnes the clearing can still allocate (see services/clearing.py).
BUYABLE_STATUSES = ("open", "matched", "awarded")
# What a reader sees: the stored status, the tonnes left and the availability window in one word.
LOT_STATES = ("draft", "open", "partly_matched", "matched", "sold", "withdrawn", "expired")


def state(lot: Lot, today: dt.date | None = None) -> str:
    """The lot's state for people: open, partly matched, matched, sold, withdrawn or expired."""
    today = today or dt.date.today()
    if lot.status in ("draft", "withdrawn", "expired"):
        return lot.status
    if lot.remaining_tonnes <= 0:
        return "matched" if lot.status == "matched" else "sold"
    if lot.available_to is not None and lot.available_to < today:
        return "expired"
    if lot.status not in BUYABLE_STATUSES:
        # Loads of an earlier award are moving; the rest waits until they are delivered.
        return "partly_matched"
    return "partly_matched" if lot.remaining_tonnes < lot.tonnes else "open"


def buyable_clause(today: dt.date | None = None) -> sa.ColumnElement[bool]:
    """SQL condition: the lot still has tonnes a buyer can bid on and the clearing can allocate."""
    today = today or dt.date.today()
    return sa.and_(
        Lot.status.in_(BUYABLE_STATUSES),
        Lot.remaining_tonnes > 0,
        sa.or_(Lot.available_to.is_(None), Lot.available_to >= today),
    )


def is_buyable(lot: Lot, today: dt.date | None = None) -> bool:
    """Whether a buyer can still bid on the lot (the same rule as buyable_clause)."""
    today = today or dt.date.today()
    return (lot.status in BUYABLE_STATUSES and lot.remaining_tonnes > 0
            and (lot.available_to is None or lot.available_to >= today))


@dataclass(frozen=True)
class LotFilters:
    """What a buyer narrows the list by; None means no filter."""

    category: str | None = None
    prefecture: str | None = None
    base_id: int | None = None
    min_tonnes: Decimal | None = None
    max_tonnes: Decimal | None = None
    available_by: dt.date | None = None
    available_until: dt.date | None = None
    # Road distance from a point (one of the viewer's facilities), in WGS84, and the limit in km.
    near: tuple[float, float] | None = None
    max_km: float | None = None
    keyword: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    sort: str = "newest"


@dataclass(frozen=True)
class Page:
    """One page of results."""

    items: list[Lot]
    page: int
    per_page: int
    total: int
    road_km: dict[int, float] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        """How many pages the results fill (at least one)."""
        return max(1, -(-self.total // self.per_page))


def _filtered(filters: LotFilters, words: tuple[str, ...] = ()) -> sa.Select:
    query = sa.select(Lot).where(buyable_clause())
    if filters.category:
        category_id = sa.select(WasteCategory.id).where(WasteCategory.code == filters.category).scalar_subquery()
        query = query.where(Lot.category_id == category_id)
    # Join facilities only when a filter needs them: counting 100,000 lots is cheaper without the join.
    if filters.prefecture or filters.base_id or filters.near is not None:
        query = query.join(Lot.facility)
    if filters.prefecture:
        query = query.where(Facility.prefecture_code == filters.prefecture)
    if filters.base_id:
        query = query.where(Facility.base_id == filters.base_id)
    if filters.min_tonnes is not None:
        query = query.where(Lot.remaining_tonnes >= filters.min_tonnes)
    if filters.max_tonnes is not None:
        query = query.where(Lot.remaining_tonnes <= filters.max_tonnes)
    if filters.available_by is not None:
        query = query.where(Lot.available_from <= filters.available_by)
    if filters.available_until is not None:
        query = query.where(sa.or_(Lot.available_to.is_(None), Lot.available_to >= filters.available_until))
    if filters.min_price is not None:
        query = query.where(Lot.reserve_yuan_per_t >= filters.min_price)
    if filters.max_price is not None:
        query = query.where(Lot.reserve_yuan_per_t <= filters.max_price)
    if words:
        query = query.where(keywords.clause(words))
    return query


def _order(session: so.Session, filters: LotFilters, words: tuple[str, ...]) -> tuple:
    """ORDER BY of the list: most relevant first when keywords ask for it, else the chosen sort."""
    if filters.sort == "relevance" and words:
        return keywords.order_by(session, words)
    return SORTS.get(filters.sort, SORTS["newest"])


def _road_km(filters: LotFilters, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Road km from the filter's origin to every point, in one vectorised call."""
    if lons.size == 0:
        return np.zeros(0)
    return geo.road_km_matrix([filters.near[0]], [filters.near[1]], lons, lats)[0]


def _within_distance(session: so.Session, filters: LotFilters, words: tuple[str, ...]
                     ) -> tuple[list[int], dict[int, float]]:
    """Ids of the filtered lots within the road distance (sorted by km when asked) and their km."""
    rows = session.execute(
        _filtered(filters, words)
        .with_only_columns(Lot.id, Facility.lon, Facility.lat)
        .order_by(*_order(session, filters, words))
    ).all()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    km = _road_km(filters, np.array([r[1] for r in rows], dtype=float), np.array([r[2] for r in rows], dtype=float))
    keep = km <= filters.max_km if filters.max_km is not None else np.ones(ids.size, dtype=bool)
    ids, km = ids[keep], km[keep]
    if filters.sort == "distance":
        order = np.argsort(km, kind="stable")
        ids, km = ids[order], km[order]
    return [int(i) for i in ids], {int(i): float(k) for i, k in zip(ids, km, strict=True)}


def _last_page(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


_COUNTS: OrderedDict[tuple, tuple[float, int]] = OrderedDict()  # (database, filters, day) → (when, count)
_COUNTS_LOCK = threading.Lock()
_COUNTS_SIZE = 4096


def _count(session: so.Session, filters: LotFilters, query: sa.Select) -> int:
    """How many lots match: counting 100,000 lots is most of a search page's cost, so a count is reused for
    LOT_COUNT_TTL_SECONDS per process and set of filters (only the total and page links may lag)."""
    ttl = float(current_app.config.get("LOT_COUNT_TTL_SECONDS", 0))
    key = (str(session.get_bind().url), dataclasses.replace(filters, sort="newest"), dt.date.today())
    now = time.monotonic()
    if ttl > 0:
        with _COUNTS_LOCK:
            seen = _COUNTS.get(key)
        if seen is not None and now - seen[0] < ttl:
            return seen[1]
    # count(*), not count(lots.id): PostgreSQL can then count from ix_lots_buyable_facility alone.
    total = session.scalar(query.with_only_columns(sa.func.count())) or 0
    if ttl > 0:
        with _COUNTS_LOCK:
            _COUNTS[key] = (now, total)
            _COUNTS.move_to_end(key)
            while len(_COUNTS) > _COUNTS_SIZE:
                _COUNTS.popitem(last=False)
    return total


# What the lots list shows of each lot, its facility and its category: the rest of the rows (description, search
# text, quality, the category's schemas) is left unread (loaded on first use, should anything need it).
LIST_LOAD = (
    so.load_only(Lot.id, Lot.title, Lot.status, Lot.tonnes, Lot.remaining_tonnes, Lot.reserve_yuan_per_t,
                 Lot.available_from, Lot.available_to, Lot.facility_id, Lot.category_id),
    so.joinedload(Lot.facility).load_only(Facility.id, Facility.name, Facility.prefecture_code,
                                          Facility.organization_id)
    .joinedload(Facility.organization).load_only(Organization.id, Organization.is_demo),
    so.joinedload(Lot.category).load_only(WasteCategory.id, WasteCategory.code, WasteCategory.name_zh,
                                          WasteCategory.name_en),
)


def search(session: so.Session, filters: LotFilters, page: int, per_page: int, options: tuple = ()) -> Page:
    """One page of buyable lots matching the filters, in the chosen order; a page past the end shows the last.

    ``options``: loader options of the page's rows (LIST_LOAD for the web list; the API reads whole rows).
    ServiceError (field "q") when the keywords are too long or too many."""
    page = max(1, page)
    words = keywords.parse(filters.keyword)
    if filters.near is not None:
        ids, km = _within_distance(session, filters, words)
        page = min(page, _last_page(len(ids), per_page))
        chosen = ids[(page - 1) * per_page : page * per_page]
        by_id = ({lot.id: lot for lot in session.scalars(sa.select(Lot).options(*options).where(Lot.id.in_(chosen)))}
                 if chosen else {})
        return Page(
            items=[by_id[i] for i in chosen],
            page=page,
            per_page=per_page,
            total=len(ids),
            road_km={i: km[i] for i in chosen},
        )
    query = _filtered(filters, words)
    total = _count(session, filters, query)
    page = min(page, _last_page(total, per_page))
    # Order and cut the page on lots alone, then load the page's rows with their facility and category: the
    # eager joins run for one page, not for every match a relevance sort has to rank. One statement: the page's
    # ids as a subquery, its rows in the same order (the order ends with the id, so it is total).
    order = _order(session, filters, words)
    ids = query.with_only_columns(Lot.id).order_by(*order).limit(per_page).offset((page - 1) * per_page)
    items = list(session.scalars(sa.select(Lot).options(*options).where(Lot.id.in_(ids)).order_by(*order)))
    return Page(items=items, page=page, per_page=per_page, total=total)


MAP_LIMIT = 2000


def map_points(session: so.Session, filters: LotFilters, locale: str) -> dict:
    """The filtered lots as map points (at most MAP_LIMIT): id, title, place, category, tonnes, reserve."""
    words = keywords.parse(filters.keyword)
    if filters.near is not None:
        ids, km = _within_distance(session, filters, words)
        ids = ids[:MAP_LIMIT]
        rows = session.scalars(sa.select(Lot).where(Lot.id.in_(ids))).all() if ids else []
    else:
        km = {}
        rows = session.scalars(
            _filtered(filters, words).order_by(*_order(session, filters, words)).limit(MAP_LIMIT)
        ).all()
    points = [
        {
            "id": lot.id,
            "title": lot.title,
            "lon": lot.facility.lon,
            "lat": lot.facility.lat,
            "category": lot.category.display_name(locale),
            "tonnes": str(lot.remaining_tonnes),
            "reserve_yuan_per_t": str(lot.reserve_yuan_per_t),
            "available_from": lot.available_from.isoformat(),
            "road_km": round(km[lot.id], 1) if lot.id in km else None,
        }
        for lot in rows
    ]
    return {"count": len(points), "limit": MAP_LIMIT, "lots": points}


def display_title(lot: Lot, locale: str) -> str:
    """The lot's title in the reader's language: generated titles are rebuilt, a producer's own title kept."""
    if locale.startswith("zh"):
        return lot.title
    prefix, suffix = f"{lot.category.name_zh} ", f" 吨 · {lot.facility.name}"
    title = lot.title
    if title.startswith(prefix) and title.endswith(suffix) and len(title) > len(prefix) + len(suffix):
        amount = title[len(prefix):-len(suffix)]
        return f"{lot.category.name_en} {amount} t · {lot.facility.name}"
    return title


@dataclass(frozen=True)
class OwnLot:
    """One of the producer's lots with its state and the number of sealed bids on it."""

    lot: Lot
    state: str
    bids: int


def own_lots(session: so.Session, user, wanted_state: str | None, page: int, per_page: int
             ) -> tuple[list[OwnLot], Page]:
    """The lots of the user's organisation, newest first, optionally of one state; with bid counts."""
    today = dt.date.today()
    rows = session.scalars(
        sa.select(Lot).join(Lot.facility).where(Facility.organization_id == user.organization_id,
                                                 Lot.status != "draft")
        .order_by(Lot.created_at.desc(), Lot.id.desc())
    ).all()
    states = [(lot, state(lot, today)) for lot in rows]
    if wanted_state in LOT_STATES:
        states = [(lot, s) for lot, s in states if s == wanted_state]
    page = min(max(1, page), _last_page(len(states), per_page))
    chosen = states[(page - 1) * per_page : page * per_page]
    counts = dict(session.execute(
        sa.select(Bid.lot_id, sa.func.count(Bid.id))
        .where(Bid.lot_id.in_([lot.id for lot, _s in chosen]), Bid.status == "active").group_by(Bid.lot_id)
    ).all()) if chosen else {}
    items = [OwnLot(lot, s, counts.get(lot.id, 0)) for lot, s in chosen]
    return items, Page(items=[i.lot for i in items], page=page, per_page=per_page, total=len(states))


def active_bid_count(session: so.Session, lot_id: int) -> int:
    """How many sealed bids a lot has: the count is public, the amounts are not."""
    return session.scalar(sa.select(sa.func.count(Bid.id)).where(Bid.lot_id == lot_id, Bid.status == "active")) or 0


# -- posting, editing and withdrawing ---------------------------------------------------------

EDITABLE = ("open",)
MAX_TITLE = 200
MAX_DESCRIPTION = 4000
MAX_QUALITY_TEXT = 60
QUALITY_NUMBER_LIMIT = 1e9


@dataclass(frozen=True)
class LotInput:
    """What the lot form (or one import row) says; Decimal money and tonnes."""

    facility_id: int | None
    category: str
    tonnes: Decimal | None
    reserve_yuan_per_t: Decimal | None
    available_from: dt.date | None
    available_to: dt.date | None = None
    min_shipment_t: Decimal | None = None
    title: str | None = None
    description: str | None = None
    quality: dict = field(default_factory=dict)
    settle_on: str = "received"
    # Hazardous lots only (app.services.hazardous): transfer approval reference and e-manifest facts.
    transfer_approval_ref: str | None = None
    waste_form: str | None = None
    hazard_characteristics: str | None = None
    packaging_type: str | None = None


def producer_facilities(session: so.Session, user) -> list[Facility]:
    """Facilities of the user's organisation that may hold lots (producer or both)."""
    return list(
        session.scalars(
            sa.select(Facility)
            .where(Facility.organization_id == user.organization_id, Facility.kind.in_(("producer", "both")))
            .order_by(Facility.name)
        )
    )


def check_input(
    session: so.Session,
    user,
    data: LotInput,
    categories: dict[str, WasteCategory] | None = None,
    facilities: dict[int, Facility] | None = None,
) -> tuple[list[tuple[str, str]], Facility | None, WasteCategory | None]:
    """Every problem with `data` as (field, message), and the facility and category it names."""
    if categories is None:
        categories = {c.code: c for c in session.scalars(sa.select(WasteCategory))}
    if facilities is None:
        facilities = {f.id: f for f in producer_facilities(session, user)}
    problems: list[tuple[str, str]] = []
    facility = facilities.get(data.facility_id) if data.facility_id is not None else None
    if facility is None:
        problems.append(("facility", _("Unknown facility: choose one of your organisation's producer facilities.")))
    category = categories.get(data.category)
    if category is None:
        problems.append(("category", _("Unknown category %(code)s.", code=data.category or "—")))
    problems += _quantity_problems(data)
    problems += [(name, _("Text may not contain NUL characters; please remove them and try again."))
                 for name in ("title", "description")  # an imported file has no form or schema checking this
                 if "\x00" in (getattr(data, name) or "")]
    if data.settle_on not in SETTLEMENT_BASES:
        problems.append(("settle_on", _("Settle on the weighed-in or the awarded tonnes.")))
    if category is not None:
        problems += _quality_problems(data, category)
    problems += hazardous.lot_facts_problems(category, data.transfer_approval_ref, data.waste_form,
                                             data.hazard_characteristics, data.packaging_type)
    return problems, facility, category


def _set_hazardous_facts(lot: Lot, data: LotInput, category: WasteCategory) -> None:
    """Store the checked hazardous-transfer facts (none for other categories)."""
    keep = category.hazardous
    lot.transfer_approval_ref = ((data.transfer_approval_ref or "").strip() or None) if keep else None
    lot.waste_form = (data.waste_form or None) if keep else None
    letters = hazardous.split_characteristics(data.hazard_characteristics) if keep else []
    lot.hazard_characteristics = ",".join(letters) or None
    lot.packaging_type = ((data.packaging_type or "").strip() or None) if keep else None


def _quantity_problems(data: LotInput) -> list[tuple[str, str]]:
    """Problems with tonnes, reserve, availability window and minimum shipment."""
    problems = []
    if data.tonnes is None or (problem := quantities.tonnes_problem(data.tonnes)):
        problems.append(("tonnes", problem if data.tonnes is not None else _("Tonnes must be a positive number.")))
    if data.reserve_yuan_per_t is None:
        problems.append(
            ("reserve_yuan_per_t", _("Give a reserve price in yuan per tonne (negative if you pay for removal)."))
        )
    elif problem := quantities.price_problem(data.reserve_yuan_per_t):
        problems.append(("reserve_yuan_per_t", problem))
    if len(data.description or "") > MAX_DESCRIPTION:
        problems.append(("description", _("At most %(n)d characters.", n=MAX_DESCRIPTION)))
    if len(data.title or "") > MAX_TITLE:
        problems.append(("title", _("At most %(n)d characters.", n=MAX_TITLE)))
    if data.available_from is None:
        problems.append(("available_from", _("Give the date the lot is available from.")))
    elif data.available_to is not None and data.available_to < data.available_from:
        problems.append(("available_to", _("The availability window ends before it starts.")))
    if data.min_shipment_t is not None:
        if quantities.tonnes_problem(data.min_shipment_t):
            problems.append(("min_shipment_t", _("The minimum shipment must be positive.")))
        elif data.tonnes is not None and data.tonnes > 0 and data.min_shipment_t > data.tonnes:
            problems.append(("min_shipment_t", _("The minimum shipment exceeds the lot.")))
    return problems


def _quality_problems(data: LotInput, category: WasteCategory) -> list[tuple[str, str]]:
    """Quality keys the category does not define, and values that are not of the catalogue's type."""
    return quality_values(data.quality, category)[1]


def quality_values(raw: dict, category: WasteCategory) -> tuple[dict, list[tuple[str, str]]]:
    """The lot's quality as stored, typed by the catalogue (pct 0–100, number, count, text), and the problems
    as ("quality.<key>", message). Empty values are dropped; forms and the API pass what they read."""
    specs = {q["key"]: q for q in category.quality_fields}
    values, problems = {}, []
    for key, value in (raw or {}).items():
        spec = specs.get(key)
        if spec is None:
            problems.append(("quality", _("%(key)s is not a quality attribute of %(category)s.", key=key,
                                          category=category.code)))
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        try:
            values[key] = _typed(spec["type"], value)
        except ValueError as exc:
            problems.append((f"quality.{key}", f"{label(QUALITY, key)}: {exc}"))
    return values, problems


def _typed(kind: str, value):
    """A quality value of the catalogue type `kind`; ValueError with the reason otherwise."""
    if kind == "text":
        text = str(value).strip()
        if len(text) > MAX_QUALITY_TEXT:
            raise ValueError(_("At most %(n)d characters.", n=MAX_QUALITY_TEXT))
        return text
    try:
        number = float(str(value).strip().replace(",", "")) if not isinstance(value, (int, float)) else float(value)
    except ValueError:
        raise ValueError(_("Give a number.")) from None
    if number != number or abs(number) > QUALITY_NUMBER_LIMIT:
        raise ValueError(_("Give a number."))
    if kind == "pct" and not 0 <= number <= 100:
        raise ValueError(_("A percentage lies between 0 and 100."))
    if kind == "count":
        if number < 0 or number != int(number):
            raise ValueError(_("Give a whole number, 0 or more."))
        return int(number)
    return number


def _title(data: LotInput, facility: Facility, category: WasteCategory) -> str:
    if data.title and data.title.strip():
        return data.title.strip()[:200]
    tonnes = f"{data.tonnes:,.3f}".rstrip("0").rstrip(".")
    return f"{category.name_zh} {tonnes} 吨 · {facility.name}"[:200]


def build_lot(data: LotInput, facility: Facility, category: WasteCategory, user) -> Lot:
    """A new open lot from checked input (not yet added to a session); the form, API and import all build here."""
    lot = Lot(
        facility=facility,
        category=category,
        title=_title(data, facility, category),
        tonnes=quantities.tonnes(data.tonnes),
        remaining_tonnes=quantities.tonnes(data.tonnes),
        reserve_yuan_per_t=quantities.yuan(data.reserve_yuan_per_t),
        available_from=data.available_from,
        available_to=data.available_to,
        min_shipment_t=quantities.tonnes(data.min_shipment_t) if data.min_shipment_t is not None else None,
        description=(data.description or "").strip() or None,
        quality=quality_values(data.quality, category)[0],
        settle_on=data.settle_on,
        status="open",
        created_by_id=user.id,
    )
    _set_hazardous_facts(lot, data, category)
    return lot


def audit_payload(lot: Lot) -> dict:
    """The facts of a lot an audit event records."""
    return {
        "title": lot.title,
        "category": lot.category.code,
        "facility": lot.facility_id,
        "tonnes": str(lot.tonnes),
        "reserve": str(lot.reserve_yuan_per_t),
        "from": lot.available_from,
        "to": lot.available_to,
        "status": lot.status,
        "settle_on": lot.settle_on,
        "transfer_approval_ref": lot.transfer_approval_ref,
    }


def _raise_first(problems: list[tuple[str, str]]) -> None:
    if problems:
        field_name, message = problems[0]
        error = ServiceError(message, field=field_name)
        error.problems = problems
        raise error


def post(session: so.Session, user, data: LotInput) -> Lot:
    """Post an open lot at one of the user's producer facilities; commit and audit."""
    problems, facility, category = check_input(session, user, data)
    _raise_first(problems)
    lot = build_lot(data, facility, category, user)
    session.add(lot)
    session.flush()
    audit.record(session, user.id, "lot", lot.id, "posted", audit_payload(lot))
    saved_searches.notify_matches(session, [lot])
    session.commit()
    notifications.deliver_pending(session)
    return lot


def update(session: so.Session, user, lot: Lot, data: LotInput) -> Lot:
    """Change an open lot of the user's organisation; commit and audit."""
    if not policy.may_manage_lot(user, lot):
        raise PermissionDenied(_("Only the producer that posted this lot can change it."))
    # The row lock waits for a clearing writing this lot and re-reads it, so no edit works on a stale copy.
    session.execute(sa.select(Lot.id).where(Lot.id == lot.id).with_for_update())
    lot = session.get(Lot, lot.id, populate_existing=True)
    if lot.status not in EDITABLE:
        raise ServiceError(_("Only open lots can be edited."))
    facilities = {f.id: f for f in producer_facilities(session, user)}
    facilities.setdefault(lot.facility_id, lot.facility)
    problems, facility, category = check_input(session, user, data, facilities=facilities)
    allocated_now = _allocated_tonnes(lot.id)
    allocated = Decimal(str(session.scalar(sa.select(allocated_now)) or 0))
    if data.tonnes is not None and data.tonnes < allocated:
        problems.append(("tonnes", _("%(t)s t are already allocated; the lot cannot be smaller.", t=allocated)))
    _raise_first(problems)
    with session.no_autoflush:
        lot.facility, lot.category = facility, category
        lot.title = _title(data, facility, category) if data.title else lot.title
        # Remaining is computed by the UPDATE itself from the allocations, never from a value read earlier.
        new_tonnes = quantities.tonnes(data.tonnes)  # to the kilogram: no 0.0005 t left after a clearing
        lot.tonnes, lot.remaining_tonnes = new_tonnes, new_tonnes - allocated_now
        lot.reserve_yuan_per_t = quantities.yuan(data.reserve_yuan_per_t)
        lot.available_from, lot.available_to = data.available_from, data.available_to
        lot.min_shipment_t = quantities.tonnes(data.min_shipment_t) if data.min_shipment_t is not None else None
        lot.description = (data.description or "").strip() or None
        lot.quality = quality_values(data.quality, category)[0]
        lot.settle_on = data.settle_on
        _set_hazardous_facts(lot, data, category)
    audit.record(session, user.id, "lot", lot.id, "updated", audit_payload(lot))
    session.commit()
    return lot


def _allocated_tonnes(lot_id: int) -> sa.ScalarSelect:
    """Tonnes of the lot held by pending or accepted allocations, as a subquery evaluated in the statement."""
    from app.services.clearing.problem import PENDING_ALLOCATION_STATUSES
    from models import Allocation

    return (sa.select(sa.func.coalesce(sa.func.sum(Allocation.tonnes), 0))
            .where(Allocation.lot_id == lot_id, Allocation.status.in_(PENDING_ALLOCATION_STATUSES)).scalar_subquery())


def withdraw(session: so.Session, user, lot: Lot) -> Lot:
    """Withdraw an open lot of the user's organisation; commit and audit."""
    if not policy.may_manage_lot(user, lot):
        raise PermissionDenied(_("Only the producer that posted this lot can withdraw it."))
    if lot.status not in EDITABLE:
        raise ServiceError(_("Only open lots can be withdrawn."))
    lot.status = "withdrawn"
    audit.record(session, user.id, "lot", lot.id, "withdrawn", {"remaining": str(lot.remaining_tonnes)})
    session.commit()
    return lot


# -- the lot page: distances from the viewer's facilities and price guidance ---------------------


def distances_from(lot: Lot, facilities: list) -> list[tuple[Facility, float]]:
    """Road km from each of the viewer's facilities (anything with id, lon, lat) to the lot's facility (one
    matrix call)."""
    others = [f for f in facilities if f.id != lot.facility_id]
    if not others:
        return []
    km = geo.road_km_matrix([f.lon for f in others], [f.lat for f in others], [lot.facility.lon], [lot.facility.lat])
    return [(f, float(k)) for f, k in zip(others, km[:, 0], strict=True)]
