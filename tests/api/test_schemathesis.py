"""Property-based run of the whole API against its own OpenAPI document (schemathesis, bounded examples)."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
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

MAX_EXAMPLES = 15
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@pytest.fixture
def seeded_token(reference):
    """A small market (rows with low ids to find) and an administrator's token, which passes every role check."""
    small_market()
    admin = accounts.create_admin(reference.session, "api-admin@example.com", "API admin", "correct horse battery")
    return token_for(admin)


def test_every_operation_answers_per_its_schema_and_never_500(app, seeded_token):
    """Each operation gets bounded generated cases; every response is checked against the document."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {seeded_token}"}
    failures, statuses = {}, {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None, derandomize=True)
        def check(case):
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        try:
            check()
        except Exception as exc:  # collected so one run reports every failing operation
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:2000]
    assert sum(statuses.get(code, 0) for code in (200, 201, 202)) > 0, statuses
    assert not failures, "\n\n".join(f"{label}\n{text}" for label, text in failures.items())
