"""Every page, for every role, at 1366 and 375 px: each opens (200), passes axe-core (WCAG 2.1
A and AA), gives every data table its header cells, and is photographed into
test-artifacts/screenshots/pages/ for people to look at (CI keeps the folder as an artefact).

The pages are the ones each role reaches from its menu and its worklists in the demo: the
lists, one document of each kind it may open, the forms it uses; the public side for visitors.
"""

import re

import pytest
import sqlalchemy as sa

from portal.core.extensions import db
from portal.demo.cli import demo_password
from portal.inspections.models import Inspection, RectificationItem
from tests.browser.conftest import SCREENSHOTS, assert_accessible

pytestmark = pytest.mark.browser

PAGES = SCREENSHOTS / "pages"
WIDTHS = (1366, 375)
COMMON = ("/", "/account", "/notifications", "/inspections/", "/workflows/")


def demo_ids(app) -> dict:
    with app.app_context():
        inspection = db.session.scalar(sa.select(Inspection.id).order_by(Inspection.id))
        items = db.session.execute(
            sa.select(
                RectificationItem.id, RectificationItem.state, RectificationItem.publication_state
            ).order_by(RectificationItem.id)
        ).all()
        by_state = {}
        for item_id, state, publication in items:
            by_state.setdefault(state, item_id)
            if publication == "published":
                by_state.setdefault("published", item_id)
        from portal.accounts.operations import find_user

        return {"inspection": inspection, **by_state, "user": find_user("staff").id}


def pages_for(role: str, ids: dict) -> list[str]:
    i, item = ids["inspection"], ids
    documents = [f"/inspections/{i}", f"/items/{item['in_progress']}", f"/items/{item['pending_review']}"]
    return {
        "office": [
            *COMMON,
            *documents,
            f"/items/{item['completed']}",
            f"/inspections/{i}/notice",
            f"/versions/item/{item['in_progress']}",
            f"/sharing/item/{item['in_progress']}",
            "/inspections/new",
            "/inspections/import",
            "/inspections/import-ledger",
            "/feedback/",
            "/dashboard",
            "/admin/departments",
            "/worklists/overdue",
            "/worklists/follow_up_checks",
            "/worklists/extensions_to_decide",
            f"/items/{item['in_progress']}/edit",
        ],
        "leader": [
            *COMMON,
            *documents,
            "/worklists/awaiting_review",
            "/dashboard",
            "/audit/",
            "/worklists/extensions_to_decide",
        ],
        "staff": [
            *COMMON,
            f"/inspections/{i}",
            f"/items/{item['assigned']}",
            f"/items/{item['in_progress']}",
            "/worklists/my_items",
            "/worklists/forwarded_feedback",
            f"/items/{item['in_progress']}/edit",
        ],
        "auditor": [
            *COMMON,
            f"/inspections/{i}",
            f"/items/{item['completed']}",
            "/audit/",
            "/audit/verify",
            f"/audit/items/{item['completed']}",
            "/feedback/",
            "/dashboard",
        ],
        "admin": [
            *COMMON,
            "/admin/users",
            "/admin/users/new",
            f"/admin/users/{ids['user']}",
            "/admin/departments",
        ],
        "public": [
            "/login",
            "/public/",
            f"/public/inspections/{i}",
            f"/public/items/{item['published']}",
            f"/public/inspections/{i}/notice",
            f"/public/inspections/{i}/items/{item['published']}/feedback",
            "/public/feedback/lookup",
        ],
    }[role]


def shot_name(role: str, path: str, width: int) -> str:
    slug = re.sub(r"[^\w]+", "_", path.strip("/")) or "home"
    return f"{role}__{slug}__{width}.png"


@pytest.mark.parametrize("role", ["office", "leader", "staff", "auditor", "admin", "public"])
def test_every_page_of_a_role_opens_is_accessible_and_is_photographed(app, page, role):
    ids = demo_ids(app)
    if role != "public":
        page.goto("/login")
        page.fill("input[name=login]", role)
        page.fill("input[name=password]", demo_password(role))
        page.click("#login-form [type=submit]")
    PAGES.mkdir(parents=True, exist_ok=True)
    for path in pages_for(role, ids):
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900 if width > 400 else 800})
            response = page.goto(path)
            assert response.status == 200, (role, path, response.status)
            headless = page.evaluate(
                "() => [...document.querySelectorAll('main table')]"
                ".filter(t => !t.querySelector('th')).length"
            )
            assert headless == 0, f"{role} {path}: a data table without header cells"
            assert_accessible(page, f"{role} {path} at {width}px")
            page.screenshot(path=str(PAGES / shot_name(role, path, width)), full_page=True)
