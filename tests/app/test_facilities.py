"""Facilities: create with a map picker or typed coordinates in any Chinese system, stored in WGS84."""

from __future__ import annotations

import sqlalchemy as sa

import geo
from models import Facility
from tests.conftest import csrf_token
from tests.factories import FacilityFactory, UserFactory


def _post(client, url, **overrides):
    data = {
        "csrf_token": csrf_token(client, url),
        "name": "大庆渣场",
        "kind": "recycler",
        "lon": "125.1",
        "lat": "46.59",
        "system": "wgs84",
        "max_haul_km": "200",
        "capacities-0-category": "fly_ash",
        "capacities-0-tonnes_per_month": "1200",
        "capacities-0-quality_limits": "moisture_pct<=12",
        "licences-0-number": "HW-1",
        "licences-0-categories": ["oil_sludge"],
        "licences-0-valid_until": "2030-01-01",
    }
    data.update(overrides)
    return client.post(url, data=data)


def test_gcj02_input_is_stored_as_wgs84_and_joined_to_prefecture_and_base(client, auth, reference):
    user = UserFactory(role="recycler")
    auth.login(user.email)
    gcj_lon, gcj_lat = geo.from_wgs84(125.10, 46.59, "gcj02")
    response = _post(
        client, "/facilities/new", lon=f"{float(gcj_lon):.8f}", lat=f"{float(gcj_lat):.8f}", system="gcj02"
    )
    assert response.status_code == 302
    facility = reference.session.scalar(sa.select(Facility))
    assert abs(facility.lon - 125.10) < 1e-5 and abs(facility.lat - 46.59) < 1e-5
    assert facility.input_crs == "gcj02"
    assert facility.prefecture_code == "230600"
    assert facility.base.code == "daqing"
    assert facility.capacities[0].quality_limits == {"moisture_pct": [None, 12.0]}
    assert facility.licences[0].category_codes == ["oil_sludge"]


def test_point_outside_the_region_re_renders_with_message_and_input(client, auth, reference):
    user = UserFactory(role="recycler")
    auth.login(user.email)
    response = _post(client, "/facilities/new", lon="116.4", lat="39.9", name="北京厂")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "outside Heilongjiang" in page or "黑龙江" in page
    assert "北京厂" in page and "116.4" in page
    assert reference.session.scalar(sa.select(sa.func.count(Facility.id))) == 0


def test_other_organisation_cannot_edit_a_facility(client, auth, reference):
    facility = FacilityFactory()
    auth.login(UserFactory().email)
    assert client.get(f"/facilities/{facility.id}/edit").status_code == 403


def test_owner_edits_facility(client, auth, reference):
    user = UserFactory()
    facility = FacilityFactory(organization=user.organization)
    auth.login(user.email)
    response = _post(client, f"/facilities/{facility.id}/edit", name="新名字", kind="producer")
    assert response.status_code == 302
    reference.session.expire_all()
    assert reference.session.get(Facility, facility.id).name == "新名字"


def test_anonymous_is_sent_to_login(client, reference):
    assert client.get("/facilities/new").status_code == 302


def test_prefecture_boundaries_are_served_as_geojson(client):
    response = client.get("/geo/prefectures.geojson")
    assert response.status_code == 200
    assert len(response.get_json()["features"]) == 13
