"""API bids: sealed bids placed, listed and withdrawn by their own organisation only."""
from __future__ import annotations


def _bid(apis, market, who="recycler", **changes):
    body = {"facility_id": market["cement"]["id"], "price_yuan_per_t": "80.00", "tonnes": "600", **changes}
    return apis[who].post(f"/lots/{market['lot']['id']}/bids", body)


def test_a_recycler_places_and_lists_its_bid(apis, market):
    placed = _bid(apis, market)
    assert placed.status_code == 201 and placed.get_json()["price_yuan_per_t"] == "80.00"
    listed = apis["recycler"].get("/bids").get_json()["items"]
    assert [b["id"] for b in listed] == [placed.get_json()["id"]]
    assert apis["other_recycler"].get("/bids").get_json()["items"] == []


def test_bids_of_others_are_invisible(apis, market):
    bid_id = _bid(apis, market).get_json()["id"]
    assert apis["recycler"].get(f"/bids/{bid_id}").status_code == 200
    assert apis["other_recycler"].get(f"/bids/{bid_id}").status_code == 404
    assert apis["other_recycler"].post(f"/bids/{bid_id}/withdraw").status_code == 404
    assert apis["producer"].get(f"/bids/{bid_id}").status_code == 403
    status = apis["producer"].get(f"/lots/{market['lot']['id']}/bid-status").get_json()
    assert status == {"lot_id": market["lot"]["id"], "active_bids": 1, "own_bids": []}
    assert apis["other_recycler"].get(f"/lots/{market['lot']['id']}/bid-status").status_code == 403
    own = apis["recycler"].get(f"/lots/{market['lot']['id']}/bid-status").get_json()
    assert own["active_bids"] is None and own["own_bids"][0]["id"] == bid_id


def test_producers_and_unverified_cannot_bid(apis, market):
    assert _bid(apis, market, who="producer").status_code == 403
    assert _bid(apis, market, who="unverified").status_code == 403


def test_bad_bids_are_refused(apis, market):
    assert _bid(apis, market, tonnes="-1").status_code == 422
    assert _bid(apis, market, price_yuan_per_t=80).status_code == 422
    not_mine = _bid(apis, market, who="other_recycler")
    assert not_mine.status_code == 422 and not_mine.get_json()["errors"][0]["field"] == "facility_id"
    assert apis["recycler"].post("/lots/424242/bids", {"facility_id": 1, "price_yuan_per_t": "1",
                                                        "tonnes": "1"}).status_code == 404


def test_a_bid_is_withdrawn_once(apis, market):
    bid_id = _bid(apis, market).get_json()["id"]
    assert apis["recycler"].post(f"/bids/{bid_id}/withdraw").get_json()["status"] == "withdrawn"
    assert apis["recycler"].post(f"/bids/{bid_id}/withdraw").status_code == 422


# ----------------------------------------------------------------------------- category-wide bids


def _category_bid(apis, market, who="recycler", **changes):
    body = {"facility_id": market["cement"]["id"], "category": "fly_ash", "price_yuan_per_t": "88.80",
            "tonnes": "700", **changes}
    return apis[who].post("/bids", body)


def test_a_recycler_places_a_category_wide_bid(apis, market):
    placed = _category_bid(apis, market)
    assert placed.status_code == 201, placed.get_json()
    bid = placed.get_json()
    assert (bid["lot_id"], bid["category"], bid["price_yuan_per_t"], bid["tonnes"], bid["max_haul_km"],
            bid["status"]) == (None, "fly_ash", "88.80", "700.000", 300, "active")
    assert [b["id"] for b in apis["recycler"].get("/bids").get_json()["items"]] == [bid["id"]]
    assert _category_bid(apis, market, max_haul_km=45).get_json()["max_haul_km"] == 45


def test_category_wide_bids_are_sealed(apis, market):
    bid_id = _category_bid(apis, market).get_json()["id"]
    assert apis["recycler"].get(f"/bids/{bid_id}").get_json()["price_yuan_per_t"] == "88.80"
    assert apis["other_recycler"].get(f"/bids/{bid_id}").status_code == 404
    assert apis["other_recycler"].get("/bids").get_json()["items"] == []
    assert apis["other_recycler"].post(f"/bids/{bid_id}/withdraw").status_code == 404
    assert apis["producer"].get(f"/bids/{bid_id}").status_code == 403
    status = apis["producer"].get(f"/lots/{market['lot']['id']}/bid-status").get_json()
    assert status == {"lot_id": market["lot"]["id"], "active_bids": 0, "own_bids": []}
    lot = apis["producer"].get(f"/lots/{market['lot']['id']}")
    assert "88.8" not in lot.get_data(as_text=True)


def test_bad_category_wide_bids_are_refused(apis, market):
    unknown = _category_bid(apis, market, category="no_such_waste")
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "category"
    assert _category_bid(apis, market, tonnes="0").status_code == 422
    assert _category_bid(apis, market, lot_id=market["lot"]["id"]).status_code == 422
    assert _category_bid(apis, market, max_haul_km=0).status_code == 422
    not_mine = _category_bid(apis, market, who="other_recycler")
    assert not_mine.status_code == 422 and not_mine.get_json()["errors"][0]["field"] == "facility_id"
    assert _category_bid(apis, market, who="producer").status_code == 403
    assert _category_bid(apis, market, who="unverified").status_code == 403


def test_a_category_wide_bid_needs_a_haul_limit(apis, market):
    plant = apis["recycler"].post("/facilities", {"name": "No haul", "kind": "recycler", "lon": 125.0,
                                                  "lat": 46.6}).get_json()
    refused = _category_bid(apis, market, facility_id=plant["id"])
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "max_haul_km"
    assert _category_bid(apis, market, facility_id=plant["id"], max_haul_km=100).status_code == 201


def test_a_category_wide_bid_clears_against_the_lot_and_can_no_longer_be_withdrawn(apis, market):
    bid_id = _category_bid(apis, market, tonnes="600").get_json()["id"]
    assert apis["regulator"].post("/match-runs", {"category": "fly_ash"}).status_code in (201, 202)
    allocations = apis["recycler"].get("/allocations").get_json()["items"]
    assert [(a["lot_id"], a["tonnes"]) for a in allocations] == [(market["lot"]["id"], "600.000")]
    assert apis["recycler"].get(f"/bids/{bid_id}").get_json()["status"] == "allocated"
    assert apis["recycler"].post(f"/bids/{bid_id}/withdraw").status_code == 422


def test_a_category_wide_bid_is_withdrawn_before_the_clearing(apis, market):
    bid_id = _category_bid(apis, market).get_json()["id"]
    assert apis["recycler"].post(f"/bids/{bid_id}/withdraw").get_json()["status"] == "withdrawn"
    apis["regulator"].post("/match-runs", {"category": "fly_ash"})
    assert apis["recycler"].get("/allocations").get_json()["items"] == []
