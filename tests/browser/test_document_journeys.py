"""Journeys through the documents: building an inspection, the daily submit/return/approve
cycle, 双审制, and edit → diff → revert."""

from datetime import date

import pytest

from portal.accounts.operations import create_user
from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.core.transitions import fire
from portal.evidence.operations import add_evidence_note
from portal.inspections.operations import (
    add_measure,
    create_category,
    create_inspection,
    create_item,
)
from tests.browser.conftest import SCREENSHOTS, sign_in, sign_out, take_step
from tests.browser.playwright_api import expect
from tests.conftest import TEST_PASSWORD
from tests.evidence.test_evidence import PDF

pytestmark = pytest.mark.browser


@pytest.fixture
def people(app, live_server):
    """A leader, a party secretary and a staff member of their own, with their own items."""
    actor = Actor.system("test")
    with app.app_context():
        leader = create_user(
            actor, login="zhangwei", display_name="张伟（分管领导）", password=TEST_PASSWORD, roles=["leader"]
        )
        secretary = create_user(
            actor, login="wangjun", display_name="王军（党组书记）", password=TEST_PASSWORD, roles=["leader"]
        )
        other_leader = create_user(
            actor, login="zhaolei", display_name="赵磊（分管领导）", password=TEST_PASSWORD, roles=["leader"]
        )
        staff = create_user(
            actor, login="lihua", display_name="李华（经办人）", password=TEST_PASSWORD, roles=["staff"]
        )
        single = create_inspection(actor, title="区教育局党组巡察整改", party_secretary=secretary)
        category = create_category(actor, single, label="一", title="财务制度执行不到位")
        item = create_item(
            actor,
            single,
            category=category,
            number="6",
            title="财务制度执行不到位",
            responsible_leader=leader,
            staff=staff,
            deadline=date(2026, 12, 31),
            completion_summary="已完成制度修订并组织培训。",
        )
        for label, text in (("一是", "修订报销制度"), ("二是", "组织财务培训"), ("三是", "开展自查")):
            add_measure(actor, item, label=label, text=text)
        dual = create_inspection(
            actor, title="区教育局党组巡察整改（双审制）", approval_policy="dual", party_secretary=secretary
        )
        dual_item = create_item(
            actor,
            dual,
            title="合同管理不规范",
            responsible_leader=other_leader,
            staff=staff,
            completion_summary="已建立合同台账。",
        )
        add_evidence_note(actor, dual_item, "合同台账")
        fire(Actor.of(staff), dual_item, "start")
        fire(Actor.of(staff), dual_item, "submit")
        db.session.commit()
        return {"item": item.id, "dual_item": dual_item.id}


def transition(page, name, comment=""):
    take_step(page, name, comment)


def test_office_builds_an_inspection(page, app):

    sign_in(page, "office")
    page.locator("#nav-entries").get_by_text("巡察整改", exact=True).click()
    page.click("#new-inspection")
    page.fill("input[name=title]", "区司法局党组巡察整改")
    page.fill("input[name=inspected_unit]", "区司法局党组")
    page.fill("input[name=start_date]", "2026-03-01")
    page.fill("input[name=end_date]", "2026-04-30")
    page.click("#document-form [type=submit]")
    expect(page.locator("h1")).to_have_text("区司法局党组巡察整改")
    for label, title in (("一", "政治建设不够扎实"), ("二", "廉政风险防控不到位")):
        page.click("#add-category")
        page.fill("input[name=label]", label)
        page.fill("input[name=title]", title)
        page.click("#document-form [type=submit]")
    for category, number, title in (
        ("一 政治建设不够扎实", "1", "理论学习不深入"),
        ("一 政治建设不够扎实", "2", "意识形态责任制落实不到位"),
        ("二 廉政风险防控不到位", "1", "公务接待管理不规范"),
    ):
        page.click("#add-item")
        page.select_option("select[name=category_id]", label=category)
        page.fill("input[name=number]", number)
        page.fill("input[name=title]", title)
        page.select_option("select[name=responsible_leader_id]", label="刘明（党组书记）")
        page.select_option("select[name=staff_id]", label="李强（经办人）")
        page.fill("input[name=deadline]", "2026-12-31")
        page.click("#document-form [type=submit]")
        expect(page.locator("h1")).to_contain_text(title)
        page.click(".breadcrumb a[data-crumb=inspection]")
    expect(page.locator("section[data-category]")).to_have_count(2)
    expect(page.locator("#state-counts [data-count=total]")).to_have_text("3")
    expect(page.locator("#state-counts [data-count=assigned]")).to_have_text("3")


