"""Journeys through the workflow: a leader approves a submitted item; anyone reads the
workflow page with its diagram."""

import pytest

from portal.demo.cli import demo_password
from tests.browser.playwright_api import expect

pytestmark = pytest.mark.browser


def sign_in(page, login):
    page.goto("/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", demo_password(login))
    page.click("#login-form [type=submit]")


def test_leader_approves_a_submitted_item(page):
    sign_in(page, "leader")
    review = page.locator("[data-worklist=awaiting_review]")
    expect(review.locator("[data-count]")).to_have_text("1")
    review.get_by_text("加强自行采购招标的小型工程项目管理").click()
    expect(page.locator("#item-state [data-state]")).to_have_text("待审核")
    form = page.locator("form[data-transition=approve]")
    form.locator("textarea").fill("材料齐全，同意。")
    form.locator("button").click()
    expect(page.locator(".alert-success")).to_contain_text("审核同意 → 完成")
    expect(page.locator("#item-state [data-state]")).to_have_text("已完成")
    actions = page.locator("#timeline [data-kind=transition]").evaluate_all(
        "rows => rows.map(r => r.dataset.action)"
    )
    assert actions == ["complete", "approve", "submit", "start"]
    expect(page.locator("#timeline [data-kind=transition]").first).to_contain_text("完成")
    expect(page.locator("#timeline")).to_contain_text("材料齐全，同意。")
    page.goto("/")
    expect(page.locator("[data-worklist=awaiting_review] [data-count]")).to_have_text("0")


def test_return_needs_a_comment(page):
    sign_in(page, "leader")
    page.locator("[data-worklist=awaiting_review]").get_by_text("加强自行采购").click()
    page.locator("form[data-transition=return] button").click()
    expect(page.locator(".invalid-feedback")).to_have_text("执行“退回”需要填写意见。")
    expect(page.locator("#item-state [data-state]")).to_have_text("待审核")


def test_workflow_page_shows_the_diagram(page):
    sign_in(page, "staff")
    page.locator("#nav-entries").get_by_text("流程说明", exact=True).click()
    diagram = page.locator("#workflow-rectification svg")
    expect(diagram).to_be_visible()
    expect(diagram.locator("[data-state]")).to_have_count(5)
    expect(diagram.locator("[data-state=pending_review]")).to_contain_text("待审核")
    expect(page.locator("#workflow-rectification tr[data-transition=approve]")).to_contain_text("Reviewer")
