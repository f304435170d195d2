"""API demand profiles: recyclers' standing bids."""
from __future__ import annotations


def _profile(apis, market, who="recycler", **changes):
    body = {"facility_id": market["cement"]["id"], "category": "fly_ash", "period_start": "2026-11-01",
            "period_end": "2027-10-31", "tonnes": "5000", "price_yuan_per_t": "70", **changes}
    return apis[who].post("/demand-profiles", body)


def test_create_list_and_deactivate(apis, market):
    created = _profile(apis, market, quality_limits={"moisture_pct": [None, 12]})
    assert created.status_code == 201, created.get_json()
    profile = created.get_json()
    assert apis["recycler"].get("/demand-profiles").get_json()["items"][0]["id"] == profile["id"]
    stopped = apis["recycler"].post(f"/demand-profiles/{profile['id']}/deactivate").get_json()
    assert stopped["active"] is False
    assert apis["recycler"].post(f"/demand-profiles/{profile['id']}/deactivate").status_code == 422


def test_only_verified_recyclers_with_their_facility(apis, market):
    assert _profile(apis, market, who="producer").status_code == 403
    assert _profile(apis, market, who="other_recycler").status_code == 422
    profile_id = _profile(apis, market).get_json()["id"]
    assert apis["other_recycler"].post(f"/demand-profiles/{profile_id}/deactivate").status_code == 404


def test_bad_periods_are_refused(apis, market):
    response = _profile(apis, market, period_end="2026-01-01")
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "period_end"
