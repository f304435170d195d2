"""Saved searches: a matching lot, when posted, lands in the owner's inbox and outbox; others do not."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from app.services import lots, saved_searches
from app.services.errors import ServiceError
from models import Notification, OrganizationRole, OutboxEmail, SavedSearch
from tests.conftest import csrf_token
from tests.factories import FacilityFactory, OrganizationFactory, UserFactory

EN = {"Accept-Language": "en"}


def _buyer(email="buyer@example.com"):
    org = OrganizationFactory(roles=[OrganizationRole(role="recycler")])
    user = UserFactory(email=email, role="recycler", organization=org)
    plant = FacilityFactory(organization=org, kind="recycler", name="Harbin cement", lon=126.63, lat=45.75)
    return user, plant


def _post(db, **kw):
    producer = kw.pop("producer", None) or UserFactory()
    plant = kw.pop("facility", None) or FacilityFactory(organization=producer.organization, lon=126.70, lat=45.80)
    import datetime as dt

    data = lots.LotInput(facility_id=plant.id, category=kw.pop("category", "fly_ash"),
                         tonnes=Decimal(kw.pop("tonnes", "800")), reserve_yuan_per_t=Decimal(kw.pop("reserve", "10")),
                         available_from=dt.date.today(), title=kw.pop("title", None))
    return lots.post(db.session, producer, data)


def _alerts(db, user):
    return db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id,
                                                            Notification.kind == "saved_search_match")).all()


def test_a_matching_lot_notifies_the_inbox_and_queues_an_email(db, reference):
    user, plant = _buyer()
    saved_searches.create(db.session, user, saved_searches.SearchInput(
        name="Ash near Harbin", category="fly_ash", min_tonnes=Decimal(500), max_price_yuan_per_t=Decimal(20),
        facility_id=plant.id, max_km=100))
    lot = _post(db)
    alerts = _alerts(db, user)
    assert len(alerts) == 1 and alerts[0].link == f"/lots/{lot.id}" and alerts[0].params["search"] == "Ash near Harbin"
    assert db.session.scalar(sa.select(sa.func.count(OutboxEmail.id)).where(OutboxEmail.to_address == user.email)) == 1


def test_lots_outside_any_term_do_not_notify(db, reference):
    user, plant = _buyer()
    saved_searches.create(db.session, user, saved_searches.SearchInput(
        name="s", category="fly_ash", min_tonnes=Decimal(500), max_tonnes=Decimal(2000),
        max_price_yuan_per_t=Decimal(20), facility_id=plant.id, max_km=100, keyword="dry"))
    _post(db, category="steel_slag", title="dry slag")              # other category
    _post(db, tonnes="100", title="dry ash")                         # too small
    _post(db, tonnes="5000", title="dry ash")                        # too large
    _post(db, reserve="25", title="dry ash")                         # too dear
    _post(db, title="wet ash")                                       # keyword missing
    far = FacilityFactory(lon=127.50, lat=50.25, prefecture_code="231100")
    _post(db, facility=far, producer=UserFactory(organization=far.organization), title="dry ash")  # too far
    assert _alerts(db, user) == []
    _post(db, title="Dry ash, 800 t")
    assert len(_alerts(db, user)) == 1


def test_ones_own_lots_and_stopped_searches_stay_silent(db, reference):
    user, plant = _buyer()
    search = saved_searches.create(db.session, user, saved_searches.SearchInput(name="all"))
    own = FacilityFactory(organization=user.organization, kind="both")
    _post(db, producer=user, facility=own)
    assert _alerts(db, user) == []
    saved_searches.delete(db.session, user, search.id)
    _post(db)
    assert _alerts(db, user) == []


def test_a_saved_search_only_measures_from_ones_own_facility(db, reference):
    user, _plant = _buyer()
    other = FacilityFactory()
    for bad in (saved_searches.SearchInput(name="x", facility_id=other.id, max_km=10),
                saved_searches.SearchInput(name="x", max_km=10),
                saved_searches.SearchInput(name="x", min_tonnes=Decimal(10), max_tonnes=Decimal(5)),
                saved_searches.SearchInput(name=" ")):
        try:
            saved_searches.create(db.session, user, bad)
        except ServiceError:
            db.session.rollback()
        else:
            raise AssertionError(f"accepted {bad}")
    assert db.session.scalar(sa.select(sa.func.count(SavedSearch.id))) == 0


def test_someone_elses_search_cannot_be_deleted(auth, client, db, reference):
    user, _plant = _buyer()
    search = saved_searches.create(db.session, user, saved_searches.SearchInput(name="mine"))
    intruder, _p = _buyer("intruder@example.com")
    auth.login(intruder.email)
    response = client.post(f"/searches/{search.id}/delete", data={"csrf_token": csrf_token(client, "/searches")})
    assert response.status_code == 403
    assert db.session.get(SavedSearch, search.id).active is True


def test_the_lots_page_filters_prefill_the_saved_search_form(auth, client, db, reference):
    user, plant = _buyer()
    auth.login(user.email)
    lots_page = client.get("/lots?category=fly_ash&min_tonnes=500&q=dry&lang=en", headers=EN).get_data(as_text=True)
    link = lots_page.split('id="save-search" href="')[1].split('"')[0].replace("&amp;", "&")
    form = client.get(link, headers=EN).get_data(as_text=True)
    assert 'value="500"' in form and 'value="dry"' in form and 'selected value="fly_ash"' in form
    response = client.post("/searches", headers=EN, data={
        "csrf_token": csrf_token(client, "/searches"), "name": "Dry ash", "category": "fly_ash", "keyword": "dry",
        "min_tonnes": "500", "near": str(plant.id), "max_km": "100"})
    assert response.status_code == 302
    page = client.get("/searches", headers=EN).get_data(as_text=True)
    assert "Dry ash" in page and "within 100 road km of Harbin cement" in page


def test_a_bad_saved_search_re_renders_with_the_input(auth, client, db, reference):
    user, _plant = _buyer()
    auth.login(user.email)
    response = client.post("/searches", headers=EN, data={
        "csrf_token": csrf_token(client, "/searches"), "name": "Far", "max_km": "100"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'value="Far"' in page and "Choose the facility the distance is measured from." in page


def test_too_many_keywords_re_render_the_form_beside_the_keywords(auth, client, db, reference):
    user, _plant = _buyer()
    auth.login(user.email)
    words = " ".join(f"w{i}" for i in range(11))
    response = client.post("/searches", headers=EN, data={
        "csrf_token": csrf_token(client, "/searches"), "name": "Wordy", "keyword": words})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Use at most 10 keywords." in page and f'value="{words}"' in page
    assert saved_searches.of_user(db.session, user) == []
