"""Database constraints reject impossible rows on every engine."""
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from models import GenerationReport, Lot
from tests.factories import BidFactory, FacilityFactory, LotFactory, OrganizationFactory, UserFactory, category


def _flush_fails(db, obj):
    db.session.add(obj)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_lot_tonnes_must_be_positive(reference):
    _flush_fails(reference, LotFactory.build(tonnes=Decimal("0"), remaining_tonnes=Decimal("0"),
                                             facility=FacilityFactory(), category=category("fly_ash")))


def test_lot_remaining_cannot_exceed_tonnes(reference):
    _flush_fails(reference, LotFactory.build(tonnes=Decimal("10"), remaining_tonnes=Decimal("11"),
                                             facility=FacilityFactory(), category=category("fly_ash")))


def test_lot_remaining_cannot_go_negative(reference):
    lot = LotFactory()
    lot.remaining_tonnes = Decimal("-0.001")
    with pytest.raises(IntegrityError):
        reference.session.flush()
    reference.session.rollback()


def test_lot_status_outside_the_life_cycle_is_rejected(reference):
    _flush_fails(reference, LotFactory.build(status="sold", facility=FacilityFactory(), category=category("fly_ash")))


def test_lot_window_must_be_ordered(reference):
    _flush_fails(reference, LotFactory.build(available_from=dt.date(2026, 5, 1), available_to=dt.date(2026, 4, 1),
                                             facility=FacilityFactory(), category=category("fly_ash")))


def test_negative_reserve_prices_are_allowed(reference):
    lot = LotFactory(reserve_yuan_per_t=Decimal("-35.50"))
    reference.session.expire_all()
    assert reference.session.get(Lot, lot.id).reserve_yuan_per_t == Decimal("-35.50")


def test_tonnes_and_money_round_trip_exactly(reference):
    lot = LotFactory(tonnes=Decimal("20000.125"), remaining_tonnes=Decimal("19999.999"),
                     reserve_yuan_per_t=Decimal("12.34"))
    reference.session.expire_all()
    stored = reference.session.get(Lot, lot.id)
    assert (stored.tonnes, stored.remaining_tonnes, stored.reserve_yuan_per_t) == (
        Decimal("20000.125"), Decimal("19999.999"), Decimal("12.34"))
    assert isinstance(stored.tonnes, Decimal)


def test_bid_tonnes_must_be_positive(reference):
    _flush_fails(reference, BidFactory.build(tonnes=Decimal("-5"), lot=LotFactory(), category=category("fly_ash"),
                                             facility=FacilityFactory(kind="recycler")))


def test_credit_codes_are_unique(db):
    first = OrganizationFactory()
    _flush_fails(db, OrganizationFactory.build(credit_code=first.credit_code))


def test_user_role_must_be_known(db):
    _flush_fails(db, UserFactory.build(role="superuser", organization=OrganizationFactory()))


def test_user_emails_are_unique(db):
    UserFactory(email="a@example.com")
    _flush_fails(db, UserFactory.build(email="a@example.com", organization=OrganizationFactory()))


def test_facility_coordinates_must_be_on_earth(db):
    _flush_fails(db, FacilityFactory.build(lat=95.0, organization=OrganizationFactory()))


def test_generation_report_is_unique_per_facility_category_month(reference):
    facility = FacilityFactory()
    fly_ash = category("fly_ash")
    values = dict(generated_t=Decimal(1), stored_t=Decimal(0), self_utilised_t=Decimal(1), disposed_t=Decimal(0),
                  from_storage_t=Decimal(0), period=dt.date(2025, 1, 1))
    reference.session.add(GenerationReport(facility=facility, category=fly_ash, **values))
    reference.session.commit()
    _flush_fails(reference, GenerationReport(facility=facility, category=fly_ash, **values))


def test_lot_needs_an_existing_facility(reference):
    _flush_fails(reference, Lot(facility_id=999_999, category=category("fly_ash"), title="x", tonnes=Decimal(1),
                                remaining_tonnes=Decimal(1), reserve_yuan_per_t=Decimal(0),
                                available_from=dt.date(2026, 1, 1)))
