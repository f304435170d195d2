"""The producer's monthly balance the official way: hand-computed fixtures and a property test (docs/statistics.md)."""
import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.services import generation_reports, utilisation
from app.services.errors import ServiceError
from app.services.utilisation import Scope
from models import UtilisationRecord
from tests.factories import (
    FacilityFactory,
    GenerationReportFactory,
    UserFactory,
    category,
    delivery,
    resource_base,
)

D = Decimal
MARCH = dt.date(2025, 3, 1)


def _daqing(**kw):
    base = resource_base("daqing")
    return FacilityFactory(base_id=base.id, prefecture_code=base.prefecture_code, **kw)


def _recycler():
    return FacilityFactory(kind="recycler", prefecture_code="230100")


def _daqing_row(session, year=2025):
    [row] = utilisation.year_table(session, Scope("base", base=resource_base("daqing")), year, "en").rows
    return row


def test_stockpile_sale_without_a_report_counts_as_utilised_from_storage(reference):
    # A: generated 1,000, self-utilised 400, stored 600. B: no report, sells 2,000 t of old stockpile on the
    # platform. Rate = (400 + 2,000) / (1,000 + 2,000) = 0.8000, not 2,400 / 1,000.
    a, b = _daqing(), _daqing()
    GenerationReportFactory(facility=a, period=MARCH, generated_t=D(1000), self_utilised_t=D(400), stored_t=D(600))
    delivery(b, _recycler(), "coal_gangue", received=D(2000), period=MARCH)
    row = _daqing_row(reference.session)
    assert (row["generated_t"], row["from_storage_t"], row["utilised_t"]) == (D(1000), D(2000), D(2400))
    assert row["rate"] == D("0.8000")


def test_stockpile_sale_of_a_reporting_producer_enters_the_denominator(reference):
    # The producer files its month without mentioning the sale: generated 1,000 = 400 self-utilised + 600 stored.
    # The 2,000 t delivered beyond its reported supply (0) came from storage: (400 + 2,000) / (1,000 + 2,000).
    plant = _daqing()
    GenerationReportFactory(facility=plant, period=MARCH, generated_t=D(1000), self_utilised_t=D(400),
                            stored_t=D(600))
    delivery(plant, _recycler(), "coal_gangue", received=D(2000), period=MARCH)
    row = _daqing_row(reference.session)
    assert (row["from_storage_t"], row["utilised_t"], row["rate"]) == (D(2000), D(2400), D("0.8000"))


def test_stockpile_sale_reported_officially_gives_the_same_rate(reference):
    # Official report: 1,000 generated + 2,000 from storage = 400 self + 2,000 supplied + 600 stored.
    plant = _daqing()
    GenerationReportFactory(facility=plant, period=MARCH, generated_t=D(1000), self_utilised_t=D(400),
                            supplied_t=D(2000), stored_t=D(600), from_storage_t=D(2000))
    delivery(plant, _recycler(), "coal_gangue", received=D(2000), period=MARCH)
    row = _daqing_row(reference.session)
    assert (row["from_storage_t"], row["utilised_t"], row["rate"]) == (D(2000), D(2400), D("0.8000"))


def test_reported_supply_and_the_platform_delivery_of_the_same_tonnes_count_once(reference):
    # 1,000 generated, all supplied to a recycler through the platform and reported as 外供 too.
    plant = _daqing()
    GenerationReportFactory(facility=plant, period=MARCH, generated_t=D(1000), supplied_t=D(1000))
    delivery(plant, _recycler(), "coal_gangue", received=D(1000), period=MARCH)
    row = _daqing_row(reference.session)
    assert (row["utilised_t"], row["from_storage_t"], row["rate"]) == (D(1000), D(0), D("1.0000"))


