"""Deadline levels (三色) in the browser: the staff member sees the 预警 mark of an item due in
10 days on the home card and on the item page; the office reads every level on the overview."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.core.extensions import db
from portal.core.timeutil import today
from portal.inspections.models import RectificationItem
from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.browser.playwright_api import expect

pytestmark = pytest.mark.browser


def _due_in(app, days: int) -> RectificationItem:
    with app.app_context():
        item = db.session.scalar(
            sa.select(RectificationItem).where(RectificationItem.deadline == today() + timedelta(days=days))
        )
        assert item is not None, "the demo has an item due in 10 days"
        db.session.expunge(item)
        return item


def test_staff_sees_the_warning_on_the_home_card_and_the_item(page, app):
    item = _due_in(app, 10)
    sign_in(page, "staff")
    card = page.locator("[data-worklist=my_items]")
    entry = card.locator("li", has=page.locator(f"a[href='/items/{item.id}']"))
    mark = entry.locator("[data-level]")
    expect(mark).to_have_text("预警")
    expect(mark).to_have_attribute("data-level", "warn")
    # the other levels read on the same card, each with its name
    expect(card.locator("[data-level=interview]").first).to_have_text("约谈")
    expect(card.locator("[data-level=supervise]").first).to_have_text("督办")
    page.screenshot(path=str(SCREENSHOTS / "deadline_home_card.png"), full_page=True)
    entry.locator(f"a[href='/items/{item.id}']").click()
    deadline = page.locator("#item-deadline")
    expect(deadline).to_contain_text((today_of(app) + timedelta(days=10)).isoformat())
    expect(deadline.locator("[data-level]")).to_have_text("预警")
    for measure in page.locator("#measure-list [data-status=open]").all():
        expect(measure.locator("[data-level]")).to_have_text("预警")  # the item's deadline
    page.screenshot(path=str(SCREENSHOTS / "deadline_item_warning.png"), full_page=True)


def test_office_reads_every_level_on_the_overview(page, app):
    item = _due_in(app, 10)
    sign_in(page, "office")
    page.goto(f"/inspections/{item.inspection_id}")
    expect(page.locator("#deadline-settings")).to_contain_text("剩余 10 天起预警")
    for level, text in (("remind", "提醒"), ("warn", "预警"), ("supervise", "督办"), ("interview", "约谈")):
        expect(page.locator(f"[data-level={level}]").first).to_have_text(text)
    page.screenshot(path=str(SCREENSHOTS / "deadline_overview.png"), full_page=True)


def today_of(app):
    with app.app_context():
        return today()
