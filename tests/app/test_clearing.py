"""Clearing end to end: service, CLI, run page, status JSON, failures, demand profiles, licences."""

import datetime as dt
import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.services import clearing
from models import Allocation, Bid, FacilityCapacity, Licence, Lot, MatchRun
from tests.conftest import csrf_token
from tests.factories import (
    BidFactory,
    DemandProfileFactory,
    FacilityFactory,
    LotFactory,
    OrganizationFactory,
    UserFactory,
    category,
    small_market,
)

EN = {"Accept-Language": "en"}


def _run(db, code=None):
    run = clearing.start_clearing(db.session, None, code)
    db.session.expire_all()
    return db.session.get(MatchRun, run.id)


def test_clearing_allocates_the_lot_to_the_near_bidder(db, reference):
    m = small_market()
    run = _run(db, "fly_ash")
    assert run.status == "succeeded" and run.progress_pct == 100 and run.job_id
    allocations = db.session.scalars(sa.select(Allocation)).all()
    assert [(a.lot_id, a.facility_id, a.tonnes, a.status) for a in allocations] == [
        (m["lot"].id, m["near"].id, Decimal("600.000"), "proposed")
    ]
    a = allocations[0]
    assert a.price_yuan_per_t == Decimal("83.21") and a.bid_id == m["near_bid"].id
    assert a.surplus_yuan == ((a.price_yuan_per_t - a.transport_yuan_per_t - Decimal("10")) * 600).quantize(
        Decimal("0.01")
    )
    assert a.deadline is not None
    lot = db.session.get(Lot, m["lot"].id)
    assert lot.remaining_tonnes == Decimal("400.000") and lot.status == "matched"
    assert db.session.get(Bid, m["near_bid"].id).status == "allocated"
    assert db.session.get(Bid, m["far_bid"].id).status == "active"
    assert run.tonnes_matched == Decimal("600.000")
    # Sales to others are not the Art. 12(1)(4) exemption: a clearing reports no tax figure.
    assert "env_tax_avoided_yuan" not in run.results
    assert [u["reason"] for u in run.results["unmatched"]] == ["capacity_taken"]
    assert run.input_snapshot["fly_ash"]["arcs"] == 2


def test_cli_match_run_prints_json(runner, db, reference):
    m = small_market()
    result = runner.invoke(args=["match", "run", "--category", "fly_ash", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= {
        "run_id",
        "status",
        "allocations",
        "tonnes_matched",
        "transport_cost_yuan",
        "co2_t",
        "surplus_yuan",
        "seconds",
    }
    assert data["status"] == "succeeded" and data["tonnes_matched"] == 600.0
    assert [(a["lot"], a["facility"], a["tonnes"]) for a in data["allocations"]] == [(m["lot"].id, m["near"].id, 600.0)]
    assert isinstance(data["transport_cost_yuan"], float) and data["surplus_yuan"] > 0


def test_cli_rejects_an_unknown_category(runner, db, reference):
    result = runner.invoke(args=["match", "run", "--category", "nonsense"])
    assert result.exit_code != 0 and "nonsense" in result.output


def test_a_failed_solve_marks_the_run_failed_and_writes_nothing(db, reference, monkeypatch, caplog):
    m = small_market()

    def broken(part, solver="auto"):
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(clearing.runs, "solve_category", broken)
    run = _run(db)
    assert run.status == "failed" and run.failure_reason == "internal_error"
    assert "solver exploded" in caplog.text  # the detail goes to the log, not to the page
    from flask_babel import force_locale

    with force_locale("en"):
        assert "internal error" in clearing.status_message(db.session, run, "en")
    assert "solver exploded" not in (run.message or "")
    assert db.session.scalar(sa.select(sa.func.count(Allocation.id))) == 0
    assert db.session.get(Lot, m["lot"].id).remaining_tonnes == Decimal("1000.000")


def test_a_base_officer_may_not_start_a_clearing_of_the_whole_province(auth, client, db, reference):
    UserFactory(email="officer@example.com", role="base_officer", organization=OrganizationFactory(name="大庆基地"))
    auth.login("officer@example.com")
    response = client.post("/clearing/runs", data={"csrf_token": csrf_token(client, "/clearing"), "category": ""})
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(MatchRun.id))) == 0


