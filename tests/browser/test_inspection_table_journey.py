"""The office's main list in the browser: on the demo inspection the office sorts the items by
deadline, filters them by state, ticks two and assigns them to another department at once; the
flash says what happened and the rows show the new department. At 375 px the same list is a
column of cards."""

import pytest

from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.browser.playwright_api import expect

pytestmark = pytest.mark.browser


def test_office_sorts_filters_and_bulk_assigns(page):
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, "office")
    page.goto("/inspections/")
    page.locator("main a[href^='/inspections/']:not(.btn)").first.click()
    rows = page.locator("#item-table tbody tr[data-item]")
    expect(rows).to_have_count(15)

    page.locator("#item-table th[data-sort=deadline] a").click()
    expect(page.locator("#item-table th[data-sort=deadline]")).to_have_attribute("aria-sort", "ascending")
    deadlines = [d for d in rows.locator(".item-deadline .text-nowrap").all_inner_texts() if d[:2] == "20"]
    assert deadlines == sorted(deadlines)

    page.select_option("#filter-state", label="整改中")
    page.locator("#item-filter [type=submit]").click()
    expect(rows).to_have_count(4)
    expect(page.locator("#table-range")).to_have_text("第 1–4 条，共 4 条")
    expect(page.locator("#item-table th[data-sort=deadline]")).to_have_attribute("aria-sort", "ascending")
    expect(page.locator("#select-all")).to_be_visible()  # the script shows it

    chosen = [rows.nth(i).get_attribute("data-item") for i in (0, 1)]
    for item_id in chosen:
        page.check(f"#select-{item_id}")
    page.select_option("#bulk-department_id", label="办公室")
    page.click("#bulk-submit")
    expect(page.locator(".alert-success")).to_have_text("已更新 2 项。")
    expect(page.locator("#filter-state")).to_have_value("in_progress")  # back where it was
    for item_id in chosen:
        expect(page.locator(f"tr[data-item='{item_id}'] .item-department")).to_contain_text("办公室")
    others = page.locator("#item-table tbody tr[data-item] .item-department").all_inner_texts()
    assert sorted(others).count("办公室") == 2
    page.screenshot(path=str(SCREENSHOTS / "inspection-table-office-1366.png"), full_page=True)

    page.set_viewport_size({"width": 375, "height": 800})
    page.locator("#filter-clear").click()
    expect(rows).to_have_count(15)
    first = rows.first.bounding_box()
    title = rows.first.locator(".item-title").bounding_box()
    assert first["width"] > 300 and title["width"] > 200  # a card, not a one-character column
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing runs off the side
    page.screenshot(path=str(SCREENSHOTS / "inspection-table-office-375.png"), full_page=True)
