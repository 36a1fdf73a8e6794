"""The office downloads the 对账销号单 of a completed demo item from its page and files it."""

import io
from pathlib import Path

import docx
import pytest
import sqlalchemy as sa

from portal.core.extensions import db
from portal.evidence.models import Evidence
from portal.inspections.models import RectificationItem
from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.browser.playwright_api import expect

pytestmark = pytest.mark.browser


def _completed_item(app) -> dict:
    with app.app_context():
        item = db.session.scalar(
            sa.select(RectificationItem)
            .where(RectificationItem.state == "completed")
            .order_by(RectificationItem.id)
        )
        assert item is not None, "the demo has completed items"
        hashes = db.session.scalars(
            sa.select(Evidence.sha256).where(
                Evidence.item_id == item.id, Evidence.withdrawn_at.is_(None), Evidence.sha256.is_not(None)
            )
        ).all()
        return {
            "id": item.id,
            "title": item.title,
            "measures": [m.text for m in item.measures],
            "leader": item.responsible_leader.display_name,
            "hashes": hashes,
        }


def _text(path: str) -> str:
    document = docx.Document(io.BytesIO(Path(path).read_bytes()))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_office_downloads_the_closing_sheet_of_a_completed_item(page, app):
    item = _completed_item(app)
    sign_in(page, "office")
    page.goto(f"/items/{item['id']}")
    expect(page.locator("#item-state [data-state]")).to_have_text("已完成")
    link = page.locator("#closing-sheet")
    expect(link).to_have_text("对账销号单（.docx）")
    expect(page.locator("#follow-up-due")).to_be_visible()  # 回头看 is on the calendar
    page.screenshot(path=str(SCREENSHOTS / "closing_sheet_item_page.png"), full_page=True)
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.startswith(
        "整改事项对账销号单"
    ) and download.suggested_filename.endswith(".docx")
    text = _text(download.path())
    assert "整改事项对账销号单" in text and item["title"] in text
    assert item["measures"] and all(measure in text for measure in item["measures"])
    assert item["leader"] in text and "审核同意" in text and "整改完成：" in text
    for sha256 in item["hashes"]:
        assert sha256 in text