def test_the_regulator_starts_a_run_from_the_web_and_sees_page_and_status(auth, client, db, reference):
    small_market()
    UserFactory(email="regulator@example.com", role="regulator", organization=OrganizationFactory(name="省工信厅"))
    auth.login("regulator@example.com")
    response = client.post("/clearing/runs", data={"csrf_token": csrf_token(client, "/clearing"), "category": ""})
    assert response.status_code == 302
    run_url = response.headers["Location"]
    page = client.get(run_url, headers=EN).get_data(as_text=True)
    assert "Near cement" in page and "flow-map" in page and "run-progress.js" in page
    assert "capacity went to better-paying lots" in page
    assert "<script>" not in page
    run_id = int(run_url.rstrip("/").split("/")[-1])
    status = client.get(f"/clearing/runs/{run_id}/status.json").get_json()
    assert status["status"] == "succeeded" and status["progress_pct"] == 100 and status["done"] is True
    flows = client.get(f"/clearing/runs/{run_id}/flows.geojson").get_json()
    assert flows["features"][0]["properties"]["tonnes"] == 600.0


def test_a_bad_category_re_renders_the_form_with_400(auth, client, db, reference):
    UserFactory(email="regulator@example.com", role="regulator")
    auth.login("regulator@example.com")
    response = client.post("/clearing/runs", data={"csrf_token": csrf_token(client, "/clearing"), "category": "zzz"})
    assert response.status_code == 400


def test_traders_cannot_start_or_see_runs(auth, client, db, reference):
    small_market()
    auth.login("producer@example.com")
    assert client.get("/clearing").status_code == 403
    assert client.post("/clearing/runs", data={}).status_code in (400, 403)


def test_demand_profiles_take_lots_within_their_haul_radius_only(db, reference):
    org = OrganizationFactory()
    near_lot = LotFactory(facility=FacilityFactory(organization=org, lon=126.60, lat=45.70), tonnes=Decimal("100"))
    far_lot = LotFactory(facility=FacilityFactory(organization=org, lon=130.0, lat=47.3), tonnes=Decimal("100"))
    recycler = FacilityFactory(kind="recycler", lon=126.65, lat=45.75, max_haul_km=80)
    DemandProfileFactory(
        facility=recycler,
        tonnes=Decimal("500"),
        price_yuan_per_t=Decimal("90"),
        period_start=dt.date(2020, 1, 1),
        period_end=dt.date(2099, 1, 1),
    )
    run = _run(db, "fly_ash")
    assert run.status == "succeeded"
    allocations = db.session.scalars(sa.select(Allocation)).all()
    assert [(a.lot_id, a.tonnes) for a in allocations] == [(near_lot.id, Decimal("100.000"))]
    reasons = {u["lot"]: u["reason"] for u in run.results["unmatched"]}
    assert reasons == {far_lot.id: "no_compatible_recycler"}


def test_a_profile_quality_limit_excludes_an_off_spec_lot(db, reference):
    lot = LotFactory(quality={"loi_pct": 9.0})
    DemandProfileFactory(
        facility=FacilityFactory(kind="recycler", lon=126.65, lat=45.76),
        price_yuan_per_t=Decimal("90"),
        quality_limits={"loi_pct": [None, 5.0]},
        period_start=dt.date(2020, 1, 1),
        period_end=dt.date(2099, 1, 1),
    )
    run = _run(db, "fly_ash")
    assert run.results["unmatched"][0]["lot"] == lot.id
    assert db.session.scalar(sa.select(sa.func.count(Allocation.id))) == 0


@pytest.mark.parametrize("licensed", [False, True])
def test_hazardous_lots_need_a_licence(db, reference, licensed):
    hazardous = db.session.scalar(
        sa.select(type(category("fly_ash"))).where(type(category("fly_ash")).hazardous.is_(True)).limit(1)
    )
    LotFactory(category=hazardous, reserve_yuan_per_t=Decimal("-500"))
    plant = FacilityFactory(kind="recycler", lon=126.65, lat=45.76)
    if licensed:
        db.session.add(Licence(facility_id=plant.id, number="HW-1", category_codes=[hazardous.code]))
        db.session.commit()
    DemandProfileFactory(
        facility=plant,
        category=hazardous,
        price_yuan_per_t=Decimal("0"),
        period_start=dt.date(2020, 1, 1),
        period_end=dt.date(2099, 1, 1),
    )
    _run(db, hazardous.code)
    assert db.session.scalar(sa.select(sa.func.count(Allocation.id))) == (1 if licensed else 0)


