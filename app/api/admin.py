"""API resource: the administrator's review of organisations — list, verify or un-verify."""
from __future__ import annotations

from app import policy
from app.api import more_schemas, pagination, schemas
from app.api.auth import current_user
from app.api.blueprint import get_or_404, op
from app.extensions import db
from app.services import accounts
from models import Organization


def organization_out(org: Organization) -> more_schemas.OrganizationReview:
    """An organisation with its roles and verification."""
    return more_schemas.OrganizationReview(
        id=org.id, name=org.name, credit_code=org.credit_code, roles=sorted(r.role for r in org.roles),
        verified=org.verified, verified_at=org.verified_at, base_id=org.base_id, created_at=org.created_at)


@op("GET", "/organizations", summary="Organisations to review", tag="admin", query=schemas.PageQuery,
    response=more_schemas.OrganizationReviewPage, allow=policy.may_administer)
def list_organizations(query: schemas.PageQuery):
    """Every organisation, unverified first (administrators only)."""
    rows = accounts.organizations_for_review(db.session)
    position = pagination.decode(query.cursor, ("offset",))
    start = position["offset"] if position else 0
    page = rows[start:start + query.limit]
    cursor = pagination.encode({"offset": start + query.limit}) if start + query.limit < len(rows) else None
    return more_schemas.OrganizationReviewPage(items=[organization_out(o) for o in page], next_cursor=cursor)


@op("POST", "/organizations/<int:organization_id>/verification", summary="Verify or un-verify an organisation",
    tag="admin", body=more_schemas.VerificationIn, response=more_schemas.OrganizationReview,
    allow=policy.may_administer)
def set_verification(organization_id: int, body: more_schemas.VerificationIn):
    """Verify an organisation so its users may trade, or withdraw the verification (administrators only)."""
    user = current_user()
    get_or_404(Organization, organization_id)
    return organization_out(accounts.set_verified(db.session, user, organization_id, body.verified))
