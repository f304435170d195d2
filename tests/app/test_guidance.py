"""Price guidance: the clearing's own problem and rules, a band that never reveals one sealed price, cheap pages."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import numpy as np
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import matching
from app.services import clearing, guidance
from app.services.clearing.problem import CategoryProblem, DemandRows
from models import Allocation, FacilityCapacity
from tests.factories import (
    BidFactory,
    DemandProfileFactory,
    FacilityFactory,
    LotFactory,
    OrganizationFactory,
    UserFactory,
    category,
)

EN = {"Accept-Language": "en"}


def _buyer(lon, lat, price, org=None, haul=300, tonnes="500"):
    """A recycler organisation with a facility and a category-wide fly-ash bid."""
    org = org or OrganizationFactory()
    facility = FacilityFactory(organization=org, kind="recycler", lon=lon, lat=lat, max_haul_km=haul)
    BidFactory(lot=None, category=category("fly_ash"), facility=facility, price_yuan_per_t=Decimal(price),
               tonnes=Decimal(tonnes))
    return org


@pytest.fixture
def market(db, reference):
    """A Harbin lot and four buyer organisations near it; one viewer organisation bids too."""
    guidance.CACHE.clear()
    guidance.DEMANDS.clear()
    lot = LotFactory(reserve_yuan_per_t=Decimal("10.00"))
    buyers = [_buyer(126.70 + k / 100, 45.80, str(80 + 7 * k)) for k in range(4)]
    viewer = UserFactory(email="buyer0@example.com", role="recycler", organization=buyers[0])
    outsider = UserFactory(email="outsider@example.com", role="recycler")
    return {"lot": lot, "buyers": buyers, "viewer": viewer, "outsider": outsider}


def test_a_band_is_shown_only_with_enough_other_organisations(db, market):
    advice = guidance.for_lot(db.session, market["lot"], market["outsider"])
    assert advice.shown and advice.buyers == 4 and advice.high_yuan_per_t - advice.low_yuan_per_t == 5
    mine = guidance.for_lot(db.session, market["lot"], market["viewer"])
    assert mine.buyers == 3  # the viewer's own organisation never counts
    db.session.execute(sa.update(type(market["lot"]).bids.property.mapper.class_).where(
        sa.text("facility_id IN (SELECT id FROM facilities WHERE organization_id = :o)")).values(
        status="withdrawn"), {"o": market["buyers"][1].id})
    db.session.commit()
    fewer = guidance.for_lot(db.session, market["lot"], market["viewer"])
    assert not fewer.shown and fewer.reason == "too_few_buyers" and fewer.buyers == 2


def test_anonymous_visitors_get_no_guidance(db, market):
    advice = guidance.for_lot(db.session, market["lot"], None)
    assert not advice.shown and advice.reason == "sign_in"


def test_the_band_does_not_move_with_the_lots_own_reserve(db, market):
    seen = set()
    for reserve in ("-300", "0", "10", "79.99", "500"):
        market["lot"].reserve_yuan_per_t = Decimal(reserve)
        db.session.commit()
        advice = guidance.for_lot(db.session, market["lot"], market["outsider"])
        seen.add((advice.low_yuan_per_t, advice.high_yuan_per_t, advice.prefectures, advice.buyers))
    assert len(seen) == 1


def test_the_band_is_an_average_never_one_competitors_netback(db, market):
    offers = guidance.lot_offers(db.session, market["lot"])
    advice = guidance.band(offers, None, 3)
    netbacks = [Decimal(o.netback_fen) / 100 for o in offers]
    mean = sum(netbacks[:3]) / 3
    assert advice.low_yuan_per_t <= mean <= advice.high_yuan_per_t


def test_guidance_counts_only_buyers_the_clearing_rules_admit(db, market):
    far = _buyer(130.5, 47.5, "400", haul=100)  # pays a lot, but beyond its own haul limit
    off_spec = _buyer(126.72, 45.81, "300")
    plant = db.session.scalar(sa.select(type(market["lot"].facility)).where(
        type(market["lot"].facility).organization_id == off_spec.id))
    db.session.add(FacilityCapacity(facility_id=plant.id, category_id=category("fly_ash").id,
                                    tonnes_per_month=Decimal("100"), quality_limits={"loi_pct": [None, 5.0]}))
    db.session.commit()
    orgs = {o.organization_id for o in guidance.lot_offers(db.session, market["lot"])}
    assert far.id not in orgs and off_spec.id not in orgs and len(orgs) == 4


def test_guidance_uses_the_clearings_full_route_freight(db, market):
    part = clearing.build_category_problem(db.session, category("fly_ash"), dt.date.today())
    offers = guidance.lot_offers(db.session, market["lot"])
    t = part.problem.cost_table
    for offer in offers:
        j = part.problem.demand_position[offer.demand_id]
        row = np.flatnonzero((t.demand_index == j) & (t.lot_index == part.problem.lot_position[market["lot"].id]))[0]
        assert offer.netback_fen == part.problem.demand_price_fen[j] - t.fen_per_t[row]


def test_a_fully_allocated_lot_page_and_api_answer_200_with_its_state(db, client, auth, reference):
    lot = LotFactory(tonnes=Decimal("500"))
    BidFactory(lot=lot, facility=FacilityFactory(kind="recycler", lon=126.7, lat=45.8), tonnes=Decimal("500"))
    run = clearing.start_clearing(db.session, None, "fly_ash")
    assert run.status == "succeeded"
    db.session.expire_all()
    assert lot.remaining_tonnes == 0
    page = client.get(f"/lots/{lot.id}", headers=EN)
    assert page.status_code == 200 and "Nothing is left of this lot" in page.get_data(as_text=True)
    UserFactory(email="viewer@example.com", role="recycler")
    auth.login("viewer@example.com")
    assert client.get(f"/lots/{lot.id}", headers=EN).status_code == 200
    run_page_links = db.session.scalars(sa.select(Allocation.lot_id)).all()
    assert all(client.get(f"/lots/{i}").status_code == 200 for i in run_page_links)


def test_a_lot_page_with_guidance_costs_at_most_twenty_queries(db, client, auth, market):
    auth.login("outsider@example.com")
    url = f"/lots/{market['lot'].id}"
    assert 'id="price-guidance"' in client.get(url, headers=EN).get_data(as_text=True)
    statements = []

    def count(*_args):
        statements.append(1)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url, headers=EN).status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) <= 20, len(statements)


def test_a_new_bid_changes_the_market_version_and_the_guidance(db, market):
    before = guidance.market_version(db.session, market["lot"].category_id)
    _buyer(126.75, 45.85, "150")
    assert guidance.market_version(db.session, market["lot"].category_id) != before
    assert guidance.for_lot(db.session, market["lot"], market["outsider"]).buyers == 5


def test_standing_demand_counts_like_a_bid(db, market):
    DemandProfileFactory(facility=FacilityFactory(kind="recycler", lon=126.75, lat=45.85),
                         price_yuan_per_t=Decimal("95"), period_start=dt.date(2020, 1, 1),
                         period_end=dt.date(2099, 1, 1))
    assert guidance.for_lot(db.session, market["lot"], market["outsider"]).buyers == 5


# ----------------------------------------------------------------------------- property: guidance ⊆ clearing


@st.composite
def _markets(draw):
    """A one-lot problem with several demands from a few organisations, random terms and freight."""
    n = draw(st.integers(1, 7))
    quality = draw(st.sampled_from([{}, {"loi_pct": 3.0}, {"loi_pct": 9.0}]))
    hazardous = draw(st.booleans())
    lot = matching.Lot(1, "fly_ash", Decimal("100"), Decimal(draw(st.integers(-100, 200))), quality=quality,
                       hazardous=hazardous, available_from=dt.date(2026, 1, 1))
    demands, orgs = [], []
    for j in range(n):
        limits = draw(st.sampled_from([{}, {"loi_pct": (None, 5.0)}]))
        window = draw(st.sampled_from([(None, None), (dt.date(2020, 1, 1), dt.date(2021, 1, 1))]))
        demands.append(matching.Demand(
            f"d{j}", "fly_ash", Decimal(draw(st.integers(1, 500))), Decimal(draw(st.integers(-50, 300))),
            window_from=window[0], window_to=window[1], quality_limits=limits,
            max_haul_km=draw(st.sampled_from([None, 50.0, 200.0])),
            licences=draw(st.sampled_from([frozenset(), frozenset({"fly_ash"})]))))
        orgs.append(draw(st.integers(1, 4)))
    fen = [draw(st.integers(0, 20000)) for _ in range(n)]
    km = [draw(st.floats(1, 400)) for _ in range(n)]
    problem = matching.Problem.from_arrays([lot], demands, np.zeros(n, dtype=np.int64), np.arange(n),
                                           np.array(fen) / 100, km)
    rows = DemandRows(np.arange(1, n + 1), np.arange(1, n + 1), np.zeros(n, dtype=np.int64), np.array(orgs),
                      [f"23{k:04d}" for k in range(n)])
    return CategoryProblem(None, problem, rows), draw(st.sampled_from([None, 1, 2])), draw(st.integers(1, 3))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_markets())
def test_any_buyer_guidance_points_to_is_one_the_clearing_would_match(case):
    part, viewer_org, min_buyers = case
    advice = guidance.band(guidance.offers_from_problem(part, 1), viewer_org, min_buyers)
    p = part.problem
    for demand_id in advice.demand_ids:
        j = p.demand_position[demand_id]
        row = int(np.flatnonzero(p.cost_table.demand_index == j)[0])
        # The same lot priced at the bottom of the band, alone with that buyer, tonnes allowing.
        lot = p.lots[0]
        priced = matching.Lot(lot.id, lot.category, lot.tonnes, advice.low_yuan_per_t,
                              lot.available_from, lot.available_to, dict(lot.quality), hazardous=lot.hazardous)
        single = matching.Problem.from_arrays([priced], [p.demands[j]], [0], [0],
                                              [p.cost_table.fen_per_t[row] / 100], [p.cost_table.km[row]])
        result = matching.solve(single, "mincostflow")
        assert sum(a.tonnes for a in result.allocations) > 0, (demand_id, advice)
        assert part.demands.organization_id[j] != viewer_org


def test_guidance_from_the_lot_a_page_has_read_equals_the_lot_read_from_the_database(db, market):
    """The lot page passes its lot (and a cached DemandSet) to the one translation: the same problem results."""
    from app.services.clearing import problem as problems

    lot, today = market["lot"], dt.date.today()
    DemandProfileFactory(facility=FacilityFactory(kind="recycler", lon=126.9, lat=45.9),
                         category=category("fly_ash"), price_yuan_per_t=Decimal("77.00"))
    demands = problems.load_demands(db.session, lot.category, today)
    read = problems.build_category_problem(db.session, lot.category, today, lot_ids=[lot.id])
    given_lot = problems.build_category_problem(db.session, lot.category, today, lot_ids=[lot.id], lots=[lot],
                                                demands=demands)
    for name in ("lot_index", "demand_index", "fen_per_t", "km"):
        np.testing.assert_array_equal(getattr(read.problem.cost_table, name),
                                      getattr(given_lot.problem.cost_table, name))
    assert [d.id for d in read.problem.demands] == [d.id for d in given_lot.problem.demands]
    assert read.problem.lots == given_lot.problem.lots
    np.testing.assert_array_equal(read.demands.organization_id, given_lot.demands.organization_id)
    assert len(read.problem.cost_table) >= 5
    # A lot that is not buyable (loads of an award still moving) takes no part either way.
    lot.status = "shipping"
    db.session.commit()
    assert not problems.build_category_problem(db.session, lot.category, today, lot_ids=[lot.id]).problem.lots
    assert not problems.build_category_problem(db.session, lot.category, today, lot_ids=[lot.id], lots=[lot],
                                               demands=demands).problem.lots


def test_a_lot_page_shows_a_new_competitor_at_once(db, client, auth, market):
    """The demand list a lot page reuses is keyed by the market version: a new bid shows on the next view."""
    auth.login("outsider@example.com")
    url = f"/lots/{market['lot'].id}"

    def band():
        page = client.get(url, headers=EN).get_data(as_text=True)
        return re.search(r'id="price-guidance">([^<]*)<', page).group(1)

    before = band()
    _buyer(126.75, 45.85, "400")
    assert band() != before
    assert guidance.for_lot(db.session, market["lot"], market["outsider"]).buyers == 5
