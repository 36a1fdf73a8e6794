"""Journey: the office uploads a notice (.docx) that states its items' status, sees in the preview
the state each item will start in, changes one, confirms, and finds the items in those states,
the completed one's history citing the notice's line."""

import pytest
import sqlalchemy as sa

from portal.core.extensions import db
from portal.demo.cli import demo_password
from portal.inspections.models import RectificationItem
from tests.browser.conftest import SCREENSHOTS
from tests.browser.playwright_api import expect
from tests.notices.test_formats import make_docx
from tests.notices.test_import_status import STATUS_NOTICE

pytestmark = pytest.mark.browser


def test_the_office_imports_a_notice_with_its_states(page, app):
    page.goto("/login")
    page.fill("input[name=login]", "office")
    page.fill("input[name=password]", demo_password("office"))
    page.click("#login-form [type=submit]")
    expect(page.locator("#logout")).to_be_visible()
    page.goto("/inspections/import")
    expect(page.get_by_label("通报文件（.txt、.docx 或带文字层的 .pdf）")).to_be_visible()
    page.set_input_files(
        "#upload-form input[name=file]",
        {
            "name": "整改情况通报.docx",
            "mimeType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "buffer": make_docx(STATUS_NOTICE),
        },
    )
    page.click("#upload-form [type=submit]")
    expect(page.locator("[data-problem-row]")).to_have_count(4)

    # each select has an accessible name and shows the state the notice gives
    states = [page.get_by_role("combobox", name=f"问题{n}导入后的状态") for n in (1, 2, 3, 4)]
    for select, value in zip(states, ("completed", "in_progress", "in_progress", "assigned"), strict=True):
        expect(select).to_have_value(value)
    first_row = page.locator("[data-problem-row]").first
    expect(first_row.locator("[data-stated]")).to_contain_text("通报：已完成 · 第6行")
    expect(first_row.locator("[data-stated] span")).to_have_attribute("title", "(一)已整改完成的问题")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "import_preview_states.png"), full_page=True)

    states[3].select_option("completed")  # the office knows the last one is done too
    page.click("#create-inspection")
    expect(page.locator(".alert-success")).to_contain_text("已导入 4 个整改事项")
    counts = page.locator("#state-counts")
    expect(counts.locator("[data-count=assigned]")).to_have_text("0")
    expect(counts.locator("[data-count=in_progress]")).to_have_text("2")
    expect(counts.locator("[data-count=completed]")).to_have_text("2")
    page.screenshot(path=str(SCREENSHOTS / "import_states_applied.png"), full_page=True)

    page.get_by_role("link", name="资金管理不规范").click()
    expect(page.locator("main")).to_contain_text("依通报所述：第6行‘(一)已整改完成的问题’")
    with app.app_context():
        titles = dict(
            db.session.execute(
                sa.select(RectificationItem.title, RectificationItem.state).where(
                    RectificationItem.title.in_(
                        ["资金管理不规范", "制度建设不健全", "档案管理混乱", "队伍建设滞后"]
                    )
                )
            ).all()
        )
    assert titles == {
        "资金管理不规范": "completed",
        "制度建设不健全": "in_progress",
        "档案管理混乱": "in_progress",
        "队伍建设滞后": "completed",
    }