def _declared_later(session, plant, dispatched_at, declared_in):
    """A platform load dispatched at `dispatched_at` (UTC), weighed in, and declared utilised by the recycler
    through the service in the month `declared_in`."""
    import sqlalchemy as sa

    from app.services import shipments
    from models import Shipment

    recycler_user = UserFactory(role="recycler")
    recycler = FacilityFactory(kind="recycler", prefecture_code="230100", organization=recycler_user.organization)
    delivery(plant, recycler, "coal_gangue", received=D(1000), declared=D(0))
    load = session.scalar(sa.select(Shipment).order_by(Shipment.id.desc()).limit(1))
    load.dispatched_at, load.received_at = dispatched_at, dispatched_at + dt.timedelta(days=1)
    session.commit()
    return shipments.declare_utilisation(session, recycler_user, load.award_id, "cement", D(1000), declared_in)


def test_a_delivery_reported_as_supply_and_declared_in_a_later_month_counts_once(reference):
    # March: 1,000 t generated, all shipped through the platform on 28 March and reported as 外供. April: 1,000 t
    # generated, all stored. The recycler declares the March load utilised in April (the default: the month it
    # declares). The producer's supply happened in March, so the platform tonnes count there, once:
    # (1,000 + 0) / (1,000 + 1,000) = 0.5000 — not 2,000 / 3,000, which counted the same tonnes twice.
    plant = _daqing()
    GenerationReportFactory(facility=plant, period=MARCH, generated_t=D(1000), supplied_t=D(1000))
    GenerationReportFactory(facility=plant, period=dt.date(2025, 4, 1), generated_t=D(1000), stored_t=D(1000))
    record = _declared_later(reference.session, plant, dt.datetime(2025, 3, 28, 2, 0), dt.date(2025, 4, 1))
    assert (record.period, record.supply_period) == (dt.date(2025, 4, 1), MARCH)
    row = _daqing_row(reference.session)
    assert (row["utilised_t"], row["from_storage_t"], row["rate"]) == (D(1000), D(0), D("0.5000"))
    scope = Scope("base", base=resource_base("daqing"))
    assert utilisation.rollup_sums(reference.session, scope, dt.date(2025, 1, 1), dt.date(2026, 1, 1)) == \
        utilisation.report_sums(reference.session, scope, dt.date(2025, 1, 1), dt.date(2026, 1, 1))


def test_the_supply_month_is_the_beijing_month_of_the_dispatch(reference):
    # 31 March 17:00 UTC is 1 April 01:00 in Beijing: the load left the producer in April.
    plant = _daqing()
    record = _declared_later(reference.session, plant, dt.datetime(2025, 3, 31, 17, 0), dt.date(2025, 5, 1))
    assert record.supply_period == dt.date(2025, 4, 1)


def test_off_platform_supply_larger_than_the_platform_part_is_kept(reference):
    # 外供 1,000 of which 600 went through the platform: 1,000 utilised, not 1,600 and not 600.
    plant = _daqing()
    GenerationReportFactory(facility=plant, period=MARCH, generated_t=D(1200), supplied_t=D(1000), stored_t=D(200))
    delivery(plant, _recycler(), "coal_gangue", received=D(600), period=MARCH)
    row = _daqing_row(reference.session)
    assert (row["utilised_t"], row["market_utilised_t"], row["rate"]) == (D(1000), D(600), D("0.8333"))


def test_only_declared_tonnes_of_weighed_deliveries_count(reference):
    # 900 t weighed in, 500 declared utilised so far: 500 count. A declaration with no delivery counts nothing.
    # The report stored the whole month's 1,000 t, so the 500 delivered came from storage: 500 / (1,000 + 500).
    plant = _daqing()
    GenerationReportFactory(facility=plant, period=MARCH, generated_t=D(1000), stored_t=D(1000))
    recycler = _recycler()
    delivery(plant, recycler, "coal_gangue", received=D(900), declared=D(500), period=MARCH)
    reference.session.add(UtilisationRecord(facility_id=recycler.id, source_facility_id=plant.id,
                                            category_id=category("coal_gangue").id, product="cement",
                                            tonnes=D(5000), period=MARCH))
    reference.session.commit()
    row = _daqing_row(reference.session)
    assert (row["utilised_t"], row["from_storage_t"], row["rate"]) == (D(500), D(500), D("0.3333"))


def _report(facility, **figures):
    values = {"generated_t": D(100), "stored_t": D(0), "self_utilised_t": D(0), "disposed_t": D(0),
              "from_storage_t": D(0)} | figures
    return generation_reports.ReportInput(facility.id, category("coal_gangue").id, MARCH, **values)


