"""Journeys through the shell: each role's menu, a wrong password, switching language."""

import re

import pytest

from portal.demo.cli import demo_password
from tests.browser.playwright_api import expect

pytestmark = pytest.mark.browser

ALL_ENTRIES = {
    "首页",
    "巡察整改",
    "待我审核",
    "我的整改事项",
    "已逾期",
    "意见建议",
    "用户管理",
    "部门管理",
    "审计日志",
    "流程说明",
    "延期申请",
    "督办驾驶舱",
}
#: What each demo role sees in the main menu (declared here, independently of portal.shell.nav).
MENUS = {
    "admin": {"首页", "巡察整改", "用户管理", "部门管理", "流程说明"},
    "office": {"首页", "巡察整改", "督办驾驶舱", "已逾期", "延期申请", "意见建议", "部门管理", "流程说明"},
    "leader": {
        "首页",
        "巡察整改",
        "督办驾驶舱",
        "待我审核",
        "我的整改事项",
        "已逾期",
        "延期申请",
        "审计日志",
        "流程说明",
    },
    "staff": {"首页", "巡察整改", "我的整改事项", "已逾期", "流程说明"},
    "auditor": {"首页", "巡察整改", "督办驾驶舱", "已逾期", "意见建议", "审计日志", "完整性核验", "流程说明"},
}
LABELS = "#nav-entries .nav-label"


def sign_in(page, login, password):
    page.goto("/")
    page.click("#login-link")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("#login-form [type=submit]")


@pytest.mark.parametrize("role", list(MENUS))
def test_each_role_sees_its_own_menu(page, role):
    sign_in(page, role, demo_password(role))
    expect(page.locator(".alert-success")).to_contain_text("欢迎")
    menu = page.locator(LABELS)
    expect(menu).to_have_count(len(MENUS[role]))
    assert set(menu.all_inner_texts()) == MENUS[role]
    for hidden in ALL_ENTRIES - MENUS[role]:
        expect(page.locator("#nav-entries").get_by_text(hidden, exact=True)).to_have_count(0)
    # Every menu entry opens.
    for label in sorted(MENUS[role]):
        page.locator("#nav-entries").get_by_text(label, exact=True).click()
        expect(page.locator("#error-page")).to_have_count(0)
    page.click("#logout")
    expect(page.locator(".alert-info")).to_contain_text("已退出登录")
    expect(page.locator("#nav-entries a")).to_have_count(0)


def test_wrong_password_shows_the_error_in_chinese(page):
    sign_in(page, "staff", "not-the-password")
    expect(page.locator("#form-errors")).to_have_text("用户名或密码错误。")
    expect(page.locator("input[name=login]")).to_have_value("staff")
    expect(page.locator("#login-link")).to_be_visible()


def test_switch_to_english(page):
    page.goto("/login")
    expect(page.locator("h1")).to_have_text("登录")
    page.click("button[data-lang=en]")
    expect(page).to_have_url(page.url)  # stays on the same page
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.fill("input[name=login]", "auditor")
    page.fill("input[name=password]", demo_password("auditor"))
    page.click("#login-form [type=submit]")
    assert set(page.locator(LABELS).all_inner_texts()) == {
        "Home",
        "Inspections",
        "Dashboard",
        "Overdue",
        "Feedback",
        "Audit log",
        "Verification",
        "Workflows",
    }
    page.click("button[data-lang=zh]")
    assert set(page.locator(LABELS).all_inner_texts()) == MENUS["auditor"]


def test_home_worklists_open_their_pages(page):
    """The office's home lists the declared worklists it has work in; each title opens its page."""
    sign_in(page, "office", demo_password("office"))
    card = page.locator("[data-worklist=follow_up_checks]")
    expect(card).to_contain_text("回头看")
    count = card.locator("[data-count]").inner_text()
    card.locator(".card-header a").click()
    expect(page).to_have_url(re.compile(r"/worklists/follow_up_checks$"))
    expect(page.locator("h1")).to_contain_text("回头看")
    expect(page.locator("h1 [data-total]")).to_have_text(count)
    expect(page.locator("#worklist tbody tr[data-item]")).to_have_count(int(count))
