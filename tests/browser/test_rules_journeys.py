"""Journeys for the rules that keep numbers true: withdrawing and restoring an inspection, a
long-term measure before submission, every declared worklist opened from the home page, and
the public page of a partly published inspection."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.operations import find_user
from portal.audit.chain import Actor
from portal.core import worklists
from portal.core.extensions import db
from portal.core.timeutil import today
from portal.deadlines.operations import request_extension
from portal.demo.cli import DEMO_STATES
from portal.feedback.models import Feedback
from portal.feedback.operations import answer_fix_check, forward_feedback
from portal.inspections.models import Inspection, RectificationItem
from portal.inspections.operations import update_document
from tests.browser.conftest import SCREENSHOTS, sign_in, sign_out
from tests.browser.playwright_api import expect

pytestmark = pytest.mark.browser


def demo_inspection_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Inspection.id).order_by(Inspection.id).limit(1))


def test_office_withdraws_and_restores_an_inspection(page, app):
    inspection_id = demo_inspection_id(app)
    sign_in(page, "office")
    page.goto(f"/inspections/{inspection_id}")
    page.locator("[data-transition=withdraw] summary").click()
    page.fill("#reason-withdraw", "误将同一通报导入两次，撤销重复的轮次。")
    page.locator("#inspection-withdraw button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text("撤销")
    expect(page.locator("#withdrawn-badge")).to_have_text("已撤销")
    expect(page.locator("#withdrawn-note")).to_contain_text("误将同一通报导入两次")
    page.screenshot(path=str(SCREENSHOTS / "inspection_withdrawn.png"), full_page=True)
    page.goto("/inspections/")
    expect(page.locator("#inspection-list a")).to_have_count(0)
    expect(page.locator("#withdrawn-list")).to_contain_text("已撤销")
    page.goto("/")
    expect(page.locator("[data-worklist=overdue]")).to_have_count(0)  # its items left the lists

    # the leader and the public no longer see it; nothing was deleted
    sign_out(page)
    sign_in(page, "leader")
    page.goto("/inspections/")
    expect(page.locator("#inspection-list a")).to_have_count(0)
    assert page.request.get(f"/inspections/{inspection_id}").status == 404
    sign_out(page)
    assert page.request.get(f"/public/inspections/{inspection_id}").status == 404
    with app.app_context():
        assert db.session.scalar(
            sa.select(sa.func.count(RectificationItem.id)).where(
                RectificationItem.inspection_id == inspection_id
            )
        ) == len(DEMO_STATES)

    sign_in(page, "office")
    page.goto(f"/inspections/{inspection_id}")
    page.locator("[data-transition=restore] summary").click()
    page.fill("#reason-restore", "核实后确认不是重复轮次，恢复。")
    page.locator("#inspection-restore button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text("恢复")
    expect(page.locator("#withdrawn-badge")).to_have_count(0)
    expect(page.locator("[data-count=total]")).to_have_text(str(len(DEMO_STATES)))
    page.goto("/")
    expect(page.locator("[data-worklist=overdue]")).to_be_visible()
    assert page.request.get(f"/public/inspections/{inspection_id}").status == 200


def test_staff_marks_a_measure_long_term_and_submits(page, app):
    with app.app_context():
        item = db.session.scalars(
            sa.select(RectificationItem)
            .where(RectificationItem.state == "in_progress")
            .order_by(RectificationItem.id)
        ).first()
        item_id, open_ids = item.id, [m.id for m in item.measures if not m.closed]
    assert open_ids, "the demo keeps an open measure on items in progress"
    sign_in(page, "staff")
    page.goto(f"/items/{item_id}")
    expect(page.locator("#submit-blocked")).to_be_visible()
    expect(page.locator("form[data-transition=submit]")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "item_submit_blocked.png"), full_page=True)
    *done_ids, last = open_ids
    for measure_id in done_ids:
        page.locator(f"[data-measure='{measure_id}'] .measure-toggle").click()
    row = page.locator(f"[data-measure='{last}']")
    row.locator("details.measure-status summary").click()
    row.locator("select[name=status]").select_option("long_term")
    row.locator("details.measure-status button[type=submit]").click()  # no reason: refused, with the message
    expect(page.locator(".alert-danger")).to_contain_text("理由")
    row = page.locator(f"[data-measure='{last}']")
    row.locator("details.measure-status summary").click()
    row.locator("select[name=status]").select_option("long_term")
    row.locator("input[name=reason]").fill("制度执行需长期坚持，每年开展一次自查。")
    row.locator("details.measure-status button[type=submit]").click()
    expect(page.locator(f"[data-measure='{last}'] [data-measure-status]")).to_have_text("长期坚持")
    expect(page.locator("#long-term-note")).to_be_visible()
    expect(page.locator("#submit-blocked")).to_have_count(0)
    page.locator("form[data-transition=submit] button").click()
    expect(page.locator("[data-state]").first).to_contain_text("待审核")
    page.screenshot(path=str(SCREENSHOTS / "item_long_term_submitted.png"), full_page=True)


def _fill_every_worklist(app) -> None:
    """The demo has work in most lists; give the others some (a deadline next week, a public
    answer that a completed item is not fixed)."""
    actor = Actor.system("test")
    with app.app_context():
        items = db.session.scalars(sa.select(RectificationItem).order_by(RectificationItem.id)).all()
        open_item = next(i for i in items if i.state == "assigned")
        update_document(actor, open_item, {"deadline": today() + timedelta(days=3)})
        completed = next(i for i in items if i.state == "completed" and i.publication_state == "published")
        answer_fix_check(completed, "not_fixed", "还是老样子")
        db.session.commit()
        # a 延期申请 by the staff on the item due next week, for the leader to decide
        request_extension(
            Actor.of(find_user("staff")),
            open_item,
            proposed_deadline=open_item.deadline + timedelta(days=30),
            reason="需等待预算批复",
            progress_note="方案已拟定",
        )
        # a public report forwarded (转办) to the staff's department, for its worklist
        report = db.session.scalar(sa.select(Feedback).where(Feedback.moderation_state == "pending"))
        forward_feedback(Actor.of(find_user("office")), report, find_user("staff").department)
        db.session.commit()


def test_every_declared_worklist_opens_from_the_home_page(page, app):
    _fill_every_worklist(app)
    declared = set(worklists.declared())
    opened = set()
    for login in ("office", "leader", "staff"):
        sign_in(page, login)
        names = page.locator("[data-worklist]").evaluate_all("els => els.map(e => e.dataset.worklist)")
        for name in names:
            page.goto("/")
            card = page.locator(f"[data-worklist={name}]")
            count = card.locator("[data-count]").inner_text()
            if count == "0":
                continue
            card.locator(f"[data-all={name}]").click()  # "all N" under the first rows
            expect(page).to_have_url(re.compile(rf"/worklists/{name}$"))
            expect(page.locator("h1 [data-total]")).to_have_text(count)
            opened.add(name)
        if login == "office":  # the moderation queue has its own page, in the menu
            page.goto("/")
            page.locator("#nav-entries a", has_text="意见建议").click()
            expect(page.locator("h1")).to_contain_text("意见建议")
            opened.add("moderation_queue")
            page.goto("/")
            page.screenshot(path=str(SCREENSHOTS / "home_office_worklists.png"), full_page=True)
        sign_out(page)
    assert opened == declared


def test_visitor_reads_a_partly_published_inspection(page, app):
    inspection_id = demo_inspection_id(app)
    with app.app_context():
        items = db.session.scalars(
            sa.select(RectificationItem).where(RectificationItem.inspection_id == inspection_id)
        ).all()
        total, done = len(items), sum(i.state in ("completed", "follow_up") for i in items)
        published = sum(i.publication_state == "published" for i in items)
    assert 0 < published < total
    page.goto(f"/public/inspections/{inspection_id}")
    expect(page.locator("[data-headline=total]")).to_have_text(str(total))
    expect(page.locator("[data-headline=completed]")).to_have_text(str(done))
    expect(page.locator("[data-headline=not_completed]")).to_have_text(str(total - done))
    expect(page.locator("[data-headline=rate]")).to_have_text(f"{round(100 * done / total)}%")
    expect(page.locator("#published-share")).to_contain_text(f"{published} 项")
    expect(page.locator("#published-share")).to_contain_text(f"另有 {total - published} 项尚未公开")
    expect(page.locator("#public-items tr[data-item]")).to_have_count(published)
    page.screenshot(path=str(SCREENSHOTS / "public_partly_published.png"), full_page=True)
    page.click("#public-notice")
    expect(page.locator("body")).to_contain_text(f"对巡察反馈的{total}项问题")
    sections = page.locator("[data-notice-section]")
    assert sections.count() >= 1
    for k in range(sections.count()):  # numbered afresh in each category, as the seed does
        numbers = (
            sections.nth(k)
            .locator("[data-problem-number]")
            .evaluate_all("els => els.map(e => e.dataset.problemNumber)")
        )
        assert numbers == [str(n) for n in range(1, len(numbers) + 1)]