def test_a_report_that_does_not_balance_is_refused_naming_the_numbers(reference):
    user = UserFactory(role="producer")
    plant = FacilityFactory(organization=user.organization)
    bad = _report(plant, self_utilised_t=D(70), stored_t=D(40), disposed_t=D(10))  # 100 ≠ 70 + 40 + 10
    with pytest.raises(ServiceError) as exc:
        generation_reports.file_report(reference.session, user, bad)
    assert exc.value.field == "generated_t"
    message = str(exc.value)
    # The message names every figure and the difference, in the user's language (Chinese by default).
    assert all(figure in message for figure in ("产生量 100", "处置 10", "贮存 40", "= 120", "-20"))
    assert reference.session.query(generation_reports.GenerationReport).count() == 0


def test_storage_drawn_beyond_the_utilised_tonnes_is_refused(reference):
    user = UserFactory(role="producer")
    plant = FacilityFactory(organization=user.organization)
    bad = _report(plant, generated_t=D(0), self_utilised_t=D(10), supplied_t=D(5), stored_t=D(20),
                  from_storage_t=D(35))
    with pytest.raises(ServiceError) as exc:
        generation_reports.file_report(reference.session, user, bad)
    assert exc.value.field == "from_storage_t" and "（35 吨）" in str(exc.value) and "（15 吨）" in str(exc.value)


def test_a_balanced_report_with_supply_and_dumping_is_filed(reference):
    user = UserFactory(role="producer")
    plant = FacilityFactory(organization=user.organization)
    good = _report(plant, generated_t=D("1000.5"), from_storage_t=D(200), self_utilised_t=D(300),
                   supplied_t=D("600.5"), disposed_t=D(100), stored_t=D(150), dumped_t=D(50))
    report = generation_reports.file_report(reference.session, user, good)
    assert (report.supplied_t, report.dumped_t) == (D("600.500"), D("50.000"))


# ----------------------------------------------------------------------------- property

_tonnes = st.integers(min_value=0, max_value=5000).map(Decimal)
_month_report = st.one_of(st.none(), st.tuples(_tonnes, _tonnes, _tonnes, _tonnes, _tonnes, _tonnes))
_delivery = st.tuples(st.integers(min_value=1, max_value=3), st.integers(min_value=1, max_value=4000),
                      st.integers(min_value=0, max_value=100))
_counter = itertools.count()


def _balanced(figures):
    self_used, supplied, disposed, stored, dumped, storage_share = figures
    utilised = self_used + supplied
    from_storage = min(utilised, storage_share)
    generated = utilised + disposed + stored + dumped - from_storage
    return {"generated_t": generated, "self_utilised_t": self_used, "supplied_t": supplied,
            "disposed_t": disposed, "stored_t": stored, "dumped_t": dumped, "from_storage_t": from_storage}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reports=st.lists(_month_report, min_size=3, max_size=3), deliveries=st.lists(_delivery, max_size=4))
