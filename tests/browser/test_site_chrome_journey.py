"""The portal's chrome: the header band with the organisation's name, breadcrumbs on every page,
the English menu on one line at 1280 px, a favicon, and a print view of the record alone."""

import pytest
import sqlalchemy as sa

from portal.core.extensions import db
from portal.inspections.models import RectificationItem
from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.browser.playwright_api import expect

pytestmark = pytest.mark.browser


def test_band_breadcrumbs_one_line_menu_and_print(app, page):
    app.config["ORGANISATION_NAME"] = "深圳市南山区科技创新局"
    with app.app_context():
        item_id = db.session.scalar(
            sa.select(RectificationItem.id).where(RectificationItem.state == "pending_review")
        )
    sign_in(page, "office")
    expect(page.locator("#site-org")).to_have_text("深圳市南山区科技创新局")
    assert page.locator("link[rel=icon]").get_attribute("href").endswith("favicon.svg")
    page.goto(f"/items/{item_id}")
    crumbs = page.locator("#breadcrumbs li")
    expect(crumbs.first).to_have_text("首页")
    expect(page.locator("#breadcrumbs [data-crumb=inspection]")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "chrome_item_zh.png"))

    # English, at 1280 px: every menu entry on one line
    page.set_viewport_size({"width": 1280, "height": 900})
    page.click("[data-lang=en]")
    expect(page.locator("#breadcrumbs li").first).to_have_text("Home")
    tops = page.locator("#nav-entries > li").evaluate_all(
        "items => items.map(i => i.getBoundingClientRect().top)"
    )
    assert len(tops) >= 6 and max(tops) - min(tops) < 4, tops
    bar = page.locator("nav.navbar").bounding_box()
    assert bar["height"] < 70, bar
    page.screenshot(path=str(SCREENSHOTS / "chrome_menu_en_1280.png"))
    page.click("[data-lang=zh]")

    # print: the record without menus, forms and buttons
    page.emulate_media(media="print")
    for hidden in ("nav.navbar", "#breadcrumbs", "#review-panel", "#evidence-form"):
        if page.locator(hidden).count():
            expect(page.locator(hidden).first).to_be_hidden()
    expect(page.locator("#item-fields")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "chrome_item_print.png"), full_page=True)