def test_a_second_run_does_not_reuse_a_profiles_committed_tonnes(db, reference):
    LotFactory(tonnes=Decimal("300"))
    profile = DemandProfileFactory(
        facility=FacilityFactory(kind="recycler", lon=126.65, lat=45.76),
        tonnes=Decimal("300"),
        price_yuan_per_t=Decimal("90"),
        period_start=dt.date(2020, 1, 1),
        period_end=dt.date(2099, 1, 1),
    )
    _run(db)
    LotFactory(tonnes=Decimal("200"))
    _run(db)
    total = db.session.scalar(
        sa.select(sa.func.sum(Allocation.tonnes)).where(Allocation.demand_profile_id == profile.id)
    )
    assert Decimal(str(total)) == Decimal("300")


# ----------------------------------------------------------------------------- category-wide bids


def _category_bid(facility, tonnes, price="90", max_haul_km=None):
    return BidFactory(lot=None, category=category("fly_ash"), facility=facility, tonnes=Decimal(tonnes),
                      price_yuan_per_t=Decimal(price), max_haul_km=max_haul_km)


def _three_lots():
    """A cheap and a dear lot near Harbin, and a lot 350 km away whose producer pays 200 yuan/t to be rid of it."""
    cheap = LotFactory(facility=FacilityFactory(lon=126.60, lat=45.70), tonnes=Decimal("100"),
                       reserve_yuan_per_t=Decimal("10"))
    dear = LotFactory(facility=FacilityFactory(lon=126.58, lat=45.72), tonnes=Decimal("100"),
                      reserve_yuan_per_t=Decimal("40"))
    far = LotFactory(facility=FacilityFactory(lon=130.0, lat=47.3), tonnes=Decimal("100"),
                     reserve_yuan_per_t=Decimal("-200"))
    return cheap, dear, far


def test_a_category_bid_takes_the_best_lots_within_its_haul_limit(db, reference):
    cheap, dear, far = _three_lots()
    recycler = FacilityFactory(kind="recycler", lon=126.65, lat=45.75, max_haul_km=600)
    bid = _category_bid(recycler, "150", max_haul_km=80)
    run = _run(db, "fly_ash")
    assert run.status == "succeeded"
    allocations = db.session.scalars(sa.select(Allocation).order_by(Allocation.lot_id)).all()
    assert [(a.lot_id, a.tonnes, a.bid_id, a.facility_id) for a in allocations] == [
        (cheap.id, Decimal("100.000"), bid.id, recycler.id), (dear.id, Decimal("50.000"), bid.id, recycler.id)]
    assert all(a.price_yuan_per_t == Decimal("90.00") and a.demand_profile_id is None for a in allocations)
    assert {u["lot"]: u["reason"] for u in run.results["unmatched"]}[far.id] == "no_compatible_recycler"
    assert db.session.get(Bid, bid.id).status == "allocated"


def test_a_longer_haul_limit_lets_a_category_bid_reach_the_far_lot(db, reference):
    cheap, dear, far = _three_lots()
    bid = _category_bid(FacilityFactory(kind="recycler", lon=126.65, lat=45.75), "150", max_haul_km=1000)
    _run(db, "fly_ash")
    allocations = db.session.scalars(sa.select(Allocation).where(Allocation.bid_id == bid.id)).all()
    assert far.id in {a.lot_id for a in allocations}
    assert sum(a.tonnes for a in allocations) == Decimal("150.000")


def test_a_category_bid_without_its_own_haul_uses_the_facilitys(db, reference):
    cheap, _dear, far = _three_lots()
    bid = _category_bid(FacilityFactory(kind="recycler", lon=126.65, lat=45.75, max_haul_km=80), "100")
    _run(db, "fly_ash")
    assert db.session.scalars(sa.select(Allocation.lot_id).where(Allocation.bid_id == bid.id)).all() == [cheap.id]


def test_a_category_bid_respects_its_facilitys_quality_limits(db, reference):
    LotFactory(facility=FacilityFactory(lon=126.60, lat=45.70), quality={"loi_pct": 9.0})
    in_spec = LotFactory(facility=FacilityFactory(lon=126.61, lat=45.71), quality={"loi_pct": 3.0},
                         reserve_yuan_per_t=Decimal("30"))
    recycler = FacilityFactory(kind="recycler", lon=126.65, lat=45.75, max_haul_km=100)
    db.session.add(FacilityCapacity(facility_id=recycler.id, category_id=category("fly_ash").id,
                                    tonnes_per_month=Decimal("1000"), quality_limits={"loi_pct": [None, 5.0]}))
    db.session.commit()
    bid = _category_bid(recycler, "2000")
    _run(db, "fly_ash")
    assert db.session.scalars(sa.select(Allocation.lot_id).where(Allocation.bid_id == bid.id)).all() == [in_spec.id]


