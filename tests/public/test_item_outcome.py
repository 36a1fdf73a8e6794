"""The public item page says what was found, what came of it, who is responsible and by when;
"is it really fixed?" suggests no answer; the tracking-code slip and the lookup say when and
how far a report has got."""

import re
from datetime import date

import pytest
import sqlalchemy as sa

from portal.accounts.models import Department
from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.core.timeutil import today as portal_today
from portal.feedback.models import FixCheck
from portal.inspections.models import RectificationItem
from portal.inspections.operations import update_document


@pytest.fixture
def item_id(app, world):
    item_id = world.new_item(state="completed", deadline=date(2026, 6, 30))
    world.fire("leader_resp", item_id, "publish")
    with app.app_context():
        item = db.session.get(RectificationItem, item_id)
        item.department_id = db.session.scalar(sa.select(Department.id).where(Department.name == "财务科"))
        db.session.commit()
    return item_id


def test_the_item_page_shows_problem_outcome_unit_and_deadline(app, item_id):
    page = app.test_client().get(f"/public/items/{item_id}").text
    assert re.search(r'id="public-department">财务科<', page)
    assert re.search(r'id="public-deadline">2026-06-30<', page)
    assert "反馈问题" in page and "加强科创中心产业用房管理" in page
    assert "整改成效" in page and "暂未公开整改成效" in page  # no public summary yet
    with app.app_context():  # (through the operation, as every write: the page's tag moves)
        item = db.session.get(RectificationItem, item_id)
        update_document(Actor.system("test"), item, {"public_summary": "已修订并公开发布管理规定。"})
        db.session.commit()
    page = app.test_client().get(f"/public/items/{item_id}").text
    assert re.search(r'id="public-summary">已修订并公开发布管理规定。<', page)
    assert "暂未公开整改成效" not in page


def test_is_it_fixed_has_no_answer_chosen_and_refuses_none(app, item_id):
    client = app.test_client()
    page = client.get(f"/public/items/{item_id}").text
    select = re.search(r'<select[^>]*name="answer".*?</select>', page, re.S).group(0)
    assert '<option value="">请选择</option>' in select and "selected" not in select  # nothing chosen
    response = client.post_form(f"/public/items/{item_id}/fixed", {"answer": "", "comment": "门口仍有杂物"})
    assert response.status_code == 400
    assert "请选择一个答案" in response.text and "门口仍有杂物" in response.text  # what was typed is kept
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FixCheck)) == 0
    assert client.post_form(f"/public/items/{item_id}/fixed", {"answer": "fixed"}).status_code == 302


def test_the_slip_and_the_lookup_give_item_date_and_reply_state(app, world, item_id, signed_in):
    client = app.test_client()
    inspection_id = world.inspections["single"]
    slip = client.post_form(
        f"/public/inspections/{inspection_id}/items/{item_id}/feedback",
        {"kind": "suggestion", "text": "建议公开修订后的规定全文。"},
    )
    assert slip.status_code == 201
    code = re.search(r'id="tracking-code">([A-Z0-9-]+)<', slip.text).group(1)
    with app.app_context():  # the portal's day (its time zone), not the machine's
        today = portal_today().isoformat()
    assert re.search(rf'id="submitted-at">{today}', slip.text)
    assert 'id="copy-code"' in slip.text and 'id="print-code"' in slip.text
    assert "/static/js/copy-code.js" in slip.text and "public-print.css" in slip.text

    lookup = client.post_form("/public/feedback/lookup", {"code": code}).text
    assert re.search(
        rf'id="lookup-item"><a href="/public/items/{item_id}">加强科创中心产业用房管理</a>', lookup
    )
    assert re.search(rf'id="lookup-date">{today}<', lookup)
    assert 'data-moderation="pending">待审核<' in lookup and "尚未答复" in lookup

    office = signed_in("office")
    with app.app_context():
        from portal.feedback.models import Feedback

        feedback_id = db.session.scalar(sa.select(Feedback.id))
    office.post_form(f"/feedback/{feedback_id}/reply", {"reply": "已采纳，将公开全文。"})
    office.post_form("/feedback/bulk", {"ids": [feedback_id], "action": "publish"})
    lookup = client.post_form("/public/feedback/lookup", {"code": code}).text
    assert 'data-moderation="published">已公开<' in lookup
    assert f"已答复（{today}）" in lookup and "已采纳，将公开全文。" in lookup
