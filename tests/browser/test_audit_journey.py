"""The auditor's journey: filter the log to one item, open a version diff, export CSV, run the
verification and see it pass. The party group leader's: read the log as a register, in Chinese,
filter it by a person's name and by an action's label."""

import csv
import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.core.extensions import db
from portal.demo.cli import demo_password
from portal.inspections.models import RectificationItem
from tests.browser.conftest import SCREENSHOTS
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
    expect(page.locator("#audit-events > tbody")).to_contain_text("提交审核")  # the action, in words
    expect(page.locator("#audit-events [data-codes]").first).to_contain_text(f"item:{item_id}")
    for text in rows.locator("[data-codes] a[data-filter-object]").all_inner_texts():
        assert text.strip() == f"item:{item_id}"
    for text in rows.locator('[data-main="object"]').all_inner_texts():
        assert text.startswith("整改事项「")

    # From an event to the item's complete history, and on to a version diff.
    rows.first.locator("a[data-object-link]").click()
    expect(page.locator("h1")).to_have_text("完整历史")
    expect(page.locator("body")).to_contain_text(title)
    expect(page.locator('#state-replay tr[data-ok="true"]')).to_have_count(3)  # with the lifecycle
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
    assert all(r["at_utc"].endswith("Z") and r["time (Asia/Shanghai)"] for r in rows_out)
    assert all(len(r["hash"]) == 64 and len(r["prev_hash"]) == 64 for r in rows_out)

    # Run the verification and see it pass.
    page.click("#nav-entries >> text=完整性核验")
    expect(page.locator("#last-result")).to_contain_text("尚未")
    page.click("#run-verification")
    expect(page.locator(".alert-success")).to_contain_text("核验通过")
    expect(page.locator("#result-badge")).to_have_text("通过")
    # The export and the verification are both in the log now.
    page.click("text=← 审计日志")
    expect(page.locator("#audit-events tbody tr[data-seq]").first).to_contain_text("运行完整性核验")
    expect(page.locator("#audit-events > tbody")).to_contain_text("导出审计日志")
    expect(page.locator("#audit-events > tbody")).to_contain_text("audit.export")  # codes stay, aside


#: A code as the main column must never show it (an action such as workflow.approve).
CODE_LIKE = re.compile(r"[a-z_]+\.[a-z_]+")


def main_column_texts(page) -> list[str]:
    return page.locator("#audit-events tbody td[data-main]").all_inner_texts()


def test_leader_reads_the_audit_log_as_a_register(app, page):
    with app.app_context():
        approvals = db.session.scalar(
            sa.select(sa.func.count()).where(AuditEvent.action == "workflow.approve")
        )
        staff_events = db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.actor == "staff"))

    page.goto("/login")
    page.fill("input[name=login]", "leader")
    page.fill("input[name=password]", demo_password("leader"))
    page.click("#login-form [type=submit]")
    page.goto("/audit/")
    expect(page.locator("h1")).to_have_text("审计日志")
    expect(page.locator("#audit-events thead th").first).to_have_text("时间北京时间 UTC+8")
    # The main column reads as words: time, person, action, object; no code among them.
    texts = main_column_texts(page)
    assert len(texts) == 4 * page.locator("#audit-events tbody tr[data-seq]").count() > 0
    assert [t for t in texts if CODE_LIKE.search(t)] == []
    # Exports and verification are the auditors'.
    expect(page.locator("#exports")).to_have_count(0)
    expect(page.locator("text=完整性核验")).to_have_count(0)

    # By the label of an action: every approval, each "刘明 审核同意 整改事项「…」".
    page.fill("#action", "审核同意")
    page.click("#log-filter [type=submit]")
    rows = page.locator("#audit-events tbody tr[data-seq]")
    expect(rows).to_have_count(approvals)
    for row in rows.all():
        cells = row.locator("td[data-main]").all_inner_texts()
        assert cells[1:3] == ["刘明（党组书记）", "审核同意"], cells
        assert cells[3].startswith("整改事项「") and cells[3].endswith("」"), cells
    assert [t for t in main_column_texts(page) if CODE_LIKE.search(t)] == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "leader_reads_the_audit_log.png"), full_page=True)

    # By a person's name (part of it): the staff member's events, named, not by login.
    page.click("#log-filter a:has-text('清除')")
    page.fill("#actor", "李强")
    page.click("#log-filter [type=submit]")
    expect(page.locator("#actor")).to_have_value("李强")
    rows = page.locator("#audit-events tbody tr[data-seq]")
    expect(rows).to_have_count(min(staff_events, 50))
    assert set(rows.locator('td[data-main="actor"]').all_inner_texts()) == {"李强（经办人）"}

    # From a line to the item it is about.
    rows.locator("a[data-object-link]").first.click()
    expect(page).to_have_url(re.compile(r"/items/\d+$"))