def test_a_category_bid_never_takes_its_own_organisations_lots(db, reference):
    org = OrganizationFactory()
    LotFactory(facility=FacilityFactory(organization=org, lon=126.60, lat=45.70), reserve_yuan_per_t=Decimal("0"))
    other = LotFactory(facility=FacilityFactory(lon=126.61, lat=45.71), reserve_yuan_per_t=Decimal("30"))
    bid = _category_bid(FacilityFactory(organization=org, kind="recycler", lon=126.65, lat=45.75, max_haul_km=100),
                        "5000")
    _run(db, "fly_ash")
    assert db.session.scalars(sa.select(Allocation.lot_id).where(Allocation.bid_id == bid.id)).all() == [other.id]


def test_a_withdrawn_category_bid_takes_no_part(db, reference):
    LotFactory()
    bid = _category_bid(FacilityFactory(kind="recycler", lon=126.65, lat=45.75, max_haul_km=100), "100")
    bid.status = "withdrawn"
    db.session.commit()
    _run(db, "fly_ash")
    assert db.session.scalar(sa.select(sa.func.count(Allocation.id))) == 0


def test_a_run_extends_the_audit_chain_in_one_pass_that_verifies(db, reference):
    from app.services import audit
    from models import AuditEvent, Notification

    m = small_market()
    before = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    run = _run(db, "fly_ash")
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.id > before).order_by(AuditEvent.id)).all()
    assert events[-1].entity_type == "match_run" and events[-1].action == "succeeded"
    assert {(e.entity_type, e.action) for e in events} >= {("allocation", "proposed"), ("bid", "allocated"),
                                                           ("lot", "matched"), ("match_run", "succeeded")}
    assert audit.verify(db.session) is None
    # one message per user of each organisation on either side, not one per allocation
    kinds = db.session.scalars(sa.select(Notification.kind).where(Notification.user_id == m["near_user"].id)).all()
    assert kinds == ["allocations_proposed"]
    assert run.timings and run.seconds >= sum(run.timings.values()) * 0.5


def test_the_run_page_paginates_and_filters_allocations(auth, client, db, reference):
    org = OrganizationFactory()
    for k in range(60):
        lot = LotFactory(facility=FacilityFactory(organization=org, lon=126.6 + k / 1000, lat=45.7),
                         tonnes=Decimal("10"))
        BidFactory(lot=lot, facility=FacilityFactory(kind="recycler", lon=126.7, lat=45.8), tonnes=Decimal("10"))
    run = _run(db, "fly_ash")
    UserFactory(email="regulator@example.com", role="regulator")  # the province sees every allocation
    auth.login("regulator@example.com")
    first = client.get(f"/clearing/runs/{run.id}", headers=EN).get_data(as_text=True)
    assert "Page 1 of 2" in first and first.count("/lots/") >= 50
    second = client.get(f"/clearing/runs/{run.id}?page=2", headers=EN).get_data(as_text=True)
    assert "Page 2 of 2" in second
    none = client.get(f"/clearing/runs/{run.id}?status=declined", headers=EN).get_data(as_text=True)
    assert "No allocations." in none
    slag = client.get(f"/clearing/runs/{run.id}?category=steel_slag", headers=EN).get_data(as_text=True)
    assert "No allocations." in slag


def test_categories_solved_in_two_processes_give_identical_results(db, reference):
    from app.services.clearing import runs
    from models import utcnow

    m = small_market()
    slag = LotFactory(facility=m["lot_facility"], category=category("steel_slag"), tonnes=Decimal("500.000"))
    BidFactory(lot=slag, facility=m["near"], category=category("steel_slag"), price_yuan_per_t=Decimal("60.00"),
               tonnes=Decimal("500.000"))
    categories = clearing.clearable_categories(db.session)
    today = utcnow().date()

    def solved(workers):
        out = [clearing.solved_to_payload(s) for s in runs.solve_categories(db.session, categories, today, workers)]
        for payload in out:
            payload.pop("timings")
            payload["result"].pop("timings")
        return out

    one, two = solved(1), solved(2)
    assert len(one) == 2 and one == two


