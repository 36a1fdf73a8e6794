"""schemathesis over every operation of the OpenAPI document, against the app in process: no
answer is a 5xx, and every answer matches what the document says (status, content type,
body schema). Each operation as a caller with a write token and anonymously.

(schemathesis's own pytest plugin does not run on this pytest; its strategies are driven by
Hypothesis here instead, one test per operation.)"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal import create_app
from tests.api.test_api import token

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _labels() -> list[str]:
    """Every operation of the document ("GET /api/items" …), read from an app with no database."""
    app = create_app({"CONFIG": "testing", "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    return sorted(result.ok().label for result in schema.get_all_operations())


LABELS = _labels()


@pytest.fixture
def api_schema(app, world):
    world.new_item(state="in_progress")
    world.new_item(state="published")
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


def _operation(schema, label: str):
    return next(r.ok() for r in schema.get_all_operations() if r.ok().label == label)


def test_every_operation_is_fuzzed():
    assert len(LABELS) >= 10 and "POST /api/items/{item_id}/@workflow/{transition_id}" in LABELS


@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("who", ["token", "anonymous"])
def test_no_server_error_and_no_schema_violation(app, world, api_schema, label, who):
    headers = token(app, world, "office", "write") if who == "token" else {}
    operation = _operation(api_schema, label)

    @given(case=operation.as_strategy())
    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def fuzz(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    fuzz()
