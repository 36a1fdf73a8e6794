"""Journey: the office sends a 催办 on an item; its staff sees the bell, opens the notification
and reaches the item, where the chase stands in the timeline."""

import re

import pytest
import sqlalchemy as sa

from portal.core.extensions import db
from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.browser.playwright_api import expect

pytestmark = pytest.mark.browser

NOTE = "请于本周五前报送整改进展和佐证材料。"


def _in_progress_item(app) -> tuple[int, str]:
    from portal.inspections.models import RectificationItem

    with app.app_context():
        item = db.session.scalar(
            sa.select(RectificationItem)
            .where(RectificationItem.state == "in_progress")
            .order_by(RectificationItem.id)
        )
        return item.id, item.title


def test_office_chases_and_the_staff_follows_the_bell(page, app):
    item_id, title = _in_progress_item(app)
    sign_in(page, "staff")
    before = int(page.locator("#bell [data-unread]").inner_text())

    sign_in(page, "office")
    page.goto(f"/items/{item_id}")
    page.fill("#chase textarea[name=text]", NOTE)
    page.click("#chase [type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("已对事项")
    expect(page.locator('#timeline [data-kind="chase"]').first).to_contain_text(NOTE)

    sign_in(page, "staff")
    bell = page.locator("#bell")
    expect(bell.locator("[data-unread]")).to_have_text(str(before + 1))
    assert bell.get_attribute("aria-label") == f"通知：{before + 1} 条未读"
    bell.click()
    newest = page.locator("#notifications li").first
    expect(newest).to_have_attribute("data-kind", "chase")
    expect(newest).to_have_attribute("data-unread", "yes")
    expect(newest).to_contain_text(f"事项“{title}”被催办。")
    expect(newest).to_contain_text(NOTE)
    expect(newest).to_contain_text("来自")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "chase_journey_notifications.png"), full_page=True)

    newest.locator(".notification-message").click()
    expect(page).to_have_url(re.compile(rf"/items/{item_id}#timeline$"))
    chase = page.locator('#timeline [data-kind="chase"]').first
    expect(chase).to_contain_text("催办")
    expect(chase).to_contain_text(NOTE)
    expect(chase).to_contain_text("王芳（巡察整改办）")  # who sent it
    expect(page.locator("#bell [data-unread]")).to_have_text(str(before))  # opened, so read
    assert page.locator("#chase").count() == 0  # staff do not chase
    chase.scroll_into_view_if_needed()