def test_submit_return_resubmit_approve(page, people):
    sign_in(page, "lihua", TEST_PASSWORD)
    page.locator("#nav-entries").get_by_text("我的整改事项", exact=True).click()
    page.locator("#worklist").get_by_text("财务制度执行不到位").click()
    transition(page, "start")
    expect(page.locator("#item-state [data-state]")).to_have_text("整改中")
    for n in range(2):
        page.locator("#measure-list .measure-toggle").nth(n).click()
    expect(page.locator("#item-fields [data-progress]")).to_have_attribute("data-progress", "67")
    expect(page.locator("#submit-blocked")).to_contain_text("三是")  # submit waits for the last one
    third = page.locator("#measure-list li[data-measure]").nth(2)
    third.locator("details.measure-status summary").click()
    third.locator("select[name=status]").select_option("long_term")
    third.locator("input[name=reason]").fill("每年开展一次自查，长期坚持。")
    third.locator("details.measure-status button[type=submit]").click()
    expect(page.locator("#item-fields [data-progress]")).to_have_attribute("data-progress", "100")
    expect(page.locator("#long-term-note")).to_contain_text("三是")
    page.set_input_files(
        "#evidence-form input[name=file]",
        files=[{"name": "整改报告.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    page.click("#evidence-form [type=submit]")
    expect(page.locator("#evidence-list")).to_contain_text("整改报告.pdf")
    transition(page, "submit", "请审核。")
    expect(page.locator("#item-state [data-state]")).to_have_text("待审核")
    sign_out(page)

    sign_in(page, "zhangwei", TEST_PASSWORD)
    expect(page.locator("[data-badge=awaiting_review]")).to_have_text("1")
    page.locator("#nav-entries").get_by_text("待我审核", exact=True).click()
    page.locator("#worklist").get_by_text("财务制度执行不到位").click()
    transition(page, "return", "请补充培训签到表。")
    expect(page.locator("#item-state [data-state]")).to_have_text("整改中")
    sign_out(page)

    sign_in(page, "lihua", TEST_PASSWORD)
    page.goto(f"/items/{people['item']}")
    expect(page.locator("#timeline")).to_contain_text("请补充培训签到表。")
    page.fill("#evidence-form textarea[name=note]", "培训签到表（扫描件）")
    page.click("#evidence-form [type=submit]")
    transition(page, "submit", "已补充。")
    sign_out(page)

    sign_in(page, "zhangwei", TEST_PASSWORD)
    page.goto(f"/items/{people['item']}")
    transition(page, "approve", "同意。")
    expect(page.locator("#item-state [data-state]")).to_have_text("已完成")
    actions = page.locator("#timeline [data-kind=transition]").evaluate_all(
        "rows => rows.map(r => r.dataset.action)"
    )
    assert actions == ["complete", "approve", "submit", "return", "submit", "start"]
    expect(page.locator("[data-badge=awaiting_review]")).to_have_text("0")


def test_dual_approval(page, people):
    sign_in(page, "zhaolei", TEST_PASSWORD)
    page.goto(f"/items/{people['dual_item']}")
    transition(page, "approve", "同意。")
    expect(page.locator("#item-state [data-state]")).to_have_text("待审核")
    expect(page.locator("#approvals")).to_contain_text("赵磊")
    sign_out(page)
    sign_in(page, "wangjun", TEST_PASSWORD)
    expect(page.locator("[data-badge=awaiting_review]")).to_have_text("1")
    page.goto(f"/items/{people['dual_item']}")
    transition(page, "approve", "同意。")
    expect(page.locator("#item-state [data-state]")).to_have_text("已完成")


def test_edit_diff_revert(page, people):

    sign_in(page, "office")
    page.goto(f"/items/{people['item']}")
    page.click("#edit-item")
    page.fill("input[name=title]", "财务制度执行不够到位")
    page.fill("input[name=change_note]", "按通报原文修改")
    page.click("#document-form [type=submit]")
    expect(page.locator("h1")).to_contain_text("财务制度执行不够到位")
    page.click("#item-versions")
    expect(page.locator("#diff tr[data-field=title] ins")).to_have_text("够")  # 不到位 → 不够到位
    expect(page.locator("#diff tr[data-field=title] td").first).to_have_text("标题")
    page.screenshot(path=str(SCREENSHOTS / "version_diff.png"), full_page=True)
    page.locator("button[data-revert='1']").click()
    expect(page.locator("#versions tr[data-version]").first).to_contain_text("恢复到第 1 版")
    expect(page.locator(".alert-success")).to_contain_text(
        "已将「财务制度执行不到位」恢复为第 1 版的内容，并保存为第 3 版。"
    )
    versions = page.locator("#versions tr[data-version]").count()
    page.goto(f"/items/{people['item']}")
    expect(page.locator("h1")).to_contain_text("6. 财务制度执行不到位")
    # the badge counts what the history lists, and leads there
    expect(page.locator("#item-version")).to_have_text(f"第 {versions} 版")
    page.screenshot(path=str(SCREENSHOTS / "item_version_badge.png"), full_page=True)
    page.click("#item-version")
    expect(page.locator("#versions tr[data-version]")).to_have_count(versions)
    page.goto(f"/items/{people['item']}")
    expect(page.locator("#item-state [data-state]")).to_have_text("已交办")


def test_office_shares_review_of_an_item(page, people):

    sign_in(page, "zhangwei", TEST_PASSWORD)
    expect(page.locator("[data-badge=awaiting_review]")).to_have_text("0")
    sign_out(page)
    sign_in(page, "office")
    page.goto(f"/items/{people['dual_item']}")
    page.click("#item-sharing")
    expect(page.locator("#grants [data-derived=Reviewer]").first).to_be_visible()
    page.select_option("#grant-form select[name=principal]", label="张伟（分管领导）")
    page.select_option("#grant-form select[name=role]", label="审核者")
    page.click("#grant-form [type=submit]")
    expect(page.locator(".alert-success")).to_contain_text(
        "已授予张伟（分管领导）在「合同管理不规范」上的“审核者”角色。"
    )
    expect(page.locator("#grants [data-role=Reviewer][data-grant]")).to_contain_text("张伟")
    sign_out(page)
    sign_in(page, "zhangwei", TEST_PASSWORD)
    expect(page.locator("[data-badge=awaiting_review]")).to_have_text("1")
