"""API seasonal plans and storage yards: the pages' services and permissions, problem+json on bad input."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from app.services import seasonal
from models import AuditEvent, Yard
from tests.app.test_seasonal import winter_market

YARD = {"name": "Daqing base yard", "category": "fly_ash", "lon": 125.12, "lat": 46.60, "capacity_t": "2000",
        "cost_yuan_per_t_month": "1.00"}


def patch(api, path: str, body: dict):
    """PATCH JSON."""
    return api.client.patch("/api/v1" + path, json=body, headers=api._headers(None))


def test_an_officer_manages_yards_of_their_own_base_and_the_regulator_everywhere(apis, reference):
    created = apis["officer"].post("/bases/daqing/yards", YARD)
    assert created.status_code == 201, created.get_json()
    yard = created.get_json()
    assert yard["base"] == "daqing" and yard["capacity_t"] == "2000.000" and yard["loss_pct_per_month"] == "0.000"
    assert [y["id"] for y in apis["officer"].get("/bases/daqing/yards").get_json()["items"]] == [yard["id"]]

    changed = patch(apis["officer"], f"/bases/daqing/yards/{yard['id']}", {"capacity_t": "2500"})
    assert changed.status_code == 200 and changed.get_json()["capacity_t"] == "2500.000"
    assert changed.get_json()["name"] == YARD["name"]  # untouched fields keep their values
    assert reference.session.scalar(sa.select(AuditEvent.action).where(
        AuditEvent.entity_type == "yard", AuditEvent.entity_id == yard["id"]).order_by(AuditEvent.id.desc())) \
        == "updated"

    regulator = patch(apis["regulator"], f"/bases/daqing/yards/{yard['id']}", {"cost_yuan_per_t_month": "2.50"})
    assert regulator.status_code == 200 and regulator.get_json()["cost_yuan_per_t_month"] == "2.50"
    assert apis["regulator"].post("/bases/jixi/yards", {**YARD, "name": "Jixi yard"}).status_code == 201
    assert len(apis["regulator"].get("/bases/province/yards").get_json()["items"]) == 2


def test_yards_refuse_other_bases_and_other_roles(apis, reference):
    yard = apis["officer"].post("/bases/daqing/yards", YARD).get_json()
    refused = apis["jixi_officer"].post("/bases/daqing/yards", YARD)
    assert refused.status_code == 403 and refused.headers["Content-Type"] == "application/problem+json"
    assert patch(apis["jixi_officer"], f"/bases/daqing/yards/{yard['id']}", {"capacity_t": "1"}).status_code == 403
    # A Daqing yard is not Jixi's, even for the regulator through the Jixi path.
    assert patch(apis["regulator"], f"/bases/jixi/yards/{yard['id']}", {"capacity_t": "1"}).status_code == 422
    for role in ("producer", "recycler"):
        assert apis[role].get("/bases/daqing/yards").status_code == 403
        assert apis[role].post("/bases/daqing/yards", YARD).status_code == 403
        assert patch(apis[role], f"/bases/daqing/yards/{yard['id']}", {"capacity_t": "1"}).status_code == 403
    assert apis["officer"].post("/bases/nowhere/yards", YARD).status_code == 404
    assert reference.session.get(Yard, yard["id"]).capacity_t == Decimal(2000)


def test_absurd_yards_get_a_problem_naming_the_field(apis, reference):
    for change, field in (({"capacity_t": "0"}, "capacity_t"), ({"cost_yuan_per_t_month": "-1.00"},
                                                                  "cost_yuan_per_t_month"),
                          ({"loss_pct_per_month": "100"}, "loss_pct_per_month"), ({"category": "no_such"}, "category"),
                          ({"lon": 500}, "lon")):
        response = apis["officer"].post("/bases/daqing/yards", {**YARD, **change})
        assert response.status_code == 422, change
        assert response.get_json()["errors"][0]["field"] == field
    assert apis["officer"].post("/bases/daqing/yards", {**YARD, "capacity_t": 1e400}).status_code == 422
    yard = apis["officer"].post("/bases/daqing/yards", YARD).get_json()
    bad = patch(apis["officer"], f"/bases/daqing/yards/{yard['id']}", {"capacity_t": "0"})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "capacity_t"
    assert reference.session.get(Yard, yard["id"]).capacity_t == Decimal(2000)
    assert reference.session.scalar(sa.select(sa.func.count(Yard.id))) == 1


def test_a_plan_through_the_api_is_the_pages_plan(apis, reference):
    winter_market()
    apis["officer"].post("/bases/daqing/yards", YARD)
    created = apis["officer"].post("/bases/daqing/seasonal-plans", {"start": "2026-11"})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    page = seasonal.plan(reference.session, "2026-11")
    assert body["base"] == "daqing" and body["baseline"]["periods"] == page["periods"]
    assert Decimal(body["baseline"]["totals"]["delivered_t"]) == Decimal(str(page["totals"]["delivered_t"]))
    assert Decimal(body["baseline"]["totals"]["disposed_t"]) == Decimal(str(page["totals"]["disposed_t"]))
    assert [Decimal(m["delivered_t"]) for m in body["baseline"]["months"]] == \
        [Decimal(str(m["delivered_t"])) for m in page["months"]]
    (yard,) = body["baseline"]["yards"]
    assert len(yard["levels_t"]) == 12 and yard["levels_t"][-1] == "0.000"
    assert body["scenario"] is None and body["comparison"] is None

    read = apis["officer"].get(f"/bases/daqing/seasonal-plans/{body['id']}")
    assert read.status_code == 200 and read.get_json() == body
    assert apis["officer"].get("/bases/daqing/seasonal-plans").get_json()["items"][0]["id"] == body["id"]
    assert apis["regulator"].get(f"/bases/daqing/seasonal-plans/{body['id']}").status_code == 200


def test_a_what_if_plan_compares_and_changes_nothing(apis, reference):
    _base, _lot, kiln = winter_market()
    what_if = {"start": "2026-11", "kiln_facility_id": kiln.id, "kiln_stopped_months": [7],
               "what_if_yard": {k: YARD[k] for k in ("category", "lon", "lat", "capacity_t",
                                                      "cost_yuan_per_t_month")}}
    body = apis["officer"].post("/bases/daqing/seasonal-plans", what_if).get_json()
    assert body["scenario"] is not None
    daqing = next(r for r in body["comparison"]["rates"] if r["code"] == "daqing")
    assert Decimal(daqing["scenario"]) > Decimal(daqing["baseline"])
    assert reference.session.scalar(sa.select(sa.func.count(Yard.id))) == 0


def test_plans_refuse_bad_input_other_roles_and_other_peoples_plans(apis, reference):
    bad = apis["officer"].post("/bases/daqing/seasonal-plans", {"start": "2026-13"})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "start"
    empty_yard = {**{k: YARD[k] for k in ("category", "lon", "lat", "cost_yuan_per_t_month")}, "capacity_t": "0"}
    absurd = apis["officer"].post("/bases/daqing/seasonal-plans", {"start": "2026-11", "what_if_yard": empty_yard})
    assert absurd.status_code == 422 and absurd.get_json()["errors"][0]["field"] == "what_if_yard.capacity_t"
    unknown_kiln = apis["officer"].post("/bases/daqing/seasonal-plans", {"start": "2026-11",
                                                                         "kiln_facility_id": 999999})
    assert unknown_kiln.status_code == 422 and unknown_kiln.get_json()["errors"][0]["field"] == "kiln_facility_id"
    for role in ("producer", "recycler"):
        assert apis[role].post("/bases/daqing/seasonal-plans", {"start": "2026-11"}).status_code == 403
    assert apis["jixi_officer"].post("/bases/daqing/seasonal-plans", {"start": "2026-11"}).status_code == 403
    mine = apis["officer"].post("/bases/daqing/seasonal-plans", {"start": "2026-11"}).get_json()
    assert apis["producer"].get(f"/bases/daqing/seasonal-plans/{mine['id']}").status_code == 403
    assert apis["jixi_officer"].get(f"/bases/jixi/seasonal-plans/{mine['id']}").status_code == 404
    assert apis["regulator"].get(f"/bases/jixi/seasonal-plans/{mine['id']}").status_code == 404
    assert apis["officer"].get("/bases/daqing/seasonal-plans/999999").status_code == 404
