"""The import preview as the office edits it: the notice pasted or uploaded as .docx, the
header, each measure's text and each row's department and person corrected, and what was
typed kept through a refusal."""

import io
import json

import sqlalchemy as sa

from portal.accounts.models import Department
from portal.audit.models import AuditEvent
from portal.core.extensions import db
from portal.inspections.models import Inspection, Measure, RectificationItem
from portal.notices.models import NoticePreview
from portal.notices.parser import parse
from tests.conftest import TEST_PASSWORD
from tests.notices.test_formats import make_docx
from tests.notices.test_import_page import imported_count, preview_data, token_of, upload_text
from tests.notices.test_parser import NOTICE

TEXT = NOTICE.read_text(encoding="utf-8")
PARSED = parse(TEXT)
UPLOAD = "/inspections/import"
CONFIRM = "/inspections/import/confirm"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FIRST = "categories-0-problems-0"
END_BEFORE_START = "结束日期早于开始日期"


def header(**changes) -> dict:
    """The header fields as the preview shows them for the seed notice (plus `changes`)."""
    fields = {
        "title": PARSED.title,
        "inspected_unit": PARSED.inspected_unit,
        "inspection_team": PARSED.inspection_team,
        "start_date": PARSED.inspection_start.isoformat(),
        "end_date": PARSED.inspection_end.isoformat(),
        "feedback_date": PARSED.feedback_date.isoformat() if PARSED.feedback_date else "",
    }
    return {**fields, **changes}


def measure_texts() -> dict:
    """Every measure's text box, as shown."""
    return {
        f"categories-{i}-problems-{j}-measures-{k}-text": measure.text
        for i, category in enumerate(PARSED.categories)
        for j, problem in enumerate(category.problems)
        for k, measure in enumerate(problem.measures)
    }


def finance_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Department.id).where(Department.name == "财务科"))


def upload_docx(client, data: bytes, name="整改情况通报.docx", **fields):
    return client.post_form(
        UPLOAD, {"file": (io.BytesIO(data), name), **fields}, content_type="multipart/form-data"
    )


def test_a_pasted_notice_is_previewed_with_its_header_and_measures_editable(app, world, signed_in):
    response = upload_text(signed_in("office"), TEXT)
    assert response.status_code == 200
    page = response.text
    assert page.count("data-problem-row") == 15
    assert f'value="{PARSED.title}"' in page and f'value="{PARSED.inspected_unit}"' in page
    assert f'type="date" value="{PARSED.inspection_start.isoformat()}"' in page
    for name in ("title", "inspected_unit", "inspection_team", "start_date", "end_date", "feedback_date"):
        assert f'<label class="form-label" for="{name}">' in page, name
    first = PARSED.categories[0].problems[0].measures[0]
    assert f'name="{FIRST}-measures-0-text"' in page and first.text[:30] in page
    assert f'name="{FIRST}-department_id"' in page and "财务科" in page


def test_a_docx_notice_is_read_and_an_unreadable_one_is_explained(app, world, signed_in):
    office = signed_in("office")
    response = upload_docx(office, make_docx(TEXT))
    assert response.status_code == 200, response.text
    assert response.text.count("data-problem-row") == 15
    assert f'value="{PARSED.title}"' in response.text
    response = upload_docx(office, b"PK\x03\x04 not a document", name="坏文件.docx")
    assert response.status_code == 200 and 'id="upload-form"' in response.text
    assert "data-problem-row" not in response.text and 'id="form-errors"' in response.text


def test_neither_or_both_is_explained_and_the_pasted_text_kept(app, world, signed_in):
    office = signed_in("office")
    response = office.post_form(UPLOAD, {"text": ""})
    assert response.status_code == 200 and "请选择文件或粘贴通报正文" in response.text
    response = upload_docx(office, make_docx(TEXT), text="粘贴的通报正文")
    assert response.status_code == 200 and "不要同时提供" in response.text
    assert "粘贴的通报正文</textarea>" in response.text  # what was pasted stays in the box
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(NoticePreview)) == 0


def test_the_edited_header_measures_and_assignments_are_what_is_imported(app, world, signed_in):
    office = signed_in("office")
    token = token_of(upload_docx(office, make_docx(TEXT)))
    finance = finance_id(app)
    edits = {
        **header(
            title="南山区科技创新局巡察整改（修订）",
            inspected_unit="深圳市南山区科技创新局（科创中心）",
            inspection_team="区委第一巡察组",
            start_date="2019-10-08",
            end_date="2019-12-20",
            feedback_date="2020-01-10",
        ),
        **measure_texts(),
        f"{FIRST}-measures-0-text": "修订管理规定，\r\n并征求相关部门意见。",
        f"{FIRST}-department_id": str(finance),
        f"{FIRST}-staff_id": str(world.users["staff_resp"]),
        f"{FIRST}-leader_id": str(world.users["leader_resp"]),
    }
    response = office.post_form(CONFIRM, preview_data(token, TEXT, **edits))
    assert response.status_code == 302, response.text
    with app.app_context():
        inspection = db.session.scalar(sa.select(Inspection).where(Inspection.source_sha256.is_not(None)))
        assert (inspection.title, inspection.inspected_unit, inspection.inspection_team) == (
            "南山区科技创新局巡察整改（修订）",
            "深圳市南山区科技创新局（科创中心）",
            "区委第一巡察组",
        )
        assert [
            d.isoformat() for d in (inspection.start_date, inspection.end_date, inspection.feedback_date)
        ] == [
            "2019-10-08",
            "2019-12-20",
            "2020-01-10",
        ]
        items = db.session.scalars(
            sa.select(RectificationItem)
            .where(RectificationItem.inspection_id == inspection.id)
            .order_by(RectificationItem.id)
        ).all()
        first = items[0]
        assert (first.department_id, first.staff_id, first.responsible_leader_id) == (
            finance,
            world.users["staff_resp"],
            world.users["leader_resp"],
        )
        assert all(item.department_id is None for item in items[1:])
        measure = db.session.scalar(
            sa.select(Measure).where(Measure.item_id == first.id).order_by(Measure.position).limit(1)
        )
        assert measure.text == "修订管理规定，\n并征求相关部门意见。"  # line endings as typed, in LF
        # the creation events record what was imported: the header, the row's department
        events = {
            (e.action, int(e.object_id)): json.loads(e.payload)
            for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action.like("%.create")))
        }
        assert events[("inspection.create", inspection.id)]["title"] == "南山区科技创新局巡察整改（修订）"
        assert events[("item.create", first.id)]["department_id"] == finance
        assert events[("measure.create", measure.id)]["text"] == measure.text


