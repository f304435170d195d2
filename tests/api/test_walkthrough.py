"""The issue's acceptance: with only the API and tokens, post a lot, bid, clear, accept, ship and read the rate."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from tests.api.conftest import DAQING_CEMENT, DAQING_PLANT, lot_body


def test_a_script_trades_a_lot_end_to_end_and_reads_the_base_rate(apis):
    producer, recycler, officer, regulator = apis["producer"], apis["recycler"], apis["officer"], apis["regulator"]

    plant = producer.post("/facilities", DAQING_PLANT)
    assert plant.status_code == 201, plant.get_json()
    plant = plant.get_json()
    assert plant["base_id"] is not None and plant["prefecture_code"] == "230600"
    cement = recycler.post("/facilities", DAQING_CEMENT).get_json()

    lot = producer.post("/lots", lot_body(plant["id"]), headers={"Idempotency-Key": "lot-1"})
    assert lot.status_code == 201, lot.get_json()
    lot = lot.get_json()
    assert lot["tonnes"] == "1000.000" and lot["status"] == "open"

    found = recycler.get("/lots", query_string={"category": "fly_ash", "min_tonnes": "500"}).get_json()
    assert [item["id"] for item in found["items"]] == [lot["id"]]

    bid = recycler.post(f"/lots/{lot['id']}/bids",
                        {"facility_id": cement["id"], "price_yuan_per_t": "80.00", "tonnes": "600"})
    assert bid.status_code == 201, bid.get_json()

    run = regulator.post("/match-runs", {"category": "fly_ash"})
    assert run.status_code == 202, run.get_json()
    run = officer.get(f"/match-runs/{run.get_json()['id']}").get_json()
    assert run["status"] == "succeeded" and run["done"] and run["allocations"] == 1

    allocations = recycler.get("/allocations").get_json()["items"]
    assert len(allocations) == 1 and allocations[0]["tonnes"] == "600.000"
    allocation_id = allocations[0]["id"]
    assert producer.post(f"/allocations/{allocation_id}/accept").status_code == 200
    accepted = recycler.post(f"/allocations/{allocation_id}/accept").get_json()
    assert accepted["status"] == "accepted" and accepted["award_id"]
    award_id = accepted["award_id"]

    shipment = producer.post(f"/awards/{award_id}/shipments", {"tonnes": "600", "vehicle_plate": "黑E·12345"})
    assert shipment.status_code == 201, shipment.get_json()
    shipment = shipment.get_json()
    assert shipment["manifest_no"].startswith("GF-")
    received = recycler.post(f"/shipments/{shipment['id']}/receive", {"received_tonnes": "598.5"}).get_json()
    assert received["status"] == "received" and received["discrepancy_flagged"] is False
    assert recycler.get(f"/awards/{award_id}").get_json()["status"] == "delivered"

    declared = recycler.post("/utilisation-declarations", {"award_id": award_id, "product": "cement",
                                                           "tonnes": "598.5", "period": "2026-11-15"})
    assert declared.status_code == 201, declared.get_json()
    # The producer reports the month the load left it (Beijing time): its 外供 and the platform delivery are the
    # same tonnes there, counted once, whichever month the recycler declared them in.
    supplied_in = dt.datetime.fromisoformat(shipment["dispatched_at"]).astimezone(
        dt.timezone(dt.timedelta(hours=8))).date().replace(day=1)
    assert declared.get_json()["supply_period"] == supplied_in.isoformat()
    report = producer.post("/generation-reports", {
        "facility_id": plant["id"], "category": "fly_ash", "period": supplied_in.isoformat(), "generated_t": "1000",
        "stored_t": "401.5", "self_utilised_t": "0", "supplied_t": "598.5", "disposed_t": "0"})
    assert report.status_code == 201, report.get_json()

    stats = officer.get("/bases/daqing/statistics", query_string={"year": supplied_in.year})
    assert stats.status_code == 200, stats.get_json()
    total = stats.get_json()["total"]
    assert total["utilised_t"] == "598.500"
    assert Decimal(total["rate"]) == Decimal("0.5985")
