"""Dispatch through the API: vehicles, a plan polled until done, acceptance, and who is refused."""
import datetime as dt

from tests.api.conftest import make_user


def _loads(apis, awarded, carrier, tonnes=("10", "12")):
    return [apis["producer"].post(f"/awards/{awarded['award_id']}/shipments", {
        "tonnes": t, "vehicle_plate": "黑A12345", "carrier_organization_id": carrier.organization_id}).get_json()
        for t in tonnes]


def _vehicle(api, **changes):
    body = {"plate": "黑A·D0001", "capacity_t": "32", "cost_yuan_per_km": "4.00", "max_km": 900,
            "depot_place": "大庆", **changes}
    return api.post("/vehicles", body)


def test_a_carrier_plans_and_accepts_through_the_api(apis, awarded, make_api):
    carrier = make_user("carrier", email="haul@example.com")
    api = make_api(carrier)
    loads = _loads(apis, awarded, carrier)
    truck = _vehicle(api)
    assert truck.status_code == 201, truck.get_json()
    assert truck.get_json()["plate"] == "黑AD0001" and truck.get_json()["capacity_t"] == "32.000"
    waiting = api.get("/dispatch-loads").get_json()["items"]
    assert sorted(s["id"] for s in waiting) == sorted(s["id"] for s in loads)
    made = api.post("/dispatch-plans", {"shipment_ids": [s["id"] for s in loads],
                                        "vehicle_ids": [truck.get_json()["id"]],
                                        "start_date": dt.date.today().isoformat(), "days": 1, "time_limit_s": 1})
    assert made.status_code == 202, made.get_json()
    plan = api.get(f"/dispatch-plans/{made.get_json()['id']}").get_json()
    assert plan["done"] and plan["status"] == "ready" and plan["unserved"] == []
    [route] = plan["routes"]
    assert [s["action"] for s in route["stops"]] == ["pickup", "pickup", "dropoff", "dropoff"]
    assert float(plan["total_km"]) < float(plan["baseline_km"])
    accepted = api.post(f"/dispatch-plans/{plan['id']}/accept")
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    assert api.get("/dispatch-loads").get_json()["items"] == []
    assert api.post(f"/dispatch-plans/{plan['id']}/accept").status_code == 422
    assert [p["id"] for p in api.get("/dispatch-plans").get_json()["items"]] == [plan["id"]]


def test_bad_vehicles_and_plans_are_problems_naming_the_field(apis, awarded, make_api):
    carrier = make_user("carrier", email="haul@example.com")
    api = make_api(carrier)
    bad = _vehicle(api, capacity_t="0")
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "capacity_t"
    assert _vehicle(api, depot_place=None, depot_lon=2.35, depot_lat=48.85).get_json()["errors"][0]["field"] == \
        "depot_lon"
    assert _vehicle(api, capacity_t=32).status_code == 422  # tonnes are decimal strings
    plan = api.post("/dispatch-plans", {"shipment_ids": [999999], "vehicle_ids": [1],
                                        "start_date": dt.date.today().isoformat()})
    assert plan.status_code == 422 and plan.get_json()["errors"][0]["field"] == "shipment_ids"


def test_others_may_not_plan_or_read_a_carriers_plans(apis, awarded, make_api):
    carrier = make_user("carrier", email="haul@example.com")
    api = make_api(carrier)
    loads = _loads(apis, awarded, carrier, ("5",))
    truck = _vehicle(api).get_json()
    plan = api.post("/dispatch-plans", {"shipment_ids": [loads[0]["id"]], "vehicle_ids": [truck["id"]],
                                        "start_date": dt.date.today().isoformat(), "time_limit_s": 1}).get_json()
    rival = make_api(make_user("carrier", email="rival@example.com"))
    assert rival.get(f"/dispatch-plans/{plan['id']}").status_code == 403
    assert rival.post(f"/dispatch-plans/{plan['id']}/accept").status_code == 403
    assert rival.post(f"/vehicles/{truck['id']}/retire").status_code == 403
    assert rival.post("/dispatch-plans", {"shipment_ids": [loads[0]["id"]], "vehicle_ids": [truck["id"]],
                                          "start_date": dt.date.today().isoformat()}).status_code == 422
    assert apis["producer"].get("/vehicles").status_code == 403
    unverified = make_api(make_user("carrier", email="new@example.com", verified=False))
    assert unverified.get("/dispatch-plans").status_code == 403
    assert api.get(f"/dispatch-plans/{plan['id']}").get_json()["status"] == "ready"


def test_ready_and_due_dates_through_the_api(apis, awarded, make_api):
    carrier = make_user("carrier", email="haul@example.com")
    api = make_api(carrier)
    early, late = _loads(apis, awarded, carrier)
    truck = _vehicle(api).get_json()
    today = dt.date.today()
    body = {"shipment_ids": [early["id"], late["id"]], "vehicle_ids": [truck["id"]], "start_date": today.isoformat(),
            "days": 2, "time_limit_s": 1,
            "windows": [{"shipment_id": early["id"], "due_by": today.isoformat()},
                        {"shipment_id": late["id"], "ready_on": (today + dt.timedelta(days=4)).isoformat()}]}
    made = api.post("/dispatch-plans", body)
    assert made.status_code == 202, made.get_json()
    plan = api.get(f"/dispatch-plans/{made.get_json()['id']}").get_json()
    assert plan["windows"] == [
        {"shipment_id": early["id"], "ready_on": None, "due_by": today.isoformat()},
        {"shipment_id": late["id"], "ready_on": (today + dt.timedelta(days=4)).isoformat(), "due_by": None}]
    assert [(u["shipment_id"], u["reason"]) for u in plan["unserved"]] == [(late["id"], "time_window")]
    assert {s["shipment_id"] for r in plan["routes"] for s in r["stops"]} == {early["id"]}
    assert all(r["day"] == 0 for r in plan["routes"])
    for windows in ([{"shipment_id": early["id"], "ready_on": "2026-01-05", "due_by": "2026-01-01"}],
                    [{"shipment_id": early["id"], "ready_on": "2999-01-01"}],
                    [{"shipment_id": early["id"]}, {"shipment_id": early["id"]}],
                    [{"shipment_id": early["id"], "due_by": "01/02/2026"}]):
        bad = api.post("/dispatch-plans", {**body, "windows": windows})
        assert bad.status_code == 422, bad.get_json()
        assert bad.get_json()["errors"][0]["field"].startswith("windows")
