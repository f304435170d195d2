"""Property-based run of the whole API against its own OpenAPI document (schemathesis, bounded examples)."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.services import accounts
from tests.api.conftest import token_for
from tests.factories import small_market

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@pytest.fixture
def seeded_token(reference):
    """A small market (rows with low ids to find) and an administrator's token, which passes every role check."""
    small_market()
    admin = accounts.create_admin(reference.session, "api-admin@example.com", "API admin", "correct horse battery")
    return token_for(admin)


@pytest.fixture
def api_schema(app, seeded_token):
    """The API's schema loaded from the running app (WSGI, no network)."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_per_its_schema_and_never_500(case, seeded_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {seeded_token}"}, checks=CHECKS)