def test_no_reports_deliveries_or_declarations_push_a_rate_above_the_balance(reference, reports, deliveries):
    prefecture = f"9{next(_counter):05d}"  # a scope of its own for every example
    plant = FacilityFactory(prefecture_code=prefecture)
    recycler = _recycler()
    by_month = {}
    for month, figures in enumerate(reports, start=1):
        if figures is not None:
            by_month[month] = _balanced(figures)
            GenerationReportFactory(facility=plant, period=dt.date(2025, month, 1), **by_month[month])
    platform = {}
    received_total = Decimal(0)
    for month, received, declared_pct in deliveries:
        declared = (Decimal(received) * declared_pct / 100).quantize(Decimal(1))
        delivery(plant, recycler, "coal_gangue", received=Decimal(received), declared=declared,
                 period=dt.date(2025, month, 1))
        platform[month] = platform.get(month, Decimal(0)) + declared
        received_total += received
    table = utilisation.year_table(reference.session, Scope("prefecture", prefecture_code=prefecture), 2025)
    total = table.total
    reported_utilised = sum(r["self_utilised_t"] + r["supplied_t"] for r in by_month.values())
    expected_used = expected_storage = Decimal(0)
    for month in set(by_month) | set(platform):
        r = by_month.get(month) or _balanced((0, 0, 0, 0, 0, 0))
        used, storage = utilisation.count_cell(r["generated_t"], r["self_utilised_t"], r["supplied_t"],
                                               r["from_storage_t"], platform.get(month, Decimal(0)))
        expected_used += used
        expected_storage += storage
    assert total["utilised_t"] == expected_used and total["from_storage_t"] == expected_storage
    # The rollup the dashboards read agrees with the counted cells computed from the raw rows.
    scope = Scope("prefecture", prefecture_code=prefecture)
    direct = utilisation.report_sums(reference.session, scope, dt.date(2025, 1, 1), dt.date(2026, 1, 1))
    assert utilisation.rollup_sums(reference.session, scope, dt.date(2025, 1, 1), dt.date(2026, 1, 1)) == direct
    assert utilisation.top_producers(reference.session, scope, 2025) == \
        utilisation.top_producers_direct(reference.session, scope, 2025)
    assert total["utilised_t"] <= reported_utilised + received_total  # never beyond weighed-in tonnes
    if total["rate"] is not None:
        assert total["rate"] <= 1
        assert total["utilised_t"] <= total["generated_t"] + total["from_storage_t"]


_load = st.tuples(st.integers(min_value=1, max_value=3), st.integers(min_value=1, max_value=2000),
                  st.integers(min_value=1, max_value=4), st.integers(min_value=0, max_value=130))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(own=st.lists(st.tuples(_tonnes, _tonnes), min_size=3, max_size=3), loads=st.lists(_load, max_size=4))
def test_a_producer_reporting_its_platform_loads_as_supply_is_counted_once_whenever_they_are_declared(
        reference, own, loads):
    """Through the services: each load is dispatched in month d, reported by the producer as 外供 of month d, and
    declared by the recycler in any month (a share of 0–130 % of the weighed tonnes: beyond 100 % is refused).
    Whatever the declaration months, the counted utilisation is exactly what the producer reported."""
    import sqlalchemy as sa

    from app.services import shipments
    from models import Shipment

    prefecture = f"8{next(_counter):05d}"
    plant = FacilityFactory(prefecture_code=prefecture)
    recycler_user = UserFactory(role="recycler")
    recycler = FacilityFactory(kind="recycler", prefecture_code="230100", organization=recycler_user.organization)
    supplied = {1: D(0), 2: D(0), 3: D(0)}
    declarations = []
    for dispatched, received, declared_in, share in loads:
        delivery(plant, recycler, "coal_gangue", received=D(received), declared=D(0))
        load = reference.session.scalar(sa.select(Shipment).order_by(Shipment.id.desc()).limit(1))
        load.dispatched_at = load.received_at = dt.datetime(2025, dispatched, 10, 4, 0)
        supplied[dispatched] += received
        declarations.append((load.award_id, D(received) * share / 100, dt.date(2025, declared_in, 1)))
    reference.session.commit()
    reported = D(0)
    for month, (self_used, stored) in enumerate(own, start=1):
        GenerationReportFactory(facility=plant, period=dt.date(2025, month, 1), generated_t=self_used + stored,
                                self_utilised_t=self_used, stored_t=stored, supplied_t=supplied[month],
                                from_storage_t=supplied[month])  # the loads came out of the producer's stockpile
        reported += self_used + supplied[month]
    for award_id, tonnes, month in declarations:
        tonnes = tonnes.quantize(D("0.001"))
        if tonnes <= 0:
            continue
        received = shipments.received_total(reference.session, award_id)
        if tonnes > received:
            with pytest.raises(ServiceError):
                shipments.declare_utilisation(reference.session, recycler_user, award_id, "cement", tonnes, month)
        else:
            shipments.declare_utilisation(reference.session, recycler_user, award_id, "cement", tonnes, month)
    total = utilisation.year_table(reference.session, Scope("prefecture", prefecture_code=prefecture), 2025).total
    assert total["utilised_t"] == reported
    assert total["from_storage_t"] == sum(supplied.values())
    if total["rate"] is not None:
        assert total["rate"] <= 1


