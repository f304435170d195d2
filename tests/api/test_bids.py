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
