"""延期申请 journey: the daily supervision pass warns the staff of an item due in 10 days (预警);
they see the mark and the bell, follow the notification to the item and file an extension
before the deadline; the responsible leader approves, then the inspection office; the item's
deadline and its history change, the 预警 mark goes, and the staff is told of the decision."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.core.timeutil import today
from portal.inspections.models import RectificationItem
from portal.supervision.warnings import run_pass
from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.browser.playwright_api import expect

pytestmark = pytest.mark.browser


def _open_item_due_soonest(app):
    """The demo's in-progress item whose deadline is nearest ahead (10 days from the load)."""
    with app.app_context():
        day = today()
        item = db.session.scalars(
            sa.select(RectificationItem)
            .where(RectificationItem.state == "in_progress", RectificationItem.deadline > day)
            .order_by(RectificationItem.deadline)
        ).first()
        return item.id, item.title, item.deadline, day


def _supervision_pass(app, day) -> None:
    """The worker's daily pass (flask supervise run), today."""
    with app.app_context():
        run_pass(Actor.system("supervision"), day)
        db.session.commit()


def test_staff_is_warned_files_an_extension_leader_and_office_approve(app, page):
    item_id, title, deadline, day = _open_item_due_soonest(app)
    new_deadline = (deadline + timedelta(days=30)).isoformat()
    assert (deadline - day).days == 10  # 预警 (warn_days 10)
    sign_in(page, "staff")
    unread = int(page.locator("#bell [data-unread]").inner_text() or 0)
    _supervision_pass(app, day)

    # the staff sees the bell and the 预警 notification, and follows it to the item
    page.goto("/")
    bell = page.locator("#bell")
    expect(bell.locator("[data-unread]")).not_to_have_text(str(unread))
    bell.click()
    warning = page.locator("#notifications li[data-kind=warning]", has_text=title)
    expect(warning).to_have_count(1)
    expect(warning).to_have_attribute("data-unread", "yes")
    expect(warning).to_contain_text("预警")
    expect(warning).to_contain_text(deadline.isoformat())
    page.screenshot(path=str(SCREENSHOTS / "extension_journey_warning_notification.png"), full_page=True)
    warning.locator(".notification-message").click()
    expect(page.locator("#item-deadline")).to_contain_text(deadline.isoformat())
    expect(page.locator("#item-deadline [data-level]")).to_have_text("预警")
    expect(page.locator('#timeline [data-kind="warning"]').first).to_contain_text("预警")
    page.locator("#extension-request summary").click()
    form = page.locator("#extension-form")
    form.locator("[name=proposed_deadline]").fill(deadline.isoformat())  # not later: refused
    form.locator("[name=reason]").fill("涉及区财政局追加预算，需待预算批复后实施")
    form.locator("[name=progress_note]").fill("已完成现场核查和整改方案，待预算批复")
    form.locator("button[type=submit]").click()
    expect(page.locator("#extension-form .invalid-feedback")).to_contain_text("须晚于当前整改时限")
    expect(page.locator("#extension-form [name=reason]")).to_have_value(
        "涉及区财政局追加预算，需待预算批复后实施"
    )
    page.locator("#extension-form [name=proposed_deadline]").fill(new_deadline)
    page.locator("#extension-form button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text("延期申请已提交")
    expect(page.locator("[data-extension]")).to_have_attribute("data-extension-state", "requested")
    expect(page.locator("[data-extension]")).to_contain_text("待责任领导审批")
    expect(page.locator("[data-extension-transition=withdraw]")).to_be_visible()
    expect(page.locator("[data-extension-transition=leader_approve]")).to_have_count(0)

    sign_in(page, "leader")
    card = page.locator("[data-worklist=extensions_to_decide]")
    expect(card.locator("[data-count]")).to_have_text("1")
    card.locator(".list-group-item a").first.click()
    decision = page.locator("form[data-extension-transition=leader_approve]")
    decision.locator("textarea").fill("情况属实，同意延期。")
    decision.locator("button").click()
    expect(page.locator(".alert-success")).to_contain_text("待巡察办审批")
    expect(page.locator("#item-deadline")).to_contain_text(deadline.isoformat())  # not yet

    sign_in(page, "office")
    page.locator("#nav-entries").get_by_text("延期申请", exact=True).click()
    expect(page.locator("#worklist [data-extension]")).to_have_count(1)
    page.locator("#worklist [data-extension] a").click()
    page.locator("form[data-extension-transition=office_approve] button").click()
    expect(page.locator(".alert-success")).to_contain_text("已批准延期")
    expect(page.locator("#item-deadline")).to_contain_text(new_deadline)
    history = page.locator("#deadline-history")
    expect(history.locator("[data-deadline=original]")).to_contain_text(deadline.isoformat())
    extension = history.locator("[data-deadline=extension]")
    expect(extension).to_contain_text(f"由 {deadline.isoformat()} 延期至 {new_deadline}")
    expect(extension.locator("[data-step=leader_approve]")).to_contain_text("刘明（党组书记）")
    expect(extension.locator("[data-step=office_approve]")).to_contain_text("王芳（巡察整改办）")
    expect(page.locator("#timeline")).to_contain_text("整改时限由")  # the new version's note
    page.locator("#deadlines").screenshot(path=str(SCREENSHOTS / "extension_deadline_history.png"))
    expect(page.locator("#item-deadline [data-level]")).to_have_count(0)  # 40 days ahead: no level

    # the staff is told of the decision
    sign_in(page, "staff")
    page.locator("#bell").click()
    decided = page.locator("#notifications li[data-kind=extension_decided]", has_text=title)
    expect(decided.first).to_contain_text(new_deadline)
    expect(decided.first).to_have_attribute("data-unread", "yes")