def test_the_rollup_follows_a_report_replaced_and_a_rollback(reference):
    user = UserFactory(role="producer")
    plant = _daqing(organization=user.organization)
    scope = Scope("base", base=resource_base("daqing"))
    generation_reports.file_report(reference.session, user, _report(plant, self_utilised_t=D(100)))
    generation_reports.file_report(reference.session, user, _report(plant, self_utilised_t=D(40), stored_t=D(60)))
    assert _daqing_row(reference.session)["utilised_t"] == D(40)
    reference.session.add(GenerationReportFactory.build(facility=plant, period=dt.date(2025, 4, 1),
                                                        generated_t=D(900)))
    reference.session.flush()
    reference.session.rollback()
    assert _daqing_row(reference.session)["generated_t"] == D(100)
    assert utilisation.rollup_sums(reference.session, scope, dt.date(2025, 1, 1), dt.date(2026, 1, 1)) == \
        utilisation.report_sums(reference.session, scope, dt.date(2025, 1, 1), dt.date(2026, 1, 1))


def test_only_evaluations_dated_within_the_plan_period_count_toward_the_300(reference):
    from app.services import evaluations
    from models import EnterpriseEvaluation
    from tests.factories import OrganizationFactory

    for day in (dt.date(2019, 5, 1), dt.date(2021, 1, 1), dt.date(2025, 12, 31), dt.date(2026, 1, 2)):
        reference.session.add(EnterpriseEvaluation(organization_id=OrganizationFactory().id, status="evaluated",
                                                   evaluated_on=day))
    reference.session.commit()
    found = evaluations.progress(reference.session)
    assert found["by_status"]["evaluated"] == 4 and found["evaluated"] == 2
    assert (found["from_year"], found["year"]) == (2021, 2025)


def test_rebuild_rollup_recomputes_what_bulk_writes_bypassed(reference, runner):
    import sqlalchemy as sa

    from models import GenerationReport, UtilisationRollup

    plant = _daqing()
    GenerationReportFactory(facility=plant, period=MARCH, generated_t=D(1000), self_utilised_t=D(400),
                            stored_t=D(600))
    delivery(_daqing(), _recycler(), "coal_gangue", received=D(2000), period=MARCH)
    # A bulk write outside the ORM leaves the rollup stale…
    reference.session.execute(sa.update(GenerationReport).values(generated_t=D(3000), stored_t=D(2600)))
    reference.session.commit()
    assert _daqing_row(reference.session)["generated_t"] == D(1000)
    # …until the rollup is rebuilt.
    result = runner.invoke(args=["rebuild-rollup"])
    assert result.exit_code == 0, result.output
    row = _daqing_row(reference.session)
    assert (row["generated_t"], row["utilised_t"], row["rate"]) == (D(3000), D(2400), D("0.4800"))
    assert reference.session.scalar(sa.select(sa.func.count(UtilisationRollup.id))) == 1


def test_load_reference_fills_an_empty_rollup_of_an_upgraded_database(reference, runner):
    import sqlalchemy as sa

    from models import UtilisationRollup

    GenerationReportFactory(facility=_daqing(), period=MARCH, generated_t=D(100), self_utilised_t=D(100))
    reference.session.execute(sa.delete(UtilisationRollup))  # as after `alembic upgrade` to 0013
    reference.session.commit()
    result = runner.invoke(args=["load-reference"])
    assert result.exit_code == 0 and "rollup built" in result.output
    assert _daqing_row(reference.session)["rate"] == D("1.0000")
    assert "rollup built" not in runner.invoke(args=["load-reference"]).output  # only once


# ----------------------------------------------------------------------------- top producers (yearly facility rollup)

def _top(session, year=2025):
    scope = Scope("base", base=resource_base("daqing"))
    fast = utilisation.top_producers(session, scope, year)
    assert fast == utilisation.top_producers_direct(session, scope, year)  # the rollup equals the raw rows
    return [(r["facility_id"], r["generated_t"], r["utilised_t"], r["rate"]) for r in fast]


