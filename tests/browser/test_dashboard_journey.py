"""The supervision dashboard (督查督办驾驶舱) in the browser: the office opens it from the menu,
chooses each inspection, and the state counts equal those of the ledger (整改台账) exported
through the page's own link; the dashboard's workbook says the same; the print view is kept."""

import io
from collections import Counter

import pytest
from openpyxl import load_workbook

from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.browser.playwright_api import expect
from workflows import RECTIFICATION

pytestmark = pytest.mark.browser
STATUS_COLUMN = 9  # 整改状态 in the ledger (portal.ledger.xlsx.COLUMNS)


def page_state_counts(page) -> dict[str, int]:
    """State title -> count, as the page's state table shows them (zeros left out)."""
    counts = {}
    for row in page.locator("#state-table tbody tr").all():
        title, n = row.locator("td").nth(0).inner_text(), int(row.locator("[data-count]").inner_text())
        if n:
            counts[title] = n
    return counts


def download(page, selector):
    """The workbook the link at `selector` downloads, opened with openpyxl."""
    with page.expect_download() as info:
        page.click(selector)
    with open(info.value.path(), "rb") as fh:
        return load_workbook(io.BytesIO(fh.read()))


def test_the_dashboard_equals_the_ledger_export(page):
    sign_in(page, "office")
    page.locator("#nav-entries").get_by_text("督办驾驶舱", exact=True).click()
    expect(page.locator("h1")).to_contain_text("督查督办驾驶舱")
    # the menu still fits on one line at 1280px
    tops = {round(item.bounding_box()["y"]) for item in page.locator("#nav-entries .nav-item").all()}
    assert len(tops) == 1, f"the menu wraps: {tops}"
    total_all = int(page.locator("#state-table [data-total]").inner_text())
    assert total_all > 0

    options = page.locator("#inspection option").all()
    choices = [(o.get_attribute("value"), o.inner_text()) for o in options if o.get_attribute("value")]
    assert choices, "the demo has inspections"
    summed = Counter()
    for value, title in choices:
        page.select_option("#inspection", value)
        page.click("#dashboard-filter [type=submit]")
        expect(page.locator("#dashboard-scope")).to_contain_text(title)
        shown = page_state_counts(page)
        ledger = download(page, "#ledger-link")["整改台账"]
        statuses = Counter(row[STATUS_COLUMN - 1] for row in ledger.iter_rows(min_row=3, values_only=True))
        assert shown == dict(statuses), f"{title}: dashboard {shown} ≠ ledger {dict(statuses)}"
        assert int(page.locator("#state-table [data-total]").inner_text()) == statuses.total()
        summed += statuses
    assert summed.total() == total_all  # every item of every inspection, once

    # The dashboard's own workbook carries the page's numbers.
    page.select_option("#inspection", "")
    page.click("#dashboard-filter [type=submit]")
    book = download(page, "#dashboard-xlsx")
    sheet = {row[0]: row[1] for row in book["按状态"].iter_rows(min_row=2, values_only=True)}
    assert {k: v for k, v in sheet.items() if v} == page_state_counts(page) == dict(summed)
    assert set(sheet) == {s.title_zh for s in RECTIFICATION.states}
    overdue = int(page.locator("#overdue-h [data-total]").inner_text())
    assert overdue == int(page.locator("[data-figure=overdue] [data-value]").inner_text())
    assert book["概况"]["B6"].value == overdue  # 已逾期（督办、约谈）
    # each overdue row links to its item
    first = page.locator("#overdue-table tbody tr[data-item] a").first
    if overdue:
        expect(first).to_have_attribute(
            "href", f"/items/{first.locator('xpath=../..').get_attribute('data-item')}"
        )
    page.screenshot(path=str(SCREENSHOTS / "dashboard_office.png"), full_page=True)

    # The print view: no menu, no filter, the tables whole.
    page.emulate_media(media="print")
    expect(page.locator("nav.navbar")).to_be_hidden()
    expect(page.locator("#dashboard-filter")).to_be_hidden()
    expect(page.locator("#state-table")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "dashboard_print.png"), full_page=True)
    page.emulate_media(media="screen")
