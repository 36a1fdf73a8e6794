"""Journey: the office uploads the seed notice as a .docx, corrects the header (title and
inspected unit), gives one row a department and a person, rewrites one measure, and imports;
the inspection and the item hold what was typed. The preview is photographed at desktop and
phone width (on a phone every field takes the full width: no one-character columns)."""

import pytest
import sqlalchemy as sa

from portal.accounts.operations import create_department
from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.inspections.models import Inspection, Measure, RectificationItem
from tests.browser.conftest import SCREENSHOTS
from tests.browser.playwright_api import expect
from tests.browser.test_import_journey import app  # noqa: F401  (an empty database with office, leader, staff)
from tests.conftest import TEST_PASSWORD
from tests.notices.test_formats import make_docx
from tests.notices.test_parser import NOTICE

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 800}
TITLE = "南山区科技创新局巡察整改情况（修订稿）"
UNIT = "深圳市南山区科技创新局（含科创中心）"
MEASURE = "修订《管理规定》，入驻评审邀请相关部门参加，并于2020年4月发布。"
FIRST = "categories-0-problems-0"


@pytest.fixture
def department(app):  # noqa: F811  (the fixture imported above)
    with app.app_context():
        create_department(Actor.system("test"), "产业发展科")
        db.session.commit()


def test_import_a_docx_notice_with_an_edited_header(page, app, department):  # noqa: F811
    page.set_viewport_size(DESKTOP)
    page.goto("/login")
    page.fill("input[name=login]", "office")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("#login-form [type=submit]")
    page.goto("/inspections/import")
    page.set_input_files(
        "#upload-form input[name=file]",
        {
            "name": "南山区科技创新局整改情况通报.docx",
            "mimeType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "buffer": make_docx(NOTICE.read_text(encoding="utf-8")),
        },
    )
    page.click("#upload-form [type=submit]")
    expect(page.locator("[data-problem-row]")).to_have_count(15)
    expect(page.get_by_label("标题", exact=True)).to_have_value(
        "中共深圳市南山区科技创新局党组关于巡察整改情况的通报"
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "import_docx_preview_1366.png"), full_page=True)

    # the office corrects the preview on a phone
    page.set_viewport_size(PHONE)
    page.get_by_label("标题", exact=True).fill(TITLE)
    page.get_by_label("被巡察单位", exact=True).fill(UNIT)
    row = page.locator("[data-problem-row]").first
    row.get_by_role("combobox", name="问题1：责任部门").select_option(label="产业发展科")
    row.get_by_role("combobox", name="问题1：责任人").select_option(label="张伟")
    measure = row.get_by_role("textbox", name="问题1：措施1内容")
    expect(measure).to_contain_text("管理规定")
    measure.fill(MEASURE)
    title_box = page.get_by_label("标题", exact=True).bounding_box()
    assert title_box["width"] > 250  # a full-width field, not a squeezed column
    assert measure.bounding_box()["width"] > 200
    page.screenshot(path=str(SCREENSHOTS / "import_docx_preview_375.png"), full_page=True)

    page.click("#create-inspection")
    expect(page.locator(".alert-success")).to_contain_text("已导入 15 个整改事项")
    expect(page.locator("h1")).to_contain_text(TITLE)
    expect(page.locator("main")).to_contain_text(UNIT)
    page.set_viewport_size(DESKTOP)
    with app.app_context():
        inspection = db.session.scalar(sa.select(Inspection))
        item = db.session.scalar(
            sa.select(RectificationItem)
            .where(RectificationItem.inspection_id == inspection.id)
            .order_by(RectificationItem.id)
            .limit(1)
        )
        item_id, department_name = item.id, item.department.name
        staff_name = item.staff.display_name
        text = db.session.scalar(
            sa.select(Measure.text).where(Measure.item_id == item.id).order_by(Measure.position).limit(1)
        )
    assert (inspection.title, inspection.inspected_unit) == (TITLE, UNIT)
    assert (department_name, staff_name, text) == ("产业发展科", "张伟", MEASURE)
    page.goto(f"/items/{item_id}")
    main = page.locator("main")
    expect(main).to_contain_text("产业发展科")
    expect(main).to_contain_text("张伟")
    expect(main).to_contain_text(MEASURE)