def test_top_producers_from_the_yearly_rollup_match_a_hand_computation(reference):
    # a: March 1,000 generated, 400 self-utilised, 600 stored; April 500 generated, all self-utilised.
    #    → generated 1,500, utilised 900, rate 900 / 1,500 = 0.6000.
    # b: no report, sells 2,000 t of stockpile on the platform → 2,000 / (0 + 2,000) = 1.0000.
    # c: March 3,000 generated, all stored → 0 / 3,000 = 0.0000. A Jixi plant of 9,000 t is not Daqing's.
    # 2024 figures of a stay out of 2025.
    a, b, c = _daqing(), _daqing(), _daqing()
    GenerationReportFactory(facility=a, period=MARCH, generated_t=D(1000), self_utilised_t=D(400), stored_t=D(600))
    GenerationReportFactory(facility=a, period=dt.date(2025, 4, 1), generated_t=D(500), self_utilised_t=D(500))
    GenerationReportFactory(facility=a, period=dt.date(2024, 4, 1), generated_t=D(7000), self_utilised_t=D(7000))
    delivery(b, _recycler(), "coal_gangue", received=D(2000), period=MARCH)
    GenerationReportFactory(facility=c, period=MARCH, generated_t=D(3000), stored_t=D(3000))
    jixi = resource_base("jixi")
    GenerationReportFactory(facility=FacilityFactory(base_id=jixi.id, prefecture_code=jixi.prefecture_code),
                            period=MARCH, generated_t=D(9000), stored_t=D(9000))
    assert _top(reference.session) == [(c.id, D(3000), D(0), D("0.0000")), (a.id, D(1500), D(900), D("0.6000")),
                                       (b.id, D(0), D(2000), D("1.0000"))]
    assert _top(reference.session, 2024) == [(a.id, D(7000), D(7000), D("1.0000"))]


def test_top_producers_follow_a_replaced_report_a_rollback_and_a_move_to_another_base(reference):
    user = UserFactory(role="producer")
    plant = _daqing(organization=user.organization)
    generation_reports.file_report(reference.session, user, _report(plant, self_utilised_t=D(100)))
    generation_reports.file_report(reference.session, user, _report(plant, self_utilised_t=D(40), stored_t=D(60)))
    assert _top(reference.session) == [(plant.id, D(100), D(40), D("0.4000"))]
    reference.session.add(GenerationReportFactory.build(facility=plant, period=dt.date(2025, 4, 1),
                                                        generated_t=D(900)))
    reference.session.flush()
    reference.session.rollback()
    assert _top(reference.session) == [(plant.id, D(100), D(40), D("0.4000"))]
    jixi = resource_base("jixi")
    plant.base_id, plant.prefecture_code = jixi.id, jixi.prefecture_code  # keyed by facility: no rebuild needed
    reference.session.commit()
    assert _top(reference.session) == []


def test_rebuild_and_load_reference_restore_the_yearly_facility_rollup(reference, runner):
    import sqlalchemy as sa

    from models import FacilityYearRollup, GenerationReport

    plant = _daqing()
    GenerationReportFactory(facility=plant, period=MARCH, generated_t=D(1000), self_utilised_t=D(400),
                            stored_t=D(600))
    reference.session.execute(sa.update(GenerationReport).values(generated_t=D(3000), stored_t=D(2600)))
    reference.session.commit()
    assert _daqing_top_generated(reference.session) == D(1000)  # a bulk write bypassed the rollup…
    assert runner.invoke(args=["rebuild-rollup"]).exit_code == 0  # …until it is rebuilt
    assert _top(reference.session) == [(plant.id, D(3000), D(400), D("0.1333"))]
    reference.session.execute(sa.delete(FacilityYearRollup))  # as after `alembic upgrade` to 0028
    reference.session.commit()
    result = runner.invoke(args=["load-reference"])
    assert result.exit_code == 0 and "rollup built" in result.output
    assert _top(reference.session) == [(plant.id, D(3000), D(400), D("0.1333"))]


def _daqing_top_generated(session):
    [row] = utilisation.top_producers(session, Scope("base", base=resource_base("daqing")), 2025)
    return row["generated_t"]
