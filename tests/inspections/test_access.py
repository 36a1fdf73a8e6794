"""One declared table: persona × document route → answer, for an item in progress.

Allowed: 200 (pages) or 302 (writes); refused to those who can see the item: 403; refused to
those it is not shared with: 404 (its existence is not confirmed).
"""

import io

import pytest
import sqlalchemy as sa

from portal.core.extensions import db
from portal.evidence.models import Evidence
from portal.inspections.models import Measure
from tests.evidence.test_evidence import PDF
from tests.world import PERSONAS

SEE = set(PERSONAS) - {"staff_other", "admin"}
OFFICE = {"office"}
EDIT = {"office", "staff_resp", "dept_editor"}  # `edit` while assigned / in progress
WORK = {"staff_resp", "dept_editor", "leader_resp"}  # `work` while assigned / in progress

#: (method, path, who is allowed, form data)
ROUTES = [
    ("GET", "/inspections/{inspection}", SEE, None),
    ("GET", "/inspections/{inspection}/edit", OFFICE, None),
    ("GET", "/inspections/{inspection}/categories/new", OFFICE, None),
    ("GET", "/inspections/{inspection}/items/new", OFFICE, None),
    ("GET", "/categories/{category}/edit", OFFICE, None),
    ("GET", "/items/{item}", SEE, None),
    ("GET", "/items/{item}/edit", EDIT, None),
    ("GET", "/measures/{measure}/edit", EDIT, None),
    ("GET", "/evidence/{evidence}/download", SEE, None),
    ("GET", "/versions/item/{item}", SEE, None),
    ("GET", "/versions/measure/{measure}", SEE, None),
    ("POST", "/items/{item}/measures", EDIT, {"label": "五是", "text": "补充措施"}),
    ("POST", "/measures/{measure}/done", WORK, {"done": "y"}),
    ("POST", "/items/{item}/evidence", WORK, {"note": "补充说明"}),
    ("POST", "/evidence/{evidence}/withdraw", WORK, {}),
    ("POST", "/versions/item/{item}/1/revert", EDIT, {}),
]


@pytest.fixture
def ids(app, world, signed_in):
    item_id = world.new_item(state="in_progress")
    office = signed_in("office")
    office.post_form(f"/items/{item_id}/measures", {"label": "一是", "text": "措施"})
    signed_in("staff_resp").post_form(
        f"/items/{item_id}/evidence",
        {"file": (io.BytesIO(PDF), "整改报告.pdf")},
        content_type="multipart/form-data",
    )
    with app.app_context():
        measure = db.session.scalar(sa.select(Measure.id).where(Measure.item_id == item_id))
        evidence = db.session.scalar(
            sa.select(Evidence.id).where(Evidence.item_id == item_id, Evidence.storage_key.is_not(None))
        )
    assert measure and evidence
    return {
        "item": item_id,
        "measure": measure,
        "evidence": evidence,
        "inspection": world.inspections["single"],
        "category": world.categories["single"],
    }


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_document_routes(app, ids, signed_in, persona):
    client = signed_in(persona)
    for method, template, allowed, data in ROUTES:
        path = template.format(**ids)
        if method == "GET":
            response = client.get(path)
            expected = 200 if persona in allowed else (403 if persona in SEE else 404)
        else:
            response = client.post_form(path, data)
            expected = 302 if persona in allowed else (403 if persona in SEE else 404)
        assert response.status_code == expected, (persona, method, path)