def test_a_category_that_cannot_be_solved_does_not_sink_the_others(db, reference, monkeypatch):
    from app.services.clearing import runs

    m = small_market()
    slag = LotFactory(facility=m["lot_facility"], category=category("steel_slag"), tonnes=Decimal("500.000"))
    BidFactory(lot=slag, facility=m["near"], category=category("steel_slag"), price_yuan_per_t=Decimal("60.00"),
               tonnes=Decimal("500.000"))
    real = runs.solve_category

    def broken_for_slag(part, solver="auto"):
        if part.category.code == "steel_slag":
            raise RuntimeError("a bad record")
        return real(part, solver)

    monkeypatch.setattr(runs, "solve_category", broken_for_slag)
    run = _run(db)
    assert run.status == "succeeded" and run.results["failed_categories"] == {"steel_slag": "internal_error"}
    assert [a.lot_id for a in db.session.scalars(sa.select(Allocation))] == [m["lot"].id]
    assert db.session.get(Lot, slag.id).remaining_tonnes == Decimal("500.000")


def test_the_runs_page_shows_which_categories_a_running_clearing_holds(auth, client, db, reference):
    from models import ClearingLock

    small_market()
    holder = MatchRun(status="running", solver="auto", parameters={}, progress_pct=10)
    db.session.add(holder)
    db.session.flush()
    db.session.add(ClearingLock(category_id=category("fly_ash").id, run_id=holder.id))
    db.session.commit()
    UserFactory(email="regulator@example.com", role="regulator", organization=OrganizationFactory(name="省工信厅"))
    auth.login("regulator@example.com")
    page = client.get("/clearing", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    held = page[page.index('id="held-categories"'):page.index("</section>")]
    assert "正在出清的类别" in held and "粉煤灰" in held and f"/clearing/runs/{holder.id}" in held
    assert "钢渣" not in held and "fly_ash" not in held
    assert f"粉煤灰 — 正由撮合运行 {holder.id} 出清" in page  # the select says so too
    refused = client.post("/clearing/runs", data={"csrf_token": csrf_token(client, "/clearing"),
                                                  "category": "fly_ash"}, headers=EN)
    assert refused.status_code == 409
    assert "Categories being cleared now" in refused.get_data(as_text=True)
    clearing.fail_run(db.session, holder.id, "worker_lost", "test")
    page = client.get("/clearing", headers=EN).get_data(as_text=True)
    assert "None: every category can be cleared." in page and "being cleared by run" not in page


def test_the_start_form_is_offered_only_to_who_may_start_a_clearing(auth, client, db, reference):
    UserFactory(email="officer@example.com", role="base_officer", organization=OrganizationFactory(name="大庆基地"))
    UserFactory(email="regulator@example.com", role="regulator", organization=OrganizationFactory(name="省工信厅"))
    auth.login("officer@example.com")
    page = client.get("/clearing", headers=EN).get_data(as_text=True)
    assert "Run the clearing" not in page and "Categories being cleared now" in page  # the POST would be 403
    auth.login("regulator@example.com")
    assert "Run the clearing" in client.get("/clearing", headers=EN).get_data(as_text=True)


@pytest.mark.parametrize("last", ["steel_slag", "fly_ash"])
def test_prices_and_explanations_failing_while_the_join_writes_fail_that_category_alone(db, reference, monkeypatch,
                                                                                        last):
    import matching

    m = small_market()
    slag = LotFactory(facility=m["lot_facility"], category=category("steel_slag"), tonnes=Decimal("500.000"))
    BidFactory(lot=slag, facility=m["near"], category=category("steel_slag"), price_yuan_per_t=Decimal("60.00"),
               tonnes=Decimal("500.000"))
    real_finish, real_categories = matching.FlowSolution.finish, clearing.runs.problems.clearable_categories

    def finish(solution):
        if solution.problem.lots[0].category == "steel_slag":
            raise RuntimeError("a bad explanation")
        return real_finish(solution)

    def ordered(session):  # the category finished while the join writes is the last one solved
        return sorted(real_categories(session), key=lambda c: c.code == last)

    monkeypatch.setattr(matching.FlowSolution, "finish", finish)
    monkeypatch.setattr(clearing.runs.problems, "clearable_categories", ordered)
    run = _run(db)
    assert run.status == "succeeded" and run.results["failed_categories"] == {"steel_slag": "internal_error"}
    assert [a.lot_id for a in db.session.scalars(sa.select(Allocation))] == [m["lot"].id]
    assert db.session.get(Lot, slag.id).remaining_tonnes == Decimal("500.000")
