"""Chain of custody: dispatch loads against an award, weigh them in, declare what they became."""
from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app import policy
from app.services import audit, hazardous, notifications, periods, quantities
from app.services.awards import refresh_lot_status, sides
from app.services.errors import PermissionDenied, ServiceError
from models import Award, Organization, Shipment, User, UtilisationRecord, utcnow
from models.shipments import PRODUCTS

DISCREPANCY_LIMIT = Decimal("0.02")
# A receipt may exceed the dispatched tonnes by at most this share (moisture, weighbridge tolerance); above, refused.
RECEIPT_TOLERANCE = Decimal("0.10")
HALF_KG = Decimal("0.0005")
# Loosely: a province abbreviation, a letter, then 5 (ordinary) or 6 (new-energy) letters/digits,
# optionally ending in 挂/学/警/港/澳/领/使 — with or without the separating dot or space.
PLATE = re.compile(
    r"^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领][A-Z][·\s-]?[A-Z0-9]{4,6}[挂学警港澳领使]?$"
)


def normalise_plate(plate: str) -> str:
    """Upper-case a plate and drop separators; raise ServiceError when it does not look Chinese."""
    text = (plate or "").strip().upper()
    if not PLATE.match(text):
        raise ServiceError(_("Enter a Chinese vehicle plate such as 黑A·12345."), field="vehicle_plate")
    return re.sub(r"[·\s-]", "", text)


def _award_locked(session: so.Session, award_id: int) -> Award:
    """The award, row-locked on PostgreSQL so concurrent dispatches queue up."""
    award = session.scalar(sa.select(Award).where(Award.id == award_id).with_for_update())
    if award is None:
        raise PermissionDenied(_("No such award."))
    return award


def _hazardous_transfer(session: so.Session, award: Award, carrier: Organization | None,
                        packaging_count: int | None) -> tuple[str, str]:
    """(carrier permit no., receiver licence no.) of a hazardous load, or ServiceError naming what is missing.

    危险废物转移管理办法 (2021): a carrier with a road dangerous-goods transport permit, a receiver whose licence
    covers the waste, no load out of the province without a transfer approval, and the packages on the manifest.
    """
    lot, receiver = award.allocation.lot, award.allocation.facility
    category = lot.category
    if carrier is None:
        raise ServiceError(_("A hazardous load needs a carrier holding a road dangerous-goods transport permit "
                             "(道路危险货物运输许可证)."), field="carrier_organization_id")
    if not policy.may_carry(carrier, category, utcnow().date()):
        raise ServiceError(_("%(carrier)s holds no valid road dangerous-goods transport permit "
                             "(道路危险货物运输许可证): it cannot carry hazardous waste.", carrier=carrier.name),
                           field="carrier_organization_id")
    licence = hazardous.covering_licence(session, receiver.id, category, utcnow().date())
    if licence is None:
        raise ServiceError(_("The receiving facility holds no valid licence for %(category)s any more.",
                             category=category.code))
    if not hazardous.may_go_to(category, lot.transfer_approval_ref, receiver.in_province):
        raise ServiceError(_("This hazardous lot has no cross-province transfer approval: it may only go to a "
                             "receiver in Heilongjiang."))
    if packaging_count is None or not 0 < packaging_count <= hazardous.MAX_PACKAGES:
        raise ServiceError(_("Give the number of packages on the load (1 to %(n)d).", n=hazardous.MAX_PACKAGES),
                           field="packaging_count")
    return carrier.dg_permit_no.strip(), licence.number


