"""Price guidance for a lot: from the clearing's own problem and rules, computed once per market change, private.

The privacy rule (also in the README): guidance is a band, never a figure from which one competitor's
sealed price can be read back. It is shown only to signed-in users, and only when at least
``PRICE_GUIDANCE_MIN_BUYERS`` organisations other than the viewer's own (and other than the lot's
producer) have current demand that passes every clearing rule with this lot. The band is the average
delivered netback (price less the clearing's road/rail freight) of the best of those organisations —
each counted once, by its best demand — rounded out to 5 yuan. The lot's reserve price takes no part,
so a producer editing its reserve cannot probe where a competitor's price lies.
"""
from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import numpy as np
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from app.services import lots
from app.services.clearing import problem as problems
from matching.rules import compatibility_mask
from models import Allocation, Bid, DemandProfile, Facility, Lot, utcnow

ROUND_TO = Decimal("5")
_CACHE_SIZE = 20_000


@dataclass(frozen=True)
class Offer:
    """The best delivered netback one organisation's current demand offers a lot."""

    organization_id: int
    netback_fen: int
    prefecture: str | None
    demand_id: str


@dataclass(frozen=True)
class Guidance:
    """What a viewer may learn about the value of a lot; ``reason`` says why no band is shown."""

    state: str  # "open", or (lots.state) "matched" / "sold" / "withdrawn" / "expired"
    reason: str | None = None  # "nothing_left", "sign_in", "too_few_buyers"
    buyers: int | None = None  # competing organisations counted (not the viewer's)
    low_yuan_per_t: Decimal | None = None
    high_yuan_per_t: Decimal | None = None
    prefectures: tuple[str | None, ...] = ()
    demand_ids: tuple[str, ...] = ()  # the demands the band points to (for tests; never rendered)

    @property
    def shown(self) -> bool:
        """Whether a band is shown."""
        return self.low_yuan_per_t is not None


def lot_state(lot: Lot) -> str:
    """The lot's state for people (the lots service's rule); guidance is given while it is open."""
    state = lots.state(lot)
    return "open" if state in ("open", "partly_matched") else state


def market_version(session: so.Session, category_id: int) -> tuple:
    """A key that changes whenever the category's lots, bids, profiles, allocations or any facility change."""
    def stamp(model, *where):
        return [sa.select(sa.func.count()).select_from(model).where(*where).scalar_subquery(),
                sa.select(sa.func.max(model.updated_at)).where(*where).scalar_subquery()]

    pending = Allocation.status.in_(problems.PENDING_ALLOCATION_STATUSES)
    row = session.execute(sa.select(
        *stamp(Lot, Lot.category_id == category_id), *stamp(Bid, Bid.category_id == category_id),
        *stamp(DemandProfile, DemandProfile.category_id == category_id), *stamp(Facility),
        sa.select(sa.func.count()).select_from(Allocation).where(pending).scalar_subquery(),
        sa.select(sa.func.max(Allocation.id)).scalar_subquery())).one()
    return tuple(str(v) for v in row)


def offers_from_problem(part: problems.CategoryProblem, lot_id: int) -> list[Offer]:
    """Each organisation's best netback to a lot among the demands that pass every clearing rule with it.

    The rules are the clearing's own (`matching.rules.compatibility_mask` over the same cost table);
    surplus is left out on purpose: it depends on the lot's reserve, which guidance must not.
    """
    p = part.problem
    if lot_id not in p.lot_position or not len(p.cost_table):
        return []
    t = p.cost_table
    rows = np.flatnonzero((t.lot_index == p.lot_position[lot_id]) & compatibility_mask(p))
    if not len(rows):
        return []
    demand = t.demand_index[rows]
    netback = p.demand_price_fen[demand] - t.fen_per_t[rows]
    org = part.demands.organization_id[demand]
    best: dict[int, tuple[int, int]] = {}
    for o, n, j in zip(org.tolist(), netback.tolist(), demand.tolist(), strict=True):
        if o not in best or n > best[o][0] or (n == best[o][0] and j < best[o][1]):
            best[o] = (n, j)
    return sorted((Offer(o, n, part.demands.prefecture[j], p.demands[j].id) for o, (n, j) in best.items()),
                  key=lambda x: (-x.netback_fen, x.organization_id))


