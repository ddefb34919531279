"""Property-based requests from /openapi.json against the in-process app: no 5xx, and every
answer matches the documented status codes, content types and schemas."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                               response_schema_conformance,
                                               status_code_conformance)

from plugin.app import get_policy
from plugin.api.webhooks import draft_pending

from .conftest import auth, encode, review_json, signed

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture
def seeded_app(app, client, secret, poster):
    """The app with a few drafted reviews, so ids 1-3 exist for the generated requests."""
    body = encode({"reviews": [review_json(f"seed-{i}") for i in range(3)]})
    client.post("/webhooks/reviews", data=body, headers=signed(secret, body))
    with app.app_context():
        draft_pending(app.extensions["makeright.db"], get_policy())
    return app


def test_api_conforms_to_its_openapi_document(seeded_app, make_token):
    token = make_token("reviews:read", "reviews:write", "replies:approve", "replies:post")
    schema = schemathesis.openapi.from_wsgi("/openapi.json", seeded_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    # Schemathesis leaves out the document's own path (GET /openapi.json).
    assert len(operations) == 11, [op.label for op in operations]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(headers=auth(token), checks=CHECKS)

        check()