def dispatch(session: so.Session, user: User, award_id: int, tonnes: Decimal, vehicle_plate: str,
             carrier_organization_id: int | None = None, packaging_count: int | None = None) -> Shipment:
    """Dispatch a load; the award's dispatched total never exceeds its tonnes, even concurrently.

    A hazardous load also needs a permitted carrier, a licensed receiver, the province rule and its packages."""
    if tonnes is None or (problem := quantities.tonnes_problem(tonnes)):
        raise ServiceError(problem if tonnes is not None else _("Tonnes must be positive."), field="tonnes")
    plate = normalise_plate(vehicle_plate)
    award = _award_locked(session, award_id)
    if "producer" not in sides(award.allocation, user):
        session.rollback()
        raise PermissionDenied(_("Only the producer of the lot dispatches loads."))
    if not user.organization.verified:
        session.rollback()
        raise PermissionDenied(_("Your organisation must be verified before it can trade."))
    if award.status not in ("open", "shipping"):
        session.rollback()
        raise ServiceError(_("This award takes no more loads."))
    carrier = session.get(Organization, carrier_organization_id) if carrier_organization_id is not None else None
    if carrier_organization_id is not None and not policy.may_carry(carrier):
        session.rollback()
        raise ServiceError(_("Choose a verified carrier."), field="carrier_organization_id")
    permit_no = licence_no = None
    if award.allocation.lot.category.hazardous:
        try:
            permit_no, licence_no = _hazardous_transfer(session, award, carrier, packaging_count)
        except ServiceError:
            session.rollback()
            raise
    tonnes = quantities.tonnes(tonnes)
    # Conditional update: only succeeds while the new total stays within the award (SQLite's NUMERIC is
    # floating point, hence half a kilogram of slack and the clamp).
    total = Award.dispatched_tonnes + tonnes
    changed = session.execute(
        sa.update(Award).where(Award.id == award.id, Award.dispatched_tonnes + tonnes <= Award.tonnes + HALF_KG)
        .values(dispatched_tonnes=sa.case((total > Award.tonnes, Award.tonnes), else_=total), status="shipping")
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        session.rollback()
        left = award.tonnes - award.dispatched_tonnes
        raise ServiceError(_("Only %(left)s t of this award are left to dispatch.", left=left), field="tonnes")
    session.refresh(award)
    shipment = Shipment(award_id=award.id, manifest_no=f"tmp-{uuid.uuid4().hex[:20]}",
                        carrier_organization_id=carrier_organization_id, vehicle_plate=plate,
                        dispatched_tonnes=tonnes, status="dispatched", carrier_permit_no=permit_no,
                        receiver_licence_no=licence_no,
                        packaging_count=packaging_count if permit_no is not None else None)
    session.add(shipment)
    session.flush()
    shipment.manifest_no = f"GF-{utcnow().astimezone(periods.BEIJING):%Y%m%d}-{shipment.id:06d}"
    lot = award.allocation.lot
    refresh_lot_status(session, lot)
    audit.record(session, user.id, "shipment", shipment.id, "dispatched", {
        "award": award.id, "manifest": shipment.manifest_no, "tonnes": tonnes, "plate": plate,
        "carrier": carrier_organization_id, "carrier_permit": permit_no, "receiver_licence": licence_no,
        "packages": shipment.packaging_count})
    audit.record(session, user.id, "award", award.id, "dispatched",
                 {"dispatched_tonnes": award.dispatched_tonnes, "status": award.status})
    audit.record(session, user.id, "lot", lot.id, "status", {"status": lot.status})
    notifications.notify_organisation(session, award.allocation.facility.organization_id, "shipment_dispatched",
                                      {"manifest": shipment.manifest_no, "tonnes": tonnes}, f"/awards/{award.id}")
    if carrier_organization_id is not None:
        notifications.notify_organisation(session, carrier_organization_id, "manifest_assigned",
                                          {"manifest": shipment.manifest_no, "tonnes": tonnes}, "/shipments/manifests")
    session.commit()
    notifications.deliver_pending(session)
    return shipment


def receive(session: so.Session, user: User, shipment_id: int, received_tonnes: Decimal,
            disposal_method: str | None = None) -> Shipment:
    """Weigh a load in at the recycler's weighbridge; flag a difference above 2 % to both parties.

    A hazardous load's receiver also states its utilisation/disposal method code for the manifest."""
    shipment = session.scalar(sa.select(Shipment).where(Shipment.id == shipment_id).with_for_update())
    if shipment is None:
        raise PermissionDenied(_("No such shipment."))
    award = shipment.award
    if "recycler" not in sides(award.allocation, user):
        session.rollback()
        raise PermissionDenied(_("Only the receiving recycler weighs loads in."))
    if not user.organization.verified:
        session.rollback()
        raise PermissionDenied(_("Your organisation must be verified before it can trade."))
    if received_tonnes is None or quantities.tonnes_problem(received_tonnes, allow_zero=True):
        session.rollback()
        raise ServiceError(_("Received tonnes cannot be negative."), field="received_tonnes")
    received_tonnes = quantities.tonnes(received_tonnes)
    disposal_method = (disposal_method or "").strip().upper() or None
    if award.allocation.lot.category.hazardous and disposal_method is None:
        session.rollback()
        raise ServiceError(_("Give the utilisation or disposal method code as on the licence, e.g. R4 or D10."),
                           field="disposal_method")
    if problem := hazardous.disposal_problem(disposal_method):
        session.rollback()
        raise ServiceError(problem, field="disposal_method")
    most = quantities.tonnes(shipment.dispatched_tonnes * (1 + RECEIPT_TOLERANCE))
    if received_tonnes > most:
        # A weighbridge can read a few percent high, never a load many times what left the plant: refused,
        # so a typo cannot inflate the utilisation statistics (declarations are capped by what was received).
        session.rollback()
        raise ServiceError(_("%(t)s t left on this load: a receipt above %(most)s t (%(pct)d %% over) is refused; "
                             "check the weighbridge ticket.", t=shipment.dispatched_tonnes, most=most,
                             pct=int(RECEIPT_TOLERANCE * 100)), field="received_tonnes")
    changed = session.execute(
        sa.update(Shipment).where(Shipment.id == shipment.id, Shipment.status == "dispatched")
        .values(status="received", received_tonnes=received_tonnes, received_at=utcnow(),
                disposal_method=disposal_method)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        session.rollback()
        raise ServiceError(_("This load was already received."))
    session.refresh(shipment)
    pct = (abs(received_tonnes - shipment.dispatched_tonnes) / shipment.dispatched_tonnes)
    shipment.discrepancy_pct = quantities.ratio(pct)
    shipment.discrepancy_flagged = pct > DISCREPANCY_LIMIT
    _advance_after_receipt(session, award)
    audit.record(session, user.id, "shipment", shipment.id, "received", {
        "manifest": shipment.manifest_no, "received_tonnes": received_tonnes,
        "discrepancy_pct": shipment.discrepancy_pct, "flagged": shipment.discrepancy_flagged,
        "disposal_method": disposal_method})
    if shipment.discrepancy_flagged:
        params = {"manifest": shipment.manifest_no, "dispatched": shipment.dispatched_tonnes,
                  "received": received_tonnes, "pct": quantities.round_places(pct * 100, 1)}
        allocation = award.allocation
        for org_id in {allocation.lot.facility.organization_id, allocation.facility.organization_id}:
            notifications.notify_organisation(session, org_id, "discrepancy_flagged", params, f"/awards/{award.id}")
    session.commit()
    notifications.deliver_pending(session)
    return shipment


def _advance_after_receipt(session: so.Session, award: Award) -> None:
    """An award whose tonnes are all dispatched and received is delivered."""
    open_loads = session.scalar(sa.select(sa.func.count(Shipment.id)).where(
        Shipment.award_id == award.id, Shipment.status == "dispatched")) or 0
    if award.status == "shipping" and open_loads == 0 and award.dispatched_tonnes >= award.tonnes:
        award.status = "delivered"
        lot = award.allocation.lot
        refresh_lot_status(session, lot)
        audit.record(session, None, "award", award.id, "delivered", {})
        audit.record(session, None, "lot", lot.id, "status", {"status": lot.status})


def received_total(session: so.Session, award_id: int) -> Decimal:
    """Tonnes weighed in against an award."""
    total = session.scalar(sa.select(sa.func.sum(Shipment.received_tonnes)).where(
        Shipment.award_id == award_id, Shipment.status == "received"))
    return Decimal(str(total or 0))


def declared_total(session: so.Session, award_id: int) -> Decimal:
    """Tonnes already declared utilised for an award."""
    total = session.scalar(sa.select(sa.func.sum(UtilisationRecord.tonnes)).where(
        UtilisationRecord.award_id == award_id))
    return Decimal(str(total or 0))


def supply_month(session: so.Session, award_id: int, declared_before: Decimal) -> dt.date | None:
    """The Beijing month in which the producer dispatched the tonnes a new declaration covers: declarations use
    the received loads in the order they were weighed in, so the first load not yet wholly declared; None without
    one. A declaration reaching into a later load counts in the first one's month (docs/statistics.md)."""
    loads = session.execute(sa.select(Shipment.dispatched_at, Shipment.received_tonnes).where(
        Shipment.award_id == award_id, Shipment.status == "received")
        .order_by(Shipment.received_at, Shipment.id))
    received = Decimal(0)
    for dispatched_at, tonnes in loads:
        received += Decimal(str(tonnes or 0))
        if received > declared_before and dispatched_at is not None:
            return periods.beijing_date(dispatched_at).replace(day=1)
    return None


def declare_utilisation(session: so.Session, user: User, award_id: int, product: str, tonnes: Decimal,
                        period: dt.date | None = None) -> UtilisationRecord:
    """Declare what received material became; closes the chain when everything received is declared."""
    award = _award_locked(session, award_id)
    allocation = award.allocation
    if "recycler" not in sides(allocation, user):
        session.rollback()
        raise PermissionDenied(_("Only the recycler declares utilisation."))
    if not user.organization.verified:
        session.rollback()
        raise PermissionDenied(_("Your organisation must be verified before it can trade."))
    if product not in PRODUCTS:
        session.rollback()
        raise ServiceError(_("Choose a product."), field="product")
    if tonnes is None or quantities.tonnes_problem(tonnes):
        session.rollback()
        raise ServiceError(_("Tonnes must be positive."), field="tonnes")
    tonnes = quantities.tonnes(tonnes)
    declared_before = declared_total(session, award.id)
    available = received_total(session, award.id) - declared_before
    if tonnes > available:
        session.rollback()
        raise ServiceError(_("Only %(left)s t received are not yet declared.", left=available), field="tonnes")
    month = (period or utcnow().date()).replace(day=1)
    if not periods.in_window(month):  # statistics count only months inside the reporting window
        session.rollback()
        raise ServiceError(_("The month must lie between %(first)s and %(last)s.",
                             first=f"{periods.FIRST_PERIOD:%Y-%m}", last=f"{periods.last_period():%Y-%m}"),
                           field="period")
    supplied = supply_month(session, award.id, declared_before)
    record = UtilisationRecord(award_id=award.id, facility_id=allocation.facility_id,
                               category_id=allocation.lot.category_id, source_facility_id=allocation.lot.facility_id,
                               product=product, tonnes=tonnes, period=month,
                               supply_period=supplied if supplied and periods.in_window(supplied) else None)
    session.add(record)
    session.flush()
    audit.record(session, user.id, "utilisation", record.id, "declared",
                 {"award": award.id, "product": product, "tonnes": tonnes, "period": month,
                  "supply_period": record.supply_period})
    if award.status == "delivered" and declared_total(session, award.id) >= received_total(session, award.id):
        award.status = "utilised"
        lot = allocation.lot
        refresh_lot_status(session, lot)
        audit.record(session, user.id, "award", award.id, "utilised", {})
        audit.record(session, user.id, "lot", lot.id, "status", {"status": lot.status})
    session.commit()
    return record


def declarations(session: so.Session, user: User, award_id: int | None = None,
                 limit: int = 1000) -> list[UtilisationRecord]:
    """Utilisation declarations newest first: those your organisation made (as recycler) or whose material it
    generated (as producer); regulators and admins see every one. `award_id` narrows to one award."""
    from models import Facility

    stmt = sa.select(UtilisationRecord).order_by(UtilisationRecord.id.desc()).limit(limit)
    if award_id is not None:
        stmt = stmt.where(UtilisationRecord.award_id == award_id)
    if not policy.sees_every_record(user):
        own = sa.select(Facility.id).where(Facility.organization_id == user.organization_id)
        stmt = stmt.where(sa.or_(UtilisationRecord.facility_id.in_(own), UtilisationRecord.source_facility_id.in_(own)))
    return list(session.scalars(stmt))


def award_shipments(session: so.Session, award_id: int) -> list[Shipment]:
    """The loads of an award, oldest first."""
    return list(session.scalars(sa.select(Shipment).where(Shipment.award_id == award_id).order_by(Shipment.id)))


def carrier_manifests(session: so.Session, user: User, limit: int = 200) -> list[Shipment]:
    """The loads a carrier organisation was given to move, newest first."""
    return list(session.scalars(
        sa.select(Shipment).where(Shipment.carrier_organization_id == user.organization_id)
        .order_by(Shipment.id.desc()).limit(limit)))


def carriers(session: so.Session, category=None) -> list[Organization]:
    """Organisations that may carry a load (of `category`): verified ones with the carrier role (app.policy)."""
    from models import OrganizationRole

    found = session.scalars(sa.select(Organization).join(OrganizationRole).where(
        OrganizationRole.role == "carrier", Organization.verified.is_(True)).order_by(Organization.name))
    return [org for org in found if policy.may_carry(org, category)]
