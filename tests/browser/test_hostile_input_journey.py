"""Journey: the office pastes more than a field holds and a stray control character, is told
what is wrong in Chinese with everything typed still there, corrects it and saves; the version
history shows two long texts too different to compare as "changed, N → M characters"."""

import random

import pytest
import sqlalchemy as sa

from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.inspections.operations import update_document
from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.browser.playwright_api import expect

pytestmark = pytest.mark.browser


def _an_item(app) -> int:
    from portal.inspections.models import RectificationItem

    with app.app_context():
        return db.session.scalar(
            sa.select(RectificationItem.id)
            .where(RectificationItem.state == "in_progress")
            .order_by(RectificationItem.id)
        )


def test_too_long_and_control_characters_are_explained_and_kept(page, app):
    item_id = _an_item(app)
    sign_in(page, "office")
    page.goto(f"/items/{item_id}/edit")
    long_summary = "已完成整改，" + "整改" * 5_000  # 10,006 characters
    page.fill("textarea[name=completion_summary]", long_summary)
    page.fill("input[name=change_note]", "补充整改成效\x07")
    page.click("#document-form [type=submit]")
    expect(page.get_by_text("最多 10,000 个字符（当前 10,006 个）。")).to_be_visible()
    expect(page.get_by_text("请删除此栏中的控制字符")).to_be_visible()
    assert page.locator("textarea[name=completion_summary]").input_value() == long_summary
    page.screenshot(path=str(SCREENSHOTS / "hostile_input_refused.png"), full_page=True)

    page.fill("textarea[name=completion_summary]", "已完成整改，制度已修订。")
    page.fill("input[name=change_note]", "补充整改成效")
    page.click("#document-form [type=submit]")
    expect(page.locator(".alert-success")).to_be_visible()


def test_texts_too_different_to_compare_are_summarised(page, app):
    item_id = _an_item(app)
    rng = random.Random(5)
    words = "整改问题措施责任落实制度建设资金追回专项检查"
    with app.app_context():
        from portal.inspections.models import RectificationItem

        item = db.session.get(RectificationItem, item_id)
        for _ in range(2):
            text = "".join(rng.choice(words) for _ in range(9_000))
            update_document(Actor.system("test"), item, {"feedback_text": text})
        update_document(Actor.system("test"), item, {"title": item.title + "（修订）"})
        db.session.commit()
    sign_in(page, "office")
    page.goto(f"/versions/item/{item_id}")
    page.select_option("#a", index=page.locator("#a option").count() - 3)
    page.select_option("#b", index=page.locator("#b option").count() - 2)
    page.click("#compare-form [type=submit]")
    expect(page.locator("#diff .diff-summary")).to_have_text("已修改：9,000 → 9,000 个字符")
    page.screenshot(path=str(SCREENSHOTS / "hostile_input_diff_summary.png"), full_page=True)
    page.select_option("#a", index=page.locator("#a option").count() - 2)
    page.select_option("#b", index=page.locator("#b option").count() - 1)
    page.click("#compare-form [type=submit]")
    expect(page.locator("#diff ins.diff-insert")).to_have_text("（修订）")
