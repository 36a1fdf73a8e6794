"""Journey: an anonymous visitor on a phone reads the published progress."""

import pytest

from portal.demo.cli import DEMO_STATES
from tests.browser.playwright_api import expect

pytestmark = pytest.mark.browser


def test_visitor_reads_published_progress_on_a_phone(browser, live_server):
    context = browser.new_context(
        locale="zh-CN",
        base_url=live_server,
        viewport={"width": 375, "height": 740},
        java_script_enabled=False,
    )
    page = context.new_page()
    try:
        page.goto("/")
        page.click("#public-link")
        page.locator("#public-inspections a").first.click()
        # the headline counts all the seed's problems; the demo publishes two of them in detail
        done = sum(state in ("completed", "published", "follow_up") for state in DEMO_STATES)
        expect(page.locator("[data-headline=total]")).to_have_text(str(len(DEMO_STATES)))
        expect(page.locator("[data-headline=rate]")).to_have_text(f"{round(100 * done / len(DEMO_STATES))}%")
        page.select_option("#filters select[name=state]", value="completed")
        page.click("#filters [type=submit]")  # a plain GET form: works without JavaScript
        expect(page.locator("#public-items tr[data-item]")).to_have_count(2)
        page.locator("#public-items a").first.click()
        expect(page.locator("#public-timeline [data-action=complete]")).to_be_visible()
        expect(page.locator("body")).not_to_contain_text("李强")  # no staff names
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375  # nothing wider than the phone
        page.screenshot(path="test-artifacts/screenshots/public_item_phone.png", full_page=True)
    finally:
        context.close()
