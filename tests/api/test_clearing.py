"""API match runs, allocations, awards, shipments and utilisation declarations."""
from __future__ import annotations

import sqlalchemy as sa


def test_only_the_province_starts_clearings_of_the_province(apis, market):
    assert apis["producer"].post("/match-runs", {}).status_code == 403
    # A base officer acts within their base: a clearing of the whole province is not theirs to start.
    assert apis["officer"].post("/match-runs", {}).status_code == 403
    assert apis["unverified"].post("/match-runs", {}).status_code == 403
    unknown = apis["regulator"].post("/match-runs", {"category": "unobtainium"})
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "category"


def test_runs_are_read_by_officers_and_regulators(apis, cleared):
    run_id = cleared["run"]["id"]
    assert apis["regulator"].get(f"/match-runs/{run_id}").get_json()["status"] == "succeeded"
    assert apis["producer"].get(f"/match-runs/{run_id}").status_code == 403
    assert apis["officer"].get("/match-runs/999999").status_code == 404
    assert apis["officer"].get("/match-runs").get_json()["items"][0]["id"] == run_id
    allocations = apis["officer"].get(f"/match-runs/{run_id}/allocations").get_json()["items"]
    assert allocations[0]["tonnes"] == "600.000"


def test_allocations_belong_to_their_parties(apis, cleared):
    allocation_id = cleared["allocation"]["id"]
    assert apis["producer"].get(f"/allocations/{allocation_id}").get_json()["your_sides"] == ["producer"]
    assert apis["other_recycler"].get(f"/allocations/{allocation_id}").status_code == 403
    assert apis["other_recycler"].post(f"/allocations/{allocation_id}/accept").status_code == 403
    assert apis["other_recycler"].get("/allocations").get_json()["items"] == []
    assert apis["officer"].post(f"/allocations/{allocation_id}/accept").status_code == 403


def test_declining_returns_the_tonnes(apis, cleared):
    allocation_id = cleared["allocation"]["id"]
    declined = apis["recycler"].post(f"/allocations/{allocation_id}/decline").get_json()
    assert declined["status"] == "declined"
    assert apis["producer"].get(f"/lots/{cleared['lot']['id']}").get_json()["remaining_tonnes"] == "1000.000"
    assert apis["producer"].post(f"/allocations/{allocation_id}/accept").status_code == 422


def test_awards_show_the_settlement_to_parties_only(apis, awarded):
    award = apis["producer"].get(f"/awards/{awarded['award_id']}").get_json()
    assert award["tonnes"] == "600.000" and award["status"] == "open"
    assert apis["regulator"].get(f"/awards/{awarded['award_id']}").status_code == 200
    assert apis["other_recycler"].get(f"/awards/{awarded['award_id']}").status_code == 403
    assert [a["id"] for a in apis["recycler"].get("/awards").get_json()["items"]] == [awarded["award_id"]]


def test_only_the_producer_dispatches_and_only_the_recycler_receives(apis, awarded):
    award_id = awarded["award_id"]
    load = {"tonnes": "100", "vehicle_plate": "黑E12345"}
    assert apis["recycler"].post(f"/awards/{award_id}/shipments", load).status_code == 403
    assert apis["other_recycler"].post(f"/awards/{award_id}/shipments", load).status_code == 403
    bad_plate = apis["producer"].post(f"/awards/{award_id}/shipments", {**load, "vehicle_plate": "ABC"})
    assert bad_plate.status_code == 422 and bad_plate.get_json()["errors"][0]["field"] == "vehicle_plate"
    too_much = apis["producer"].post(f"/awards/{award_id}/shipments", {**load, "tonnes": "601"})
    assert too_much.status_code == 422
    shipment = apis["producer"].post(f"/awards/{award_id}/shipments", load).get_json()
    assert apis["producer"].post(f"/shipments/{shipment['id']}/receive", {"received_tonnes": "100"}).status_code == 403
    flagged = apis["recycler"].post(f"/shipments/{shipment['id']}/receive", {"received_tonnes": "90"}).get_json()
    assert flagged["discrepancy_flagged"] is True
    assert apis["recycler"].post(f"/shipments/{shipment['id']}/receive", {"received_tonnes": "90"}).status_code == 422
    loads = apis["producer"].get(f"/awards/{award_id}/shipments").get_json()["items"]
    assert [s["id"] for s in loads] == [shipment["id"]]
    assert apis["other_recycler"].get(f"/shipments/{shipment['id']}").status_code == 403