class _Cache:
    """Offers per (lot, market version), least recently used dropped first; shared by the process's threads."""

    def __init__(self, size: int) -> None:
        self.size, self.data, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self.lock:
            if key in self.data:
                self.data.move_to_end(key)
                return self.data[key]
        return None

    def put(self, key, value) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.data.clear()


CACHE = _Cache(_CACHE_SIZE)
DEMANDS = _Cache(64)  # per (category, day, market version): a few categories' demand lists at a time


_VERSIONS: dict[int, tuple[float, tuple]] = {}  # category id → (when read, market version)


def recent_market_version(session: so.Session, category_id: int) -> tuple:
    """The market version, re-read at most every PRICE_GUIDANCE_VERSION_TTL_SECONDS (a lot page skips the query)."""
    ttl = float(current_app.config.get("PRICE_GUIDANCE_VERSION_TTL_SECONDS", 5))
    now = time.monotonic()
    seen = _VERSIONS.get(category_id)
    if seen is not None and now - seen[0] < ttl:
        return seen[1]
    version = market_version(session, category_id)
    _VERSIONS[category_id] = (now, version)
    return version


def lot_offers(session: so.Session, lot: Lot, today: dt.date | None = None) -> list[Offer]:
    """The lot's offers, computed once per change of its category's market."""
    key = (lot.id, recent_market_version(session, lot.category_id))
    cached = CACHE.get(key)
    if cached is not None:
        return cached
    today = today or utcnow().date()
    part = problems.build_category_problem(session, lot.category, today, lot_ids=[lot.id], lots=[lot],
                                           demands=_category_demands(session, lot.category, today, key[1]))
    offers = offers_from_problem(part, lot.id)
    CACHE.put(key, offers)
    return offers


def _category_demands(session: so.Session, category, today: dt.date, version: tuple) -> list:
    """The category's demands, read once per market version and day: every lot page of the category shares them
    (the per-lot work left is the lot's own pairs and freight)."""
    key = ("demands", category.id, today, version)
    demands = DEMANDS.get(key)
    if demands is None:
        demands = problems.load_demands(session, category, today)
        DEMANDS.put(key, demands)
    return demands


def band(offers: list[Offer], viewer_org: int | None, min_buyers: int) -> Guidance:
    """The privacy rule applied to a lot's offers for one viewer (see the module docstring)."""
    competing = [o for o in offers if o.organization_id != viewer_org]
    if len(competing) < min_buyers:
        return Guidance("open", "too_few_buyers", len(competing))
    top = competing[:min_buyers]
    mean = Decimal(sum(o.netback_fen for o in top)) / 100 / len(top)
    low = (mean / ROUND_TO).to_integral_value(ROUND_FLOOR) * ROUND_TO
    high = (mean / ROUND_TO).to_integral_value(ROUND_CEILING) * ROUND_TO
    if high == low:
        high = low + ROUND_TO
    # Point only to buyers a lot priced at the band's lower edge would clear with (a positive surplus).
    pointed = [o for o in top if Decimal(o.netback_fen) / 100 > low]
    return Guidance("open", None, len(competing), low, high,
                    tuple(sorted({o.prefecture for o in pointed}, key=lambda p: p or "")),
                    tuple(o.demand_id for o in pointed))


def for_lot(session: so.Session, lot: Lot, viewer=None, today: dt.date | None = None) -> Guidance:
    """Guidance on a lot for a viewer (a User, or None for an anonymous visitor)."""
    state = lot_state(lot)
    if state != "open":
        return Guidance(state, "nothing_left")
    if viewer is None:
        return Guidance(state, "sign_in")
    min_buyers = int(current_app.config.get("PRICE_GUIDANCE_MIN_BUYERS", 3))
    return band(lot_offers(session, lot, today), viewer.organization_id, min_buyers)