def test_a_refused_preview_keeps_every_edit_and_says_where(app, world, signed_in):
    office = signed_in("office")
    token = token_of(upload_text(office, TEXT))
    finance = finance_id(app)
    edits = {
        **header(
            title="  ", inspected_unit="改过的被巡察单位", start_date="2019-13-45", end_date="2019-12-20"
        ),
        **measure_texts(),
        f"{FIRST}-measures-0-text": "改过的措施内容",
        f"{FIRST}-department_id": str(finance),
        f"{FIRST}-staff_id": str(world.users["staff_resp"]),
    }
    response = office.post_form(CONFIRM, preview_data(token, TEXT, **edits))
    assert response.status_code == 400
    page = response.text
    assert "请填写巡察标题" in page and "2026-11-28" in page  # the messages, by their fields
    title_at, message_at = page.index('id="title"'), page.index("请填写巡察标题")
    assert 0 < message_at - title_at < 600
    assert 'value="2019-13-45"' in page  # the bad date as typed
    assert 'value="改过的被巡察单位"' in page and "改过的措施内容</textarea>" in page
    assert f'<option selected value="{finance}">财务科</option>' in page
    assert f'<option selected value="{world.users["staff_resp"]}">' in page
    assert imported_count(app) == 0
    # the same preview, corrected, is still usable
    edits.update(title="改过的标题", start_date="2019-10-08")
    response = office.post_form(CONFIRM, preview_data(token, TEXT, **edits))
    assert response.status_code == 302, response.text
    with app.app_context():
        assert db.session.scalar(
            sa.select(Inspection.title).where(Inspection.source_sha256.is_not(None))
        ) == ("改过的标题")


def test_an_end_before_the_start_is_refused_next_to_the_end(app, world, signed_in):
    office = signed_in("office")
    token = token_of(upload_text(office, TEXT))
    data = preview_data(token, TEXT, **header(start_date="2019-12-20", end_date="2019-10-08"))
    response = office.post_form(CONFIRM, data)
    assert response.status_code == 400
    end_at = response.text.index('id="end_date"')
    assert 0 < response.text.index(END_BEFORE_START) - end_at < 600
    assert imported_count(app) == 0


def test_a_department_that_is_gone_is_refused_not_dropped(app, world, signed_in):
    office = signed_in("office")
    token = token_of(upload_text(office, TEXT))
    response = office.post_form(CONFIRM, preview_data(token, TEXT, **{f"{FIRST}-department_id": "9999"}))
    assert response.status_code == 400 and "该部门已不存在" in response.text
    assert imported_count(app) == 0


def test_a_stale_or_foreign_preview_is_explained_with_the_edits_kept(app, world, signed_in, make_user):
    office = signed_in("office")
    token = token_of(upload_text(office, TEXT))
    edited = {**header(title="我的标题"), f"{FIRST}-measures-0-text": "我改过的措施"}
    for bogus in ("", "no-such-preview", "x" * 500):
        response = office.post_form(CONFIRM, preview_data(bogus, TEXT, **edited))
        assert response.status_code == 400 and 'id="preview-unavailable"' in response.text
        assert "请重新上传通报" in response.text and 'value="我的标题"' in response.text
        assert "我改过的措施</textarea>" in response.text
    make_user("office2", "office")
    colleague = app.test_client()
    assert colleague.login("office2", TEST_PASSWORD).status_code == 302
    response = colleague.post_form(CONFIRM, preview_data(token, TEXT, **edited))
    assert response.status_code == 400 and "这份预览是由其他账号上传的" in response.text
    assert 'value="我的标题"' in response.text
    assert imported_count(app) == 0


def test_an_emptied_measure_is_refused_unless_its_problem_is_left_out(app, world, signed_in):
    office = signed_in("office")
    token = token_of(upload_text(office, TEXT))
    emptied = {f"{FIRST}-measures-0-text": "  "}
    response = office.post_form(CONFIRM, preview_data(token, TEXT, **emptied))
    assert response.status_code == 400 and "整改措施内容不能为空" in response.text
    data = preview_data(token, TEXT, **emptied)
    del data[f"{FIRST}-keep"]  # the office leaves the problem out instead
    response = office.post_form(CONFIRM, data)
    assert response.status_code == 302, response.text
    with app.app_context():
        inspection_id = db.session.scalar(
            sa.select(Inspection.id).where(Inspection.source_sha256.is_not(None))
        )
        items = sa.select(sa.func.count()).where(RectificationItem.inspection_id == inspection_id)
        assert db.session.scalar(items) == 14
