"""A 409 is not a dead end: an edit saved meanwhile by someone else brings the form back with
what the user typed and a table of what changed, and saving again keeps theirs."""

import pytest
import sqlalchemy as sa

from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.demo.cli import demo_password
from portal.inspections.models import RectificationItem
from portal.inspections.operations import update_document
from tests.browser.conftest import SCREENSHOTS
from tests.browser.playwright_api import expect

pytestmark = pytest.mark.browser


def test_an_edit_conflict_keeps_the_input_and_shows_the_change(app, page):
    with app.app_context():
        item = db.session.scalars(
            sa.select(RectificationItem)
            .where(RectificationItem.state == "assigned")
            .order_by(RectificationItem.id)
        ).first()
        item_id = item.id
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto("/login")
    page.fill("input[name=login]", "office")
    page.fill("input[name=password]", demo_password("office"))
    page.click("#login-form [type=submit]")
    page.goto(f"/items/{item_id}/edit")
    page.fill("textarea[name=public_summary]", "已完成整改，相关制度已在官网公开。")
    with app.app_context():  # meanwhile the leader's office saves another title
        update_document(
            Actor.system("test"),
            db.session.get(RectificationItem, item_id),
            {"title": "党建责任落实不到位（已更正）"},
        )
        db.session.commit()
    page.click("#document-form [type=submit]")
    conflict = page.locator("#changed-meanwhile")
    expect(conflict).to_be_visible()
    expect(conflict.locator("[data-changed=title]")).to_contain_text("党建责任落实不到位（已更正）")
    expect(page.locator("textarea[name=public_summary]")).to_have_value("已完成整改，相关制度已在官网公开。")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "edit_conflict_1366.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 800})
    page.screenshot(path=str(SCREENSHOTS / "edit_conflict_375.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.fill("input[name=title]", "党建责任落实不到位（已更正）")  # the user takes the other change in
    page.click("#document-form [type=submit]")
    expect(page.locator(".alert-success")).to_be_visible()
    with app.app_context():
        saved = db.session.get(RectificationItem, item_id)
        assert saved.public_summary == "已完成整改，相关制度已在官网公开。"
        assert saved.title == "党建责任落实不到位（已更正）"
