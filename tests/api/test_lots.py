"""API lots: search filters, read, post, edit, withdraw — and who may."""
from __future__ import annotations

from tests.api.conftest import lot_body


def test_search_filters_like_the_page(apis, market):
    plant = market["plant"]["id"]
    apis["producer"].post("/lots", lot_body(plant, category="coal_gangue", tonnes="50"))
    recycler = apis["recycler"]
    assert len(recycler.get("/lots").get_json()["items"]) == 2
    by_category = recycler.get("/lots", query_string={"category": "fly_ash"}).get_json()["items"]
    assert [lot["id"] for lot in by_category] == [market["lot"]["id"]]
    assert len(recycler.get("/lots", query_string={"max_tonnes": "100"}).get_json()["items"]) == 1
    assert len(recycler.get("/lots", query_string={"prefecture": "230600"}).get_json()["items"]) == 2
    assert recycler.get("/lots", query_string={"prefecture": "230100"}).get_json()["items"] == []
    base_id = market["plant"]["base_id"]
    assert len(recycler.get("/lots", query_string={"base_id": base_id}).get_json()["items"]) == 2
    assert recycler.get("/lots", query_string={"available_by": "2026-10-01"}).get_json()["items"] == []
    near = recycler.get("/lots", query_string={"near_facility_id": market["cement"]["id"], "max_km": 100,
                                               "sort": "distance"}).get_json()["items"]
    assert near and near[0]["road_km"] is not None


def test_search_rejects_bad_filters(apis, market):
    assert apis["recycler"].get("/lots", query_string={"min_tonnes": "lots"}).status_code == 422
    foreign = apis["recycler"].get("/lots", query_string={"near_facility_id": market["plant"]["id"]})
    assert foreign.status_code == 422


def test_a_lot_shows_its_bid_count_to_its_producer_only_and_never_the_prices(apis, market):
    apis["recycler"].post(f"/lots/{market['lot']['id']}/bids",
                          {"facility_id": market["cement"]["id"], "price_yuan_per_t": "83.21", "tonnes": "10"})
    for who, count in (("producer", 1), ("other_recycler", None), ("regulator", None), ("recycler", None)):
        response = apis[who].get(f"/lots/{market['lot']['id']}")
        assert response.get_json()["active_bids"] == count, who  # as on the lot page
        assert "83.21" not in response.get_data(as_text=True)
    listed = apis["other_recycler"].get("/lots").get_json()["items"]
    assert listed and all(item["active_bids"] is None for item in listed)


def test_unknown_lot_is_404(apis):
    assert apis["recycler"].get("/lots/999999").status_code == 404


def test_post_lot_needs_a_verified_producer_and_own_facility(apis, market):
    assert apis["unverified"].post("/lots", lot_body(market["plant"]["id"])).status_code == 403
    assert apis["recycler"].post("/lots", lot_body(market["plant"]["id"])).status_code == 403
    assert apis["officer"].post("/lots", lot_body(market["plant"]["id"])).status_code == 403
    foreign = apis["producer"].post("/lots", lot_body(market["cement"]["id"]))
    assert foreign.status_code == 422 and foreign.get_json()["errors"][0]["field"] == "facility"


def test_post_lot_refuses_bad_input(apis, market):
    body = apis["producer"].post("/lots", lot_body(market["plant"]["id"], tonnes="0",
                                                   available_to="2026-01-01")).get_json()
    assert body["status"] == 422
    assert {"tonnes", "available_to"} <= {e["field"] for e in body["errors"]}
    extra = apis["producer"].post("/lots", lot_body(market["plant"]["id"], colour="grey"))
    assert extra.status_code == 422


def test_producer_edits_only_its_own_lots(apis, market, make_api):
    from tests.api.conftest import make_user

    body = lot_body(market["plant"]["id"], tonnes="800", title="Edited")
    edited = apis["producer"].put(f"/lots/{market['lot']['id']}", body)
    assert edited.status_code == 200 and edited.get_json()["tonnes"] == "800.000"
    other = make_api(make_user("producer"))
    assert other.put(f"/lots/{market['lot']['id']}", body).status_code == 403
    assert other.post(f"/lots/{market['lot']['id']}/withdraw").status_code == 403


def test_withdrawn_lots_are_hidden_from_others(apis, market):
    lot_id = market["lot"]["id"]
    assert apis["producer"].post(f"/lots/{lot_id}/withdraw").get_json()["status"] == "withdrawn"
    assert apis["producer"].get(f"/lots/{lot_id}").status_code == 200
    assert apis["recycler"].get(f"/lots/{lot_id}").status_code == 404
    again = apis["producer"].post(f"/lots/{lot_id}/withdraw")
    assert again.status_code == 422


def test_quality_values_are_checked_by_the_catalogue_type(apis, market):
    body = {"facility_id": market["plant"]["id"], "category": "fly_ash", "tonnes": "10", "reserve_yuan_per_t": "1",
            "available_from": "2026-11-01"}
    refused = apis["producer"].post("/lots", {**body, "quality": {"moisture_pct": 150}})
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "quality.moisture_pct"
    made = apis["producer"].post("/lots", {**body, "quality": {"moisture_pct": "12.5"}})
    assert made.status_code == 201 and made.get_json()["quality"] == {"moisture_pct": 12.5}
