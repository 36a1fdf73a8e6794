"""Journey: the office forwards (转办) a public report from the moderation queue to the item's
department; a staff member of that department finds it in the worklist, opens the item and
marks it handled; a visitor reads the item's outcome and may not send an unchosen answer."""

import re

import pytest
import sqlalchemy as sa

from portal.core.extensions import db
from tests.browser.conftest import SCREENSHOTS
from tests.browser.conftest import sign_in as sign_in_through_the_form
from tests.browser.playwright_api import expect

pytestmark = pytest.mark.browser
DESKTOP, PHONE = {"width": 1366, "height": 900}, {"width": 375, "height": 800}


def sign_in(page, login):
    page.set_viewport_size(DESKTOP)
    sign_in_through_the_form(page, login)


def at_both_widths(page, name):
    """Screenshots (axe-checked) at desktop and phone width; nothing wider than the phone."""
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(SCREENSHOTS / f"{name}_1366.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SCREENSHOTS / f"{name}_375.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
    page.set_viewport_size(DESKTOP)


def _pending_report_on_an_item(app):
    from portal.feedback.models import Feedback

    with app.app_context():
        row = db.session.scalars(
            sa.select(Feedback)
            .where(Feedback.moderation_state == "pending", Feedback.item_id.is_not(None))
            .order_by(Feedback.id.desc())
        ).first()
        return row.id, row.item_id, row.item.department.name


def test_office_forwards_a_report_and_the_department_handles_it(page, app):
    feedback_id, item_id, department = _pending_report_on_an_item(app)
    sign_in(page, "office")
    page.goto("/feedback/")
    row = page.locator(f"#feedback-queue [data-feedback='{feedback_id}']")
    expect(row.locator("[data-item-link]")).to_have_attribute("href", f"/items/{item_id}")
    row.locator(f"[data-forward-for='{feedback_id}'] summary").click()
    expect(row.locator("select[name=department_id] option:checked")).to_have_text(department)
    row.locator("textarea[name=note]").fill("请核实后一周内报巡察办。")
    row.locator(f"[data-forward-for='{feedback_id}'] button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text(f"已转办给{department}")
    expect(row.locator("[data-forwarded]")).to_have_attribute("data-forwarded", department)
    at_both_widths(page, "feedback_queue_office")

    sign_in(page, "staff")  # 李强, of 财务科
    card = page.locator("[data-worklist=forwarded_feedback]")
    expect(card.locator("[data-count]")).to_have_text(re.compile(r"[1-9]\d*"))
    card.locator("[data-all=forwarded_feedback]").click()
    expect(page).to_have_url(re.compile(r"/worklists/forwarded_feedback$"))
    expect(page.locator("h1")).to_contain_text("转办给本部门的意见")
    mine = page.locator(f"#worklist [data-feedback='{feedback_id}']")
    expect(mine).to_be_visible()
    at_both_widths(page, "forwarded_feedback_staff")
    mine.locator("[data-item-link]").click()
    expect(page).to_have_url(re.compile(rf"/items/{item_id}$"))
    page.go_back()
    mine.locator("textarea[name=note]").fill("已核实，正在整改。")
    mine.locator("button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text("办理完毕")
    expect(page.locator(f"#worklist [data-feedback='{feedback_id}']")).to_have_count(0)

    page.context.clear_cookies()  # a visitor on the public item page
    page.goto(f"/public/items/{item_id}")
    expect(page.locator("#public-department")).to_have_text(department)
    expect(page.locator("#public-outcome")).to_contain_text("整改成效")
    if page.locator("#fix-check").count():
        expect(page.locator("select[name=answer]")).to_have_value("")
        page.fill("#fix-check textarea[name=comment]", "门口仍有杂物")
        page.click("#fix-send")
        expect(page.locator("#fix-check .invalid-feedback")).to_contain_text("请选择一个答案")
        expect(page.locator("#fix-check textarea[name=comment]")).to_have_value("门口仍有杂物")
    at_both_widths(page, "public_item_outcome")
