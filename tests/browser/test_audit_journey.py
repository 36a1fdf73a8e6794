"""The auditor's journey: filter the log to one item, open a version diff, export CSV, run the
verification and see it pass."""

import csv
import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.core.extensions import db
from portal.demo.cli import demo_password
from portal.inspections.models import RectificationItem
from tests.browser.playwright_api import expect

pytestmark = pytest.mark.browser


def test_auditor_filters_diffs_exports_and_verifies(app, page):
    with app.app_context():
        item = db.session.scalar(
            sa.select(RectificationItem).where(RectificationItem.state == "pending_review")
        )
        item_id, title = item.id, item.title
        item_events = db.session.scalar(
            sa.select(sa.func.count()).where(
                AuditEvent.object_type == "item", AuditEvent.object_id == str(item_id)
            )
        )

    page.goto("/login")
    page.fill("input[name=login]", "auditor")
    page.fill("input[name=password]", demo_password("auditor"))
    page.click("#login-form [type=submit]")
    page.click("#nav-entries >> text=审计日志")

    # Filter the log to one item.
    page.select_option("#object_type", "item")
    page.fill("#object_id", str(item_id))
    page.click("#log-filter [type=submit]")
    rows = page.locator("#audit-events tbody tr[data-seq]")
    expect(rows).to_have_count(item_events)
    expect(page.locator("#audit-events > tbody")).to_contain_text("workflow.submit")
    for text in rows.locator("td:nth-child(5) a[data-filter-object]").all_inner_texts():
        assert text.strip() == f"item:{item_id}"

    # From an event to the item's complete history, and on to a version diff.
    rows.first.locator("td:nth-child(5) a[title]").click()
    expect(page.locator("h1")).to_have_text("完整历史")
    expect(page.locator("body")).to_contain_text(title)
    expect(page.locator('#state-replay tr[data-ok="true"]')).to_have_count(2)
    page.click("#version-links a[data-diff='2']")
    expect(page.locator("#diff ins.diff-insert").first).to_be_visible()

    # Export the filtered log as CSV.
    page.go_back()
    page.click("#filter-item")
    with page.expect_download() as download_info:
        page.click("[data-export=csv]")
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    rows_out = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert len(rows_out) == item_events
    assert {r["object_id"] for r in rows_out} == {str(item_id)}
    assert all(len(r["hash"]) == 64 and len(r["prev_hash"]) == 64 for r in rows_out)

    # Run the verification and see it pass.
    page.click("#nav-entries >> text=完整性核验")
    expect(page.locator("#last-result")).to_contain_text("尚未")
    page.click("#run-verification")
    expect(page.locator(".alert-success")).to_contain_text("核验通过")
    expect(page.locator("#result-badge")).to_have_text("通过")
    # The export and the verification are both in the log now.
    page.click("text=← 审计日志")
    expect(page.locator("#audit-events tbody tr[data-seq]").first).to_contain_text("audit.verify")
    expect(page.locator("#audit-events > tbody")).to_contain_text("audit.export")
