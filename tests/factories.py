"""factory_boy factories: one line makes a valid object in the test database."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
import sqlalchemy as sa
from factory.alchemy import SQLAlchemyModelFactory
from werkzeug.security import generate_password_hash

from app.extensions import db
from models import Bid, DemandProfile, Facility, Lot, Organization, OrganizationRole, User, WasteCategory
from models.credit_code import make_credit_code

PASSWORD = "correct horse battery"
# Hashing is slow by design; every factory user shares one hash of PASSWORD.
_PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class OrganizationFactory(BaseFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"测试企业 {n}")
    credit_code = factory.Sequence(lambda n: make_credit_code(f"91230100MA{n:07d}"))
    verified = True
    roles = factory.LazyFunction(lambda: [OrganizationRole(role="producer")])


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Sequence(lambda n: f"User {n}")
    role = "producer"
    password_hash = _PASSWORD_HASH
    organization = factory.SubFactory(OrganizationFactory)


class FacilityFactory(BaseFactory):
    class Meta:
        model = Facility

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Plant {n}")
    kind = "producer"
    lon = 126.63
    lat = 45.75
    prefecture_code = "230100"


def category(code: str) -> WasteCategory:
    """A catalogue category by code (needs the `reference` fixture)."""
    return db.session.scalar(sa.select(WasteCategory).where(WasteCategory.code == code))


class LotFactory(BaseFactory):
    class Meta:
        model = Lot

    facility = factory.SubFactory(FacilityFactory)
    category = factory.LazyFunction(lambda: category("fly_ash"))
    title = factory.Sequence(lambda n: f"Lot {n}")
    tonnes = Decimal("1000.000")
    remaining_tonnes = factory.LazyAttribute(lambda o: o.tonnes)
    reserve_yuan_per_t = Decimal("10.00")
    # Relative to today so the suite does not start failing when a fixed date passes.
    available_from = factory.LazyFunction(lambda: dt.date.today() - dt.timedelta(days=7))
    status = "open"


class BidFactory(BaseFactory):
    class Meta:
        model = Bid

    lot = factory.SubFactory(LotFactory)
    category = factory.LazyAttribute(lambda o: o.lot.category)
    facility = factory.SubFactory(FacilityFactory, kind="recycler")
    price_yuan_per_t = Decimal("80.00")
    tonnes = Decimal("500.000")


class DemandProfileFactory(BaseFactory):
    class Meta:
        model = DemandProfile

    facility = factory.SubFactory(FacilityFactory, kind="recycler")
    category = factory.LazyFunction(lambda: category("fly_ash"))
    tonnes = Decimal("5000.000")
    price_yuan_per_t = Decimal("70.00")
    period_start = factory.LazyFunction(lambda: dt.date.today() - dt.timedelta(days=30))
    period_end = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=335))


def small_market():
    """A hand-made fly-ash market: one Harbin lot, a near recycler bidding 80 and a far one bidding 70.

    Returns a dict of the rows. Needs the `reference` fixture.
    """
    producer_org = OrganizationFactory(name="哈尔滨热电（测试）")
    producer = UserFactory(email="producer@example.com", organization=producer_org, role="producer")
    lot_facility = FacilityFactory(organization=producer_org, name="Harbin power plant", lon=126.63, lat=45.75)
    lot = LotFactory(facility=lot_facility, title="Fly ash 1000 t", tonnes=Decimal("1000.000"),
                     reserve_yuan_per_t=Decimal("10.00"))
    near_org = OrganizationFactory(name="近水泥厂", roles=[OrganizationRole(role="recycler")])
    near_user = UserFactory(email="near@example.com", organization=near_org, role="recycler")
    near = FacilityFactory(organization=near_org, name="Near cement", kind="recycler", lon=126.70, lat=45.80,
                           max_haul_km=300)
    far_org = OrganizationFactory(name="远水泥厂", roles=[OrganizationRole(role="recycler")])
    far_user = UserFactory(email="far@example.com", organization=far_org, role="recycler")
    far = FacilityFactory(organization=far_org, name="Far cement", kind="recycler", lon=123.95, lat=47.35,
                          prefecture_code="230200", max_haul_km=600)
    near_bid = BidFactory(lot=lot, facility=near, price_yuan_per_t=Decimal("83.21"), tonnes=Decimal("600.000"))
    far_bid = BidFactory(lot=lot, facility=far, price_yuan_per_t=Decimal("70.00"), tonnes=Decimal("1000.000"))
    return {"producer": producer, "lot": lot, "lot_facility": lot_facility, "near_user": near_user, "near": near,
            "far_user": far_user, "far": far, "near_bid": near_bid, "far_bid": far_bid}


def resource_base(code: str):
    """A resource-utilisation base by code (needs the `reference` fixture)."""
    from models import ResourceBase

    return db.session.scalar(sa.select(ResourceBase).where(ResourceBase.code == code))


class GenerationReportFactory(BaseFactory):
    class Meta:
        model = __import__("models").GenerationReport

    facility = factory.SubFactory(FacilityFactory)
    category = factory.LazyFunction(lambda: category("coal_gangue"))
    period = dt.date(2025, 1, 1)
    generated_t = Decimal("100.000")
    stored_t = Decimal("0.000")
    self_utilised_t = Decimal("0.000")
    disposed_t = Decimal("0.000")
    from_storage_t = Decimal("0.000")


def photo_bytes(fmt: str = "PNG", size: tuple[int, int] = (40, 30), exif: bytes | None = None) -> bytes:
    """A real image file (PNG or JPEG) made with Pillow, optionally carrying raw EXIF bytes."""
    import io

    from PIL import Image

    out = io.BytesIO()
    image = Image.new("RGB", size, (120, 110, 100))
    image.save(out, fmt, **({"exif": exif} if exif else {}))
    return out.getvalue()


def delivery(source: Facility, recycler: Facility, code: str, received: Decimal, declared: Decimal | None = None,
             period: dt.date = dt.date(2025, 1, 1)):
    """A platform delivery: a lot of `source` awarded to `recycler`, one load weighed in at `received` tonnes and
    `declared` (default: all received) declared utilised in `period`. Returns the UtilisationRecord (or None)."""
    from models import Allocation, Award, MatchRun, Shipment, UtilisationRecord

    declared = received if declared is None else declared
    lot = LotFactory(facility=source, category=category(code), tonnes=received, remaining_tonnes=Decimal(0),
                     status="delivered")
    run = MatchRun(status="succeeded")
    db.session.add(run)
    db.session.flush()
    money = {name: Decimal(0) for name in ("price_yuan_per_t", "reserve_yuan_per_t", "transport_yuan_per_t",
                                           "transport_cost_yuan", "surplus_yuan")}
    allocation = Allocation(run_id=run.id, lot_id=lot.id, facility_id=recycler.id, tonnes=received,
                            status="accepted", **money)
    db.session.add(allocation)
    db.session.flush()
    award = Award(allocation_id=allocation.id, tonnes=received, dispatched_tonnes=received, status="delivered",
                  **{name: Decimal(0) for name in ("price_yuan_per_t", "freight_yuan_per_t", "netback_yuan_per_t",
                                                   "recycler_pays_yuan", "freight_yuan", "producer_receives_yuan")})
    db.session.add(award)
    db.session.flush()
    db.session.add(Shipment(award_id=award.id, manifest_no=f"T-{award.id}", vehicle_plate="黑A12345",
                            dispatched_tonnes=received, received_tonnes=received, status="received"))
    record = None
    if declared > 0:
        record = UtilisationRecord(award_id=award.id, facility_id=recycler.id, category_id=lot.category_id,
                                   source_facility_id=source.id, product="cement", tonnes=declared, period=period)
        db.session.add(record)
    db.session.commit()
    return record
