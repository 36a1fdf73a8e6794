"""schemathesis over every operation of the OpenAPI document, against the app in process: no
answer is a 5xx, and every answer matches what the document says (status, content type,
body schema). Each operation as the office, an auditor and an admin (write tokens: the roles
the role-limited endpoints are for) and anonymously.

(schemathesis's own pytest plugin does not run on this pytest; its strategies are driven by
Hypothesis here instead, one test per operation.)"""

from __future__ import annotations

import io

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
from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.evidence.operations import add_evidence_file
from portal.evidence.storage import FileStore
from portal.feedback.operations import submit_feedback
from tests.api.test_api import token
from tests.evidence.test_evidence import PDF

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _labels() -> list[str]:
    """Every operation of the document ("GET /api/items" …), read from an app with no database."""
    app = create_app({"CONFIG": "testing", "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    return sorted(result.ok().label for result in schema.get_all_operations())


LABELS = _labels()


@pytest.fixture
def api_schema(app, world):
    """Something behind every operation: items (one published, with a measure, a file and
    feedback), so that ids the fuzzer tries can be found."""
    world.new_item(state="in_progress")
    published = world.new_item(state="published")
    world.add_measure(published)
    with app.app_context():
        item = world.item(published)
        store = FileStore(app.config["EVIDENCE_DIR"])
        add_evidence_file(Actor.system("test"), item, store, io.BytesIO(PDF), "报告.pdf", ("pdf",))
        submit_feedback(item.inspection, item, kind="clue", text="线索", name="张三")
        db.session.commit()
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


def _operation(schema, label: str):
    return next(r.ok() for r in schema.get_all_operations() if r.ok().label == label)


def test_every_operation_is_fuzzed():
    assert len(LABELS) >= 10 and "POST /api/items/{item_id}/@workflow/{transition_id}" in LABELS


@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("who", ["office", "auditor", "admin", "anonymous"])
def test_no_server_error_and_no_schema_violation(app, world, api_schema, label, who):
    headers = token(app, world, who, "write") if who != "anonymous" else {}
    operation = _operation(api_schema, label)

    @given(case=operation.as_strategy())
    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def fuzz(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    fuzz()


def test_links_lead_from_every_list_to_its_objects():
    """The document's links (what the stateful run follows) point at operations it has."""
    app = create_app({"CONFIG": "testing", "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    spec = app.test_client().get("/api/openapi.json").json
    found = {}
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            if method == "parameters":
                continue
            for name, target in operation["responses"]["200"].get("links", {}).items():
                ref = target["operationRef"].removeprefix("#/paths/")
                to_path, to_method = ref.rsplit("/", 1)
                to_path = to_path.replace("~1", "/").replace("~0", "~")
                assert to_method in spec["paths"][to_path], (path, name)
                found[f"{method.upper()} {path}"] = found.get(f"{method.upper()} {path}", 0) + 1
    assert found["GET /api/items"] == 5 and "GET /api/items/{item_id}/@workflow" in found
    assert {"GET /api/feedback", "GET /api/items/{item_id}/evidence", "GET /api/users"} <= set(found)


@pytest.mark.parametrize("who", ["office", "staff_resp"])
def test_stateful_runs_follow_the_links(app, world, api_schema, who):
    """Sequences of calls along the links (a list, one of its items, its workflow, a transition,
    an edit …) as one caller: never a 5xx, never an answer the document does not describe."""
    headers = token(app, world, who, "write")
    machine = api_schema.as_state_machine()

    class Caller(machine):
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS)

    Caller.run(
        settings=settings(
            max_examples=60,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
    )
