"""Journey: the office imports the seed notice, corrects a title in the preview, creates it."""

import pytest

from portal.demo.cli import demo_password
from tests.browser.playwright_api import expect
from tests.notices.test_parser import NOTICE

pytestmark = pytest.mark.browser


def test_import_the_seed_notice(page):
    page.goto("/login")
    page.fill("input[name=login]", "office")
    page.fill("input[name=password]", demo_password("office"))
    page.click("#login-form [type=submit]")
    page.locator("#nav-entries").get_by_text("巡察整改", exact=True).click()
    page.click("#import-notice")
    page.set_input_files("#upload-form input[name=file]", str(NOTICE))
    page.click("#upload-form [type=submit]")
    expect(page.locator("[data-problem-row]")).to_have_count(15)
    expect(page.locator("#warnings")).to_contain_text("一、二、四")
    title = page.locator("input[name='categories-0-problems-0-title']")
    expect(title).to_have_value("加强科创中心产业用房管理")
    title.fill("加强科创中心产业用房的管理")
    page.click("#create-inspection")
    expect(page.locator(".alert-success")).to_contain_text("已导入 15 个整改事项")
    expect(page.locator("#state-counts [data-count=total]")).to_have_text("15")
    expect(page.locator("section[data-category]")).to_have_count(4)
    expect(page.get_by_text("加强科创中心产业用房的管理", exact=True)).to_be_visible()
