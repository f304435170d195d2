"""API resource: the token's own user and organisation."""
from __future__ import annotations

from flask import g

from app import policy
from app.api import schemas
from app.api.auth import current_user
from app.api.blueprint import op


@op("GET", "/me", summary="Who this token belongs to", tag="me", response=schemas.Me)
def me():
    """The token's user, organisation, role and whether it may trade."""
    user = current_user()
    org = user.organization
    return schemas.Me(id=user.id, email=user.email, name=user.name, role=user.role, can_trade=policy.may_trade(user),
                      organization=schemas.Organization(id=org.id, name=org.name, verified=org.verified,
                                                        base_id=org.base_id),
                      token=schemas.TokenInfo.model_validate(g.api_token))
