"""Who may do what: every role set named once, and the predicates pages, the API and jobs all ask.

A predicate takes the acting user (an ORM `User`, or anything with its attributes) and the object in question
and answers True or False; it never raises. Pages turn a "no" into 403 (`app.permissions.allowed`), the API
into a 403 problem document (`app.api.auth.require`), services and jobs into `PermissionDenied` (`require`).
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from app.services.errors import PermissionDenied

if TYPE_CHECKING:
    from models import Allocation, Award, Facility, Lot, Organization, ResourceBase, User, WasteCategory

# ----------------------------------------------------------------------------- role sets, each named once

ADMIN = "admin"
PRODUCER, RECYCLER, CARRIER = "producer", "recycler", "carrier"
BASE_OFFICER, REGULATOR = "base_officer", "regulator"
TRADERS = frozenset({PRODUCER, RECYCLER, CARRIER})
PARTIES = frozenset({PRODUCER, RECYCLER})  # the two sides of an allocation and award
OFFICIALS = frozenset({BASE_OFFICER, REGULATOR})  # see statistics (officers: of their base only)
PROVINCE_WIDE = frozenset({REGULATOR, ADMIN})  # act for the whole province
# Organisation roles a stranger may register for; officials' accounts are invited by an administrator.
SELF_REGISTERED_ORG_ROLES = (PRODUCER, RECYCLER, CARRIER)
INVITED_USER_ROLES = (BASE_OFFICER, REGULATOR)
# The user's role follows from the organisation role it registers or is invited for.
USER_ROLE_FOR_ORG_ROLE = {PRODUCER: PRODUCER, RECYCLER: RECYCLER, CARRIER: CARRIER,
                          "base_operator": BASE_OFFICER, REGULATOR: REGULATOR}
ORG_ROLE_FOR_USER_ROLE = {v: k for k, v in USER_ROLE_FOR_ORG_ROLE.items()}

LOT_PUBLIC_STATUSES = ("open", "matched", "awarded", "shipping", "delivered", "utilised")
LOT_BIDDABLE_STATUSES = ("open", "matched")


# ----------------------------------------------------------------------------- who someone is


def is_admin(user: User | None) -> bool:
    """An active administrator."""
    return user is not None and user.active and user.role == ADMIN


def acts(user: User | None) -> bool:
    """A signed-in, active user whose organisation is verified: nobody acts before verification."""
    return user is not None and user.active and (user.role == ADMIN or bool(user.organization.verified))


def has_role(user: User | None, *roles: str) -> bool:
    """A user who acts, in one of `roles` (administrators pass every role check)."""
    return acts(user) and (user.role == ADMIN or user.role in roles)


def same_org(user: User, organization_id: int | None) -> bool:
    """Whether the user belongs to that organisation."""
    return organization_id is not None and user.organization_id == organization_id


# ----------------------------------------------------------------------------- trading


def may_trade(user: User | None, role: str | None = None) -> bool:
    """Trade in `role` (or in any trading role) for a verified organisation."""
    return has_role(user, role) if role else has_role(user, *TRADERS)


def may_produce(user: User | None) -> bool:
    """Post lots, dispatch loads, file reports: producers of verified organisations."""
    return has_role(user, PRODUCER)


def may_recycle(user: User | None) -> bool:
    """Bid, keep demand profiles, weigh loads in: recyclers of verified organisations."""
    return has_role(user, RECYCLER)


def is_party(user: User | None) -> bool:
    """A producer or recycler (of a verified organisation): the two sides of allocations and awards."""
    return has_role(user, *PARTIES)


def may_manage_facility(user: User | None, facility: Facility | None = None) -> bool:
    """Add facilities (None) or edit this one: producers and recyclers of their own organisation."""
    if not has_role(user, PRODUCER, RECYCLER):
        return False
    return facility is None or user.role == ADMIN or same_org(user, facility.organization_id)


def may_manage_lot(user: User | None, lot: Lot | None = None) -> bool:
    """Post lots (None) or edit, withdraw and document this one: its producer (and administrators)."""
    if not has_role(user, PRODUCER):
        return False
    return lot is None or user.role == ADMIN or same_org(user, lot.facility.organization_id)


def may_see_lot(user: User | None, lot: Lot) -> bool:
    """Everyone sees a traded or open lot; a draft or withdrawn one only its producer."""
    if lot.status in LOT_PUBLIC_STATUSES:
        return True
    return user is not None and (user.role == ADMIN or same_org(user, lot.facility.organization_id))


def may_bid_on(user: User | None, lot: Lot | None = None) -> bool:
    """Bid (None: at all) or bid on this lot: recyclers of verified organisations, while the lot takes bids."""
    return may_trade(user, RECYCLER) and (lot is None or lot.status in LOT_BIDDABLE_STATUSES)


def may_see_bid_count(user: User | None, lot: Lot) -> bool:
    """How many sealed bids a lot has is its producer's business only."""
    return user is not None and (user.role == ADMIN or same_org(user, lot.facility.organization_id))


def allocation_sides(user: User, allocation: Allocation) -> set[str]:
    """Which sides of an allocation the user's organisation is on: producer, recycler, both or none."""
    out = set()
    if same_org(user, allocation.lot.facility.organization_id):
        out.add(PRODUCER)
    if same_org(user, allocation.facility.organization_id):
        out.add(RECYCLER)
    return out


def may_decide_allocation(user: User | None, allocation: Allocation | None = None) -> bool:
    """Accept or decline an allocation for the side(s) the user's verified organisation is on."""
    if not has_role(user, *PARTIES):
        return False
    return allocation is None or user.role == ADMIN or bool(allocation_sides(user, allocation))


