"""Journeys through the workflow: a leader approves a submitted item; anyone reads the
workflow page with its diagram, in words a user understands."""

import re

import pytest

from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.browser.playwright_api import expect

pytestmark = pytest.mark.browser


def test_leader_approves_a_submitted_item(page):
    sign_in(page, "leader")
    review = page.locator("[data-worklist=awaiting_review]")
    expect(review.locator("[data-count]")).to_have_text("1")
    review.get_by_text("加强自行采购招标的小型工程项目管理").click()
    expect(page.locator("#item-state [data-state]")).to_have_text("待审核")
    expect(page.locator("#submitted-by")).to_contain_text("提交")  # who submitted, and when
    page.fill("#review-comment", "材料齐全，同意。")
    page.click("#review-form button[data-transition=approve]")
    expect(page.locator(".alert-success")).to_contain_text(
        "执行“审核同意”，系统随即自动“完成”，当前状态为“已完成”。"
    )
    expect(page.locator("#item-state [data-state]")).to_have_text("已完成")
    actions = page.locator("#timeline [data-kind=transition]").evaluate_all(
        "rows => rows.map(r => r.dataset.action)"
    )
    assert actions == ["complete", "approve", "submit", "start"]
    expect(page.locator("#timeline [data-kind=transition]").first).to_contain_text("完成")
    expect(page.locator("#timeline")).to_contain_text("材料齐全，同意。")
    # the approval is one entry, with no "待审核 → 待审核" move of its own
    expect(page.locator("#timeline [data-kind=approval]")).to_have_count(0)
    expect(page.locator("#timeline [data-action=approve]")).not_to_contain_text("→")
    expect(page.locator("#timeline")).not_to_contain_text("待审核 → 待审核")
    page.screenshot(path=str(SCREENSHOTS / "timeline_after_approval.png"), full_page=True)
    page.goto("/")
    expect(page.locator("[data-worklist=awaiting_review] [data-count]")).to_have_text("0")


def test_return_needs_a_comment(page):
    sign_in(page, "leader")
    page.locator("[data-worklist=awaiting_review]").get_by_text("加强自行采购").click()
    page.click("#review-form button[data-transition=return]")
    expect(page.locator(".invalid-feedback")).to_have_text("执行“退回”需要填写意见。")
    expect(page.locator("#item-state [data-state]")).to_have_text("待审核")


def test_workflow_page_shows_the_diagram(page):
    sign_in(page, "staff")
    page.locator("#nav-entries").get_by_text("流程说明", exact=True).click()
    diagram = page.locator("#workflow-rectification svg")
    expect(diagram).to_be_visible()
    expect(diagram.locator("[data-state]")).to_have_count(5)
    expect(diagram.locator("[data-state=pending_review]")).to_contain_text("待审核")
    expect(page.locator("#workflow-rectification tr[data-transition=approve]")).to_contain_text("审核者")


#: What a code looks like: snake_case ids (follow_up, not_approved_by_actor) or CamelCase role
#: ids (ResponsibleLeader, PartySecretary).
CODE_LIKE = re.compile(r"\b[a-z]+_[a-z_]+\b|\b[A-Z][a-z]+[A-Z][A-Za-z]*\b")


def test_leader_reads_the_workflow_page_in_chinese(page):
    sign_in(page, "leader")
    page.locator("#nav-entries").get_by_text("流程说明", exact=True).click()
    expect(page.locator("h1")).to_have_text("流程说明")
    text = page.locator("main").inner_text()
    assert not CODE_LIKE.findall(text), CODE_LIKE.findall(text)
    for code in ("edit", "follow_up", "Reviewer", "leader"):
        assert not re.search(rf"\b{code}\b", text), code
    approve = page.locator("#workflow-rectification tr[data-transition=approve]")
    expect(approve).to_contain_text("在该状态下有“审核”权限的人：审核者。")
    expect(approve).to_contain_text("且须具有身份：党组领导。")
    expect(approve).to_contain_text("前提：本人尚未审核同意；本人不是该事项的责任人。")
    expect(page.locator("#workflow-rectification tr[data-transition=submit]")).to_contain_text(
        "已填写整改成效"
    )
    expect(page.locator("#workflow-rectification thead").first).to_contain_text("开展回头看")
    expect(page.locator("#workflow-rectification tbody").first).to_contain_text("本事项的责任领导")
    expect(page.locator("#workflow-rectification [data-worklist=awaiting_review]")).to_have_text(
        "待我审核：列出处于待审核状态、且本人尚未审核同意、且本人不是该事项的责任人的条目。"
    )
    diagram = page.locator("#workflow-rectification svg")
    expect(diagram).to_be_visible()
    assert not CODE_LIKE.findall(diagram.text_content())
    page.screenshot(path=str(SCREENSHOTS / "workflow_page_zh.png"), full_page=True)
    page.screenshot(path=str(SCREENSHOTS / "workflow_page_zh_top.png"))
    approve.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "workflow_page_zh_viewport.png"))
