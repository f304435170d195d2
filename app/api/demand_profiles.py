"""API resource: standing demand profiles of recyclers."""
from __future__ import annotations

from app import policy
from app.api import more_schemas, pagination, schemas
from app.api.auth import current_user
from app.api.blueprint import get_or_404, op
from app.api.errors import ApiError
from app.extensions import db
from app.services import bids
from models import DemandProfile


def profile_out(profile: DemandProfile) -> schemas.DemandProfile:
    """A demand profile as the API shows it."""
    return schemas.DemandProfile(
        id=profile.id, facility_id=profile.facility_id, category=profile.category.code,
        period_start=profile.period_start, period_end=profile.period_end, tonnes=profile.tonnes,
        price_yuan_per_t=profile.price_yuan_per_t, max_haul_km=profile.max_haul_km,
        quality_limits=profile.quality_limits or {}, active=profile.active, created_at=profile.created_at)


@op("GET", "/demand-profiles", summary="List your demand profiles", tag="demand-profiles",
    query=more_schemas.DemandProfileQuery, response=schemas.DemandProfilePage, allow=policy.may_recycle)
def list_profiles(query: more_schemas.DemandProfileQuery):
    """Your organisation's standing demand profiles, optionally only active (or stopped) ones, of a category or
    of one of your facilities."""
    user = current_user()
    rows = [p for p in bids.own_profiles(db.session, user)
            if (query.active is None or p.active == query.active)
            and (query.category is None or p.category.code == query.category)
            and (query.facility_id is None or p.facility_id == query.facility_id)]
    page, cursor = pagination.after_id(rows, query.cursor, query.limit)
    return schemas.DemandProfilePage(items=[profile_out(p) for p in page], next_cursor=cursor)


@op("POST", "/demand-profiles", summary="Create a demand profile", tag="demand-profiles",
    body=schemas.DemandProfileIn, response=schemas.DemandProfile, status=201, allow=policy.may_recycle)
def create_profile(body: schemas.DemandProfileIn):
    """A standing bid for a category over a period, from one of your recycling facilities."""
    user = current_user()
    profile = bids.create_profile(db.session, user, bids.ProfileInput(
        facility_id=body.facility_id, category_code=body.category, period_start=body.period_start,
        period_end=body.period_end, tonnes=body.tonnes, price_yuan_per_t=body.price_yuan_per_t,
        max_haul_km=body.max_haul_km, quality_limits={k: list(v) for k, v in body.quality_limits.items()}))
    return profile_out(profile)


@op("POST", "/demand-profiles/<int:profile_id>/deactivate", summary="Stop a demand profile",
    tag="demand-profiles", response=schemas.DemandProfile, allow=policy.may_recycle)
def deactivate_profile(profile_id: int):
    """Stop a profile from taking part in further clearings."""
    user = current_user()
    profile = get_or_404(DemandProfile, profile_id)
    if profile.facility.organization_id != user.organization_id:
        raise ApiError(404)
    return profile_out(bids.deactivate_profile(db.session, user, profile_id))
