"""Searching in the browser: the office searches from the header box, narrows by a facet,
opens an item, comes back and saves the search, which the home page then shows with its count;
the public searches the published items from the public pages' header."""

import pytest

from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.browser.playwright_api import expect

pytestmark = pytest.mark.browser


def test_search_from_the_header_narrow_open_and_save(page):
    sign_in(page, "office")
    page.fill("#header-q", "管理")
    page.press("#header-q", "Enter")
    expect(page.locator("h1")).to_contain_text("检索")
    total = int(page.locator("#search-total").get_attribute("data-total"))
    assert total > 1
    expect(page.locator("#search-results mark").first).to_have_text("管理")
    # narrow by the first state the facet offers: the count beside it is what is found
    facet = page.locator('[data-facet="state"] a[data-facet-value]').first
    state = facet.get_attribute("data-facet-value")
    expected = int(facet.locator("xpath=../span").inner_text())
    facet.click()
    expect(page.locator('[data-facet="state"] a[data-facet-clear]')).to_be_visible()
    assert int(page.locator("#search-total").get_attribute("data-total")) == expected
    states = {b.get_attribute("data-state") for b in page.locator("#search-results [data-state]").all()}
    assert states == {state}
    page.screenshot(path=str(SCREENSHOTS / "search-results.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 800})  # on a phone
    page.screenshot(path=str(SCREENSHOTS / "search-results-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    # open the first item found, and come back
    first = page.locator("#search-results li a").first
    title = first.inner_text()
    first.click()
    expect(page.locator("h1")).to_contain_text(title.split(". ", 1)[-1][:10])
    page.go_back()
    # save the search; the home page lists it with its count
    page.fill("#save-search input[name=name]", "管理类问题")
    page.click("#save-search-button")
    expect(page.locator(".alert-success")).to_contain_text("管理类问题")
    expect(page.locator("#saved-searches")).to_contain_text("管理类问题")
    page.goto("/")
    card = page.locator("#saved-search-cards section").first
    expect(card).to_contain_text("管理类问题")
    assert int(card.locator("[data-count]").get_attribute("data-count")) == expected
    page.screenshot(path=str(SCREENSHOTS / "search-saved-on-home.png"), full_page=True)
    card.locator("[data-all]").click()
    expect(page.locator('[data-facet="state"] a[data-facet-clear]')).to_be_visible()
    assert int(page.locator("#search-total").get_attribute("data-total")) == expected


def test_a_refused_search_says_why_in_chinese(page):
    sign_in(page, "office")
    page.fill("#header-q", "管")
    page.press("#header-q", "Enter")
    expect(page.locator("[data-search-problem]")).to_contain_text("两个字")
    expect(page.locator("#search-q")).to_have_value("管")
    page.screenshot(path=str(SCREENSHOTS / "search-refused.png"), full_page=True)


def test_the_public_searches_published_items(page):
    page.goto("/public/")
    page.fill("#header-q", "管理")
    page.press("#header-q", "Enter")
    expect(page.locator("h1")).to_contain_text("检索")
    links = page.locator("#search-results li a")
    assert links.count() > 0
    assert all("/public/items/" in (a.get_attribute("href") or "") for a in links.all())
    page.screenshot(path=str(SCREENSHOTS / "public-search.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 800})  # on a phone
    page.screenshot(path=str(SCREENSHOTS / "public-search-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    links.first.click()
    page.wait_for_load_state()
    assert "/public/items/" in page.url
