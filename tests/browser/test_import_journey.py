"""Journey: the office imports the seed notice, corrects a title in the preview, creates it; the
same notice pasted again (a browser sends a textarea with CRLF line endings) is refused."""

import shutil
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.accounts.operations import create_user
from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.inspections.models import Inspection, RectificationItem
from portal.notices.models import NoticePreview
from tests.browser.conftest import SCREENSHOTS
from tests.browser.playwright_api import expect
from tests.conftest import TEST_PASSWORD, base_config, truncate_all
from tests.helpers import Client
from tests.notices.test_parser import NOTICE

pytestmark = pytest.mark.browser


@pytest.fixture
def app(test_database, tmp_path):
    """The demo already holds the seed notice: this journey starts from an empty database with
    an office, a leader and a staff account."""
    if test_database.kind == "sqlite":
        target = tmp_path / "rectify.db"
        shutil.copyfile(test_database.template, target)
        url = f"sqlite:///{target}"
    else:
        url = test_database.url
    app = create_app(base_config(tmp_path, url))
    app.test_client_class = Client
    with app.app_context():
        for login, name, role in (
            ("office", "王芳", "office"),
            ("leader", "李强", "leader"),
            ("staff", "张伟", "staff"),
        ):
            create_user(
                Actor.system("test"), login=login, display_name=name, password=TEST_PASSWORD, roles=(role,)
            )
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        if test_database.kind == "postgresql":
            truncate_all(db.engine)
        db.engine.dispose()


def sign_in_and_upload(page) -> None:
    page.goto("/login")
    page.fill("input[name=login]", "office")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("#login-form [type=submit]")
    page.locator("#nav-entries").get_by_text("巡察整改", exact=True).click()
    page.click("#import-notice")
    page.set_input_files("#upload-form input[name=file]", str(NOTICE))
    page.click("#upload-form [type=submit]")
    expect(page.locator("[data-problem-row]")).to_have_count(15)


def imported(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Inspection))


def test_import_the_seed_notice_once(page, app):
    sign_in_and_upload(page)
    warnings = page.locator("#warnings")
    expect(warnings).to_contain_text(
        "问题 1“对基层科普工作重视不够”：措施序号 一、二、四 不连续（已按原文保留）。"
    )
    expect(warnings).not_to_contain_text("consecutive")
    expect(page.locator("textarea[name=source]")).to_have_count(0)  # the text stays on the server
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "import_preview_with_warnings.png"), full_page=True)
    title = page.locator("input[name='categories-0-problems-0-title']")
    expect(title).to_have_value("加强科创中心产业用房管理")
    title.fill("加强科创中心产业用房的管理")
    page.click("#create-inspection")
    expect(page.locator(".alert-success")).to_contain_text("已导入 15 个整改事项")
    expect(page.locator("#state-counts [data-count=total]")).to_have_text("15")
    expect(page.locator("section[data-category]")).to_have_count(4)
    expect(page.get_by_text("加强科创中心产业用房的管理", exact=True)).to_be_visible()
    inspection_url = page.url

    # The same notice pasted again, with Windows line endings: refused, pointing to the first.
    page.click("#nav-entries >> text=巡察整改")
    page.click("#import-notice")
    page.fill("#upload-form textarea[name=text]", NOTICE.read_text(encoding="utf-8").replace("\n", "\r\n"))
    page.click("#upload-form [type=submit]")
    refusal = page.locator("#already-imported")
    expect(refusal).to_contain_text("该通报已导入为")
    expect(refusal).to_contain_text("换行符或空格不同也一样")
    expect(page.locator("#create-inspection")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "import_refused_crlf_copy.png"), full_page=True)
    page.click("#open-existing")
    assert page.url == inspection_url

    # The same as a Windows file: refused too.
    page.goto("/inspections/import")
    page.set_input_files(
        "#upload-form input[name=file]",
        {
            "name": "通报-windows.txt",
            "mimeType": "text/plain",
            "buffer": NOTICE.read_bytes().replace(b"\n", b"\r\n"),
        },
    )
    page.click("#upload-form [type=submit]")
    expect(page.locator("#already-imported")).to_be_visible()
    assert imported(app) == 1


def test_an_expired_preview_keeps_the_corrections(page, app):
    sign_in_and_upload(page)
    page.fill("input[name='categories-0-problems-0-title']", "加强科创中心产业用房的管理")
    page.uncheck("input[name='categories-3-problems-2-keep']")
    with app.app_context():  # the office went to lunch
        for preview in db.session.scalars(sa.select(NoticePreview)):
            preview.created_at -= timedelta(hours=2)
        db.session.commit()
    page.click("#create-inspection")
    expect(page.locator("#preview-unavailable")).to_contain_text("这份预览已过期")
    expect(page.locator("input[name='categories-0-problems-0-title']")).to_have_value(
        "加强科创中心产业用房的管理"
    )
    page.screenshot(path=str(SCREENSHOTS / "import_preview_expired.png"), full_page=True)
    page.set_input_files("#upload-form input[name=file]", str(NOTICE))
    page.click("#preview-again")
    expect(page.locator("input[name='categories-0-problems-0-title']")).to_have_value(
        "加强科创中心产业用房的管理"
    )
    expect(page.locator("input[name='categories-3-problems-2-keep']")).not_to_be_checked()
    page.click("#create-inspection")
    expect(page.locator(".alert-success")).to_contain_text("已导入 14 个整改事项")
    with app.app_context():
        titles = db.session.scalars(sa.select(RectificationItem.title)).all()
        assert "加强科创中心产业用房的管理" in titles and len(titles) == 14
