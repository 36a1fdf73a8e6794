"""The import page refuses what it cannot read safely with a clear message and keeps what was
typed: no `text` field at all, a notice larger than the cap, control characters. (The upload page
answers its refusals with 200, as it does for an empty or binary file.)"""

import io

import pytest
import sqlalchemy as sa

from portal.core.extensions import db
from portal.notices.forms import NOTICE_MAX_CHARS
from portal.notices.models import NoticePreview
from tests.notices.test_parser import NOTICE


def _previews(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(NoticePreview))


def test_a_post_without_the_text_field_is_explained(app, world, signed_in):
    office = signed_in("office")
    response = office.post_form("/inspections/import", {})
    assert response.status_code == 200 and "请选择文件或粘贴通报正文" in response.text
    response = office.post_form("/inspections/import", {"text": "   "})
    assert response.status_code == 200 and "文件为空" in response.text  # as an empty file is
    assert _previews(app) == 0


def test_a_pasted_notice_larger_than_the_cap_is_refused_and_kept(app, world, signed_in):
    text = NOTICE.read_text(encoding="utf-8")
    huge = text + "\n" + "整改" * ((NOTICE_MAX_CHARS - len(text)) // 2 + 10)
    response = signed_in("office").post_form("/inspections/import", {"text": huge})
    assert response.status_code == 200
    assert f"最多 {NOTICE_MAX_CHARS:,} 个字符" in response.text
    assert text[:40] in response.text  # what was pasted is still in the box
    assert _previews(app) == 0


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_an_uploaded_notice_larger_than_the_cap_is_refused(app, world, signed_in, encoding):
    text = NOTICE.read_text(encoding="utf-8")
    huge = (text + "\n" + "整改" * (NOTICE_MAX_CHARS // 2 + 10)).encode(encoding)
    response = signed_in("office").post_form(
        "/inspections/import", {"file": (io.BytesIO(huge), "通报.txt")}, content_type="multipart/form-data"
    )
    assert response.status_code == 200 and f"最多 {NOTICE_MAX_CHARS:,} 个字符" in response.text
    assert _previews(app) == 0


def test_a_notice_at_the_cap_is_still_read(app, world, signed_in):
    text = NOTICE.read_text(encoding="utf-8")
    assert len(text) < NOTICE_MAX_CHARS // 5  # the cap leaves room for real notices
    response = signed_in("office").post_form("/inspections/import", {"text": text})
    assert response.status_code == 200 and _previews(app) == 1


def test_control_characters_in_a_pasted_notice_are_refused(app, world, signed_in):
    text = NOTICE.read_text(encoding="utf-8")
    response = signed_in("office").post_form("/inspections/import", {"text": text + "\x00"})
    assert response.status_code == 200 and "控制字符" in response.text
    assert _previews(app) == 0


def test_parsed_text_the_documents_cannot_hold_is_named_before_anything_is_written(app):
    from decimal import Decimal

    from flask_babel import force_locale

    from portal.notices.parser import Category, Measure, ParsedNotice, Problem
    from portal.notices.views import import_problems

    problem = Problem(number="3", title="专项资金管理不规范", text="长" * 10_001)
    problem.measures = [Measure(label="一是", text="措" * 10_001)]
    problem.money_to_recover = Decimal("1E+400")
    category = Category(label="一", title="党建", problems=[problem])
    parsed = ParsedNotice(title="题" * 301, categories=[category])
    with app.test_request_context(), force_locale("zh"):
        found = import_problems(parsed)
    assert found == [
        "标题：最多 300 个字符（当前 301 个）。",
        "3 专项资金管理不规范：最多 10,000 个字符（当前 10,001 个）。",
        "3 专项资金管理不规范 一是：最多 10,000 个字符（当前 10,001 个）。",
        "3 专项资金管理不规范：请输入 0 至 999,999,999,999.99 元之间的金额，最多两位小数，例如 161000.50。",
    ]
    assert import_problems(ParsedNotice(title="通报")) == []


def test_a_file_name_with_control_characters_is_kept_without_them(app, world, signed_in):
    response = signed_in("office").post_form(
        "/inspections/import",
        {"file": (io.BytesIO(NOTICE.read_bytes()), "通报\x00\x1b" + "长" * 300 + ".txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    with app.app_context():
        [name] = db.session.scalars(sa.select(NoticePreview.filename)).all()
    assert name.startswith("通报长") and "\x00" not in name and len(name) <= 255