def test_utilisation_is_declared_by_the_recycler_within_what_was_received(apis, awarded):
    award_id = awarded["award_id"]
    shipment = apis["producer"].post(f"/awards/{award_id}/shipments", {"tonnes": "600", "vehicle_plate": "黑E12345"})
    apis["recycler"].post(f"/shipments/{shipment.get_json()['id']}/receive", {"received_tonnes": "600"})
    body = {"award_id": award_id, "product": "cement", "tonnes": "700"}
    assert apis["producer"].post("/utilisation-declarations", body).status_code == 403
    assert apis["recycler"].post("/utilisation-declarations", body).status_code == 422
    assert apis["recycler"].post("/utilisation-declarations", {**body, "product": "gold"}).status_code == 422
    declared = apis["recycler"].post("/utilisation-declarations", {**body, "tonnes": "600"})
    assert declared.status_code == 201 and declared.get_json()["category"] == "fly_ash"
    assert apis["recycler"].get(f"/awards/{award_id}").get_json()["status"] == "utilised"


def test_a_fully_allocated_lot_answers_200_with_its_state(apis, market):
    lot_id = market["lot"]["id"]
    apis["recycler"].post(f"/lots/{lot_id}/bids", {"facility_id": market["cement"]["id"], "price_yuan_per_t": "80.00",
                                                   "tonnes": "1000"})
    assert apis["regulator"].post("/match-runs", {"category": "fly_ash"}).get_json()["status"] == "succeeded"
    for who in ("recycler", "producer", "other_recycler"):
        body = apis[who].get(f"/lots/{lot_id}/price-guidance")
        assert body.status_code == 200
        assert body.get_json()["state"] == "matched" and body.get_json()["low_yuan_per_t"] is None


def test_a_second_clearing_of_a_busy_category_is_a_409_problem(apis, market, db):
    from app.services import clearing
    from models import ClearingLock, MatchRun, WasteCategory

    holder = MatchRun(status="running", solver="auto", parameters={}, progress_pct=10)
    db.session.add(holder)
    db.session.flush()
    fly_ash = db.session.scalar(sa.select(WasteCategory).where(WasteCategory.code == "fly_ash"))
    db.session.add(ClearingLock(category_id=fly_ash.id, run_id=holder.id))
    db.session.commit()
    busy = apis["regulator"].post("/match-runs", {"category": "fly_ash"})
    assert busy.status_code == 409 and busy.mimetype == "application/problem+json"
    assert str(holder.id) in busy.get_json()["detail"]
    assert apis["regulator"].post("/match-runs", {}).status_code == 409  # a province-wide run needs fly ash too
    assert apis["regulator"].post("/match-runs", {"category": "steel_slag"}).get_json()["status"] == "succeeded"
    clearing.fail_run(db.session, holder.id, "worker_lost", "test")
    assert apis["regulator"].post("/match-runs", {"category": "fly_ash"}).status_code == 202


def test_a_running_run_lists_the_categories_it_holds_and_lets_go_when_it_ends(apis, market, db):
    from app.services import clearing
    from models import ClearingLock, MatchRun, WasteCategory

    holder = MatchRun(status="running", solver="auto", parameters={}, progress_pct=10)
    db.session.add(holder)
    db.session.flush()
    for code in ("steel_slag", "fly_ash"):
        category = db.session.scalar(sa.select(WasteCategory).where(WasteCategory.code == code))
        db.session.add(ClearingLock(category_id=category.id, run_id=holder.id))
    db.session.commit()
    assert apis["regulator"].get(f"/match-runs/{holder.id}").get_json()["locked_categories"] == ["fly_ash",
                                                                                                 "steel_slag"]
    listed = {r["id"]: r for r in apis["regulator"].get("/match-runs").get_json()["items"]}
    assert listed[holder.id]["locked_categories"] == ["fly_ash", "steel_slag"]
    clearing.fail_run(db.session, holder.id, "worker_lost", "test")
    assert apis["regulator"].get(f"/match-runs/{holder.id}").get_json()["locked_categories"] == []
    done = apis["regulator"].post("/match-runs", {"category": "fly_ash"}).get_json()
    assert done["status"] == "succeeded" and done["locked_categories"] == []  # released when it ended
    assert apis["producer"].get(f"/match-runs/{holder.id}").status_code == 403