def may_see_allocation(user: User | None, allocation: Allocation) -> bool:
    """Prices of an allocation: its two parties, the province, and the officer of a base either end lies in."""
    if not acts(user):
        return False
    if user.role in PROVINCE_WIDE or allocation_sides(user, allocation):
        return True
    ends = {allocation.lot.facility.base_id, allocation.facility.base_id}
    return user.role == BASE_OFFICER and user.organization.base_id is not None and user.organization.base_id in ends


def may_see_awards(user: User | None) -> bool:
    """Award pages at all: the parties (their own) and the province (every one); see may_see_award."""
    return has_role(user, *PARTIES, REGULATOR)


def may_see_allocations(user: User | None) -> bool:
    """Allocation pages at all: parties and officials; which ones, see may_see_allocation."""
    return has_role(user, *PARTIES, *OFFICIALS)


def may_see_award(user: User | None, award: Award) -> bool:
    """An award is its parties' and the province's."""
    if not acts(user):
        return False
    return user.role in PROVINCE_WIDE or bool(allocation_sides(user, award.allocation))


# ----------------------------------------------------------------------------- carriers


def may_carry(organization: Organization | None, category: WasteCategory | None = None,
              today: dt.date | None = None) -> bool:
    """Whether an organisation may be named carrier of, or dispatch, a load (of `category`, when known).

    A verified organisation with the carrier role; hazardous categories also need `carries_hazardous`.
    """
    if organization is None or not organization.verified or CARRIER not in organization.role_names:
        return False
    return category is None or not category.hazardous or carries_hazardous(organization, category, today)


def carries_hazardous(organization: Organization, category: WasteCategory, today: dt.date | None = None) -> bool:
    """A hazardous load moves only with a carrier whose road dangerous-goods transport permit (道路危险货物运输许可证,
    危险废物转移管理办法 2021) is on record with its number and is valid on `today`."""
    today = today or dt.date.today()
    return (bool((organization.dg_permit_no or "").strip()) and organization.dg_permit_valid_until is not None
            and organization.dg_permit_valid_until >= today)


def may_keep_permit(user: User | None) -> bool:
    """Record the organisation's dangerous-goods transport permit: its carriers."""
    return has_role(user, CARRIER)


def may_export_manifests(user: User | None) -> bool:
    """Export hazardous-load manifests: the three parties of a transfer (their own loads) and the province (all)."""
    return has_role(user, PRODUCER, RECYCLER, CARRIER, REGULATOR)


def may_see_manifests(user: User | None) -> bool:
    """The loads assigned to a carrier organisation."""
    return has_role(user, CARRIER)


# ----------------------------------------------------------------------------- oversight


def may_view_statistics(user: User | None) -> bool:
    """Dashboards, warnings, scenarios and the evaluation register: officials (their scope) and administrators."""
    return has_role(user, *OFFICIALS)


def may_oversee(user: User | None, base: ResourceBase | None = None) -> bool:
    """See and act for a base (`base`) or the whole province (None): the province, or the base's own officer."""
    if not acts(user):
        return False
    if user.role in PROVINCE_WIDE:
        return True
    return user.role == BASE_OFFICER and base is not None and user.organization.base_id == base.id


def may_act_for_province(user: User | None) -> bool:
    """Province-wide actions: targets, the evaluation register, clearings of the whole province."""
    return has_role(user, *PROVINCE_WIDE)


def may_start_clearing(user: User | None, base: ResourceBase | None = None) -> bool:
    """Start a clearing of a base (`base`) or of the whole province (None)."""
    return may_oversee(user, base) if base is not None else may_act_for_province(user)


def may_see_clearing(user: User | None) -> bool:
    """Clearing runs and their totals: officials and administrators (allocations filtered by may_see_allocation)."""
    return has_role(user, *OFFICIALS)


def may_edit_register(user: User | None) -> bool:
    """The enterprise evaluation register is the province's."""
    return may_act_for_province(user)


def may_set_targets(user: User | None) -> bool:
    """Utilisation targets are set by the province."""
    return may_act_for_province(user)


def may_file_reports(user: User | None, facility: Facility | None = None) -> bool:
    """File generation reports (for this facility): producers of their own organisation."""
    if not has_role(user, PRODUCER):
        return False
    return facility is None or user.role == ADMIN or same_org(user, facility.organization_id)


def may_read_reports(user: User | None) -> bool:
    """Read generation reports: producers (their own) and the province (everyone's)."""
    return has_role(user, PRODUCER, REGULATOR)


def may_declare_utilisation(user: User | None) -> bool:
    """Declare what received material became: recyclers."""
    return has_role(user, RECYCLER)


def may_read_declarations(user: User | None) -> bool:
    """Read utilisation declarations: parties (their own) and the province (every one)."""
    return has_role(user, PRODUCER, RECYCLER, REGULATOR)


def sees_every_record(user: User | None) -> bool:
    """Whether lists show every organisation's records (the province) rather than the user's own."""
    return acts(user) and user.role in PROVINCE_WIDE


def may_administer(user: User | None) -> bool:
    """Verify organisations, invite officials, keep the catalogue."""
    return is_admin(user)


# ----------------------------------------------------------------------------- enforcement for services and jobs


def require(allowed: bool, message: str | None = None) -> None:
    """Raise PermissionDenied unless `allowed` (services and jobs; views and the API have their own wrappers)."""
    if not allowed:
        from flask_babel import gettext as _

        raise PermissionDenied(message or _("You do not have permission to do that."))


def refusal_reason(user: User | None) -> str | None:
    """Why a signed-in user is refused everything, if that is the reason: an unverified organisation."""
    from flask_babel import gettext as _

    if user is not None and user.active and user.role != ADMIN and not user.organization.verified:
        return _("Your organisation must be verified before it can trade.")
    return None
