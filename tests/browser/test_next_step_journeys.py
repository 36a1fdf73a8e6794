"""Journeys of the item page's next steps, at desktop and phone width: the staff fill the
submit checklist from the item page and submit; the leader reviews from the awaiting list."""

import re

import pytest
import sqlalchemy as sa

from portal.core.extensions import db
from portal.inspections.models import RectificationItem
from tests.browser.conftest import SCREENSHOTS, sign_in, take_step
from tests.browser.playwright_api import expect
from tests.evidence.test_evidence import PDF

pytestmark = pytest.mark.browser

DESKTOP, PHONE = {"width": 1366, "height": 900}, {"width": 375, "height": 800}


def shots(page, name):
    """The page at desktop width, then at phone width (each also checked by axe-core)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("1366", DESKTOP), ("375", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENSHOTS / f"{name}_{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def test_staff_fill_the_checklist_on_the_item_page_and_the_leader_reviews(app, page):
    with app.app_context():
        item = db.session.scalars(
            sa.select(RectificationItem)
            .where(RectificationItem.state == "assigned")
            .order_by(RectificationItem.id)
        ).first()
        item_id, title, measures = item.id, item.title, len(item.measures)
    assert measures
    page.set_viewport_size(DESKTOP)
    sign_in(page, "staff")
    page.goto(f"/items/{item_id}")
    take_step(page, "start")
    checklist = page.locator("#checklist")
    expect(checklist.locator("[data-check=measures]")).to_have_attribute("data-done", "false")
    expect(checklist.locator("[data-check=evidence]")).to_have_attribute("data-done", "false")
    expect(page.locator("form[data-transition=submit]")).to_have_count(0)
    shots(page, "item_checklist_staff")

    # each unticked line leads to where it is filled in
    checklist.locator("[data-check=measures] a").click()
    expect(page).to_have_url(re.compile(r"#measures$"))
    for _ in range(measures):
        page.locator("#measure-list .measure-toggle[aria-pressed=false]").first.click()
    expect(checklist.locator("[data-check=measures]")).to_have_attribute("data-done", "true")
    checklist.locator("[data-check=evidence] a").click()
    page.set_input_files(
        "#evidence-form input[name=file]",
        files=[{"name": "整改报告.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    page.click("#evidence-form [type=submit]")
    expect(checklist.locator("[data-check=evidence]")).to_have_attribute("data-done", "true")
    page.fill(
        "#summary-form textarea[name=completion_summary]",
        "已完成小型工程项目招标管理制度修订，并组织全员培训。",
    )
    page.click("#summary-form [type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("整改成效已保存")
    expect(page.locator("#checklist [data-done=false]")).to_have_count(0)
    take_step(page, "submit", "请审核。")
    expect(page.locator("#item-state [data-state]")).to_have_text("待审核")
    page.click("#logout")

    # the leader: from the awaiting list, who submitted and when, one comment, approve
    sign_in(page, "leader")
    card = page.locator("[data-worklist=awaiting_review]")
    expect(card.locator(".worklist-note", has_text="今天提交").first).to_be_visible()
    card.get_by_text(title).click()
    expect(page.locator("#submitted-by")).to_contain_text("李强")
    expect(page.locator("#review-panel textarea")).to_have_count(1)
    expect(page.locator("#publication")).to_have_count(0)  # not while it waits for review
    shots(page, "item_review_leader")
    take_step(page, "approve", "材料齐全，同意。")
    expect(page.locator("#item-state [data-state]")).to_have_text("已完成")
    expect(page.locator("#approvals")).to_contain_text("材料齐全，同意。")
    expect(page.locator("#publication form[data-transition=publish]")).to_have_count(1)
    shots(page, "item_completed_leader")
