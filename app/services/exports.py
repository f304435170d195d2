"""Exports of one's own records as CSV or XLSX: my lots, my bids, my allocations, awards and shipments.

Each table is built from the same service queries as the pages (nothing another organisation may not see:
bids are the user's own; allocations, awards and shipments are those the organisation is party to), with
headers in the reader's language and every text cell neutralised against formula injection.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import to_user_timezone

from app import i18n, labels
from app.services import awards, bids, lots, shipments
from app.services.errors import PermissionDenied
from models import Shipment, User

TABLES = ("lots", "bids", "allocations", "awards", "shipments")
# Who may export which table (admins act for their own organisation only, like the pages).
ROLES = {"lots": ("producer",), "bids": ("recycler",), "allocations": ("producer", "recycler"),
         "awards": ("producer", "recycler"), "shipments": ("producer", "recycler")}
LIMIT = 10_000


def _lots(session: so.Session, user: User, locale: str) -> tuple[list[str], list[list]]:
    items, _page = lots.own_lots(session, user, None, 1, LIMIT)
    header = [_("Lot"), _("Title"), _("Category"), _("State"), _("Tonnes"), _("Tonnes left"),
              _("Reserve (yuan/t)"), _("Available from"), _("Available to"), _("Sealed bids"), _("Settle on")]
    rows = [[i.lot.id, lots.display_title(i.lot, locale), i.lot.category.display_name(locale),
             labels.label(labels.LOT_STATE, i.state), i.lot.tonnes, i.lot.remaining_tonnes,
             i.lot.reserve_yuan_per_t, i.lot.available_from, i.lot.available_to, i.bids, i.lot.settle_on]
            for i in items]
    return header, rows


def _bids(session: so.Session, user: User, locale: str) -> tuple[list[str], list[list]]:
    header = [_("Bid"), _("Lot"), _("Category"), _("Facility"), _("Price (yuan/t)"), _("Tonnes"), _("Status")]
    rows = [[b.id, lots.display_title(b.lot, locale) if b.lot else _("Every compatible lot of %(category)s",
                                                                        category=b.category.display_name(locale)),
             b.category.display_name(locale), b.facility.name, b.price_yuan_per_t, b.tonnes,
             labels.label(labels.BID_STATUS, b.status)] for b in bids.own_bids(session, user)[:LIMIT]]
    return header, rows


def _allocations(session: so.Session, user: User, locale: str) -> tuple[list[str], list[list]]:
    desk = awards.desk(session, user)
    header = [_("Allocation"), _("Lot"), _("Producer"), _("Recycler facility"), _("Tonnes"), _("Price (yuan/t)"),
              _("Transport (yuan/t)"), _("Status"), _("Producer"), _("Recycler")]
    rows = [[a.id, lots.display_title(a.lot, locale), a.lot.facility.organization.name, a.facility.name, a.tonnes,
             a.price_yuan_per_t, a.transport_yuan_per_t, labels.label(labels.ALLOCATION_STATUS, a.status),
             labels.label(labels.DECISION, a.producer_decision or ""), labels.label(labels.DECISION,
                                                                                   a.recycler_decision or "")]
            for a in [*desk.proposed, *desk.settled]]
    return header, rows


def _awards(session: so.Session, user: User, locale: str) -> tuple[list[str], list[list]]:
    header = [_("Award"), _("Lot"), _("Tonnes"), _("Dispatched"), _("Received"), _("Settle on"), _("Billed tonnes"),
              _("Recycler pays"), _("Freight"), _("Producer receives"), _("Status")]
    rows = []
    for award in awards.desk(session, user).awards:
        bill = awards.billing(award, shipments.received_total(session, award.id))
        rows.append([award.id, lots.display_title(award.allocation.lot, locale), award.tonnes,
                     award.dispatched_tonnes, bill.received_tonnes, bill.basis, bill.billed_tonnes,
                     bill.billed.recycler_pays_yuan, bill.billed.freight_yuan, bill.billed.producer_receives_yuan,
                     labels.label(labels.AWARD_STATUS, award.status)])
    return header, rows


def _shipments(session: so.Session, user: User, locale: str) -> tuple[list[str], list[list]]:
    award_ids = [a.id for a in awards.desk(session, user).awards]
    loads = session.scalars(sa.select(Shipment).where(Shipment.award_id.in_(award_ids))
                            .order_by(Shipment.id).limit(LIMIT)).all() if award_ids else []
    zone = i18n.zone_label()
    header = [_("Manifest"), _("Award"), _("Vehicle"), _("Carrier"), _("Dispatched"),
              f'{_("Dispatched at")} ({zone})', _("Received"), f'{_("Received at")} ({zone})', _("Difference"),
              _("Status")]
    rows = [[s.manifest_no, s.award_id, s.vehicle_plate, s.carrier.name if s.carrier else "", s.dispatched_tonnes,
             _local(s.dispatched_at), s.received_tonnes, _local(s.received_at), s.discrepancy_pct,
             labels.label(labels.SHIPMENT_STATUS, s.status)] for s in loads]
    return header, rows


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    """A stored UTC time in the display zone, without tzinfo (spreadsheets have no zones; the header names it)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return to_user_timezone(moment).replace(tzinfo=None, microsecond=0)


BUILDERS: dict[str, Callable[[so.Session, User, str], tuple[list[str], list[list]]]] = {
    "lots": _lots, "bids": _bids, "allocations": _allocations, "awards": _awards, "shipments": _shipments,
}


def table(session: so.Session, user: User, what: str, locale: str) -> tuple[list[str], list[list]]:
    """The header and rows of one export for the user's organisation; PermissionDenied for another role."""
    if what not in BUILDERS or (user.role != "admin" and user.role not in ROLES[what]):
        raise PermissionDenied(_("This export is not available to your role."))
    header, rows = BUILDERS[what](session, user, locale)
    if user.organization is not None and user.organization.is_demo:
        rows.append([demo_note()])  # a demo account's records are invented, even under a real enterprise's name
    return header, rows


def demo_note() -> str:
    """The closing row of a file that holds demo organisations' invented records."""
    return _("DEMO DATA: records of demo organisations are invented, not those of the enterprises named.")

