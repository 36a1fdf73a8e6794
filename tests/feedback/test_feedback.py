"""Public feedback: codes, validation that keeps input, escaping, honeypot, rate limits,
moderation, and contact details that never reach a public page."""

import json
import re

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.core.extensions import db
from portal.feedback.models import Feedback


@pytest.fixture
def published_item(app, world):
    item_id = world.new_item(state="completed")
    world.fire("leader_resp", item_id, "publish")
    return {"item": item_id, "inspection": world.inspections["single"]}


def feedback_url(target):
    return f"/public/inspections/{target['inspection']}/items/{target['item']}/feedback"


def give(client, target, headers=None, **data):
    form = {"kind": "not_rectified", "text": "会议记录仍未归档，请核实。", **data}
    return client.post_form(feedback_url(target), form, headers=headers or {})


def test_feedback_gets_a_code_shown_once(app, published_item):
    client = app.test_client()
    response = give(client, published_item, name="张三", phone="13800138000", email="z@example.cn")
    assert response.status_code == 201
    code = re.search(r'id="tracking-code">([A-Z0-9-]+)<', response.text).group(1)
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    with app.app_context():
        row = db.session.scalar(sa.select(Feedback))
        assert code not in row.code_hash and row.moderation_state == "pending"
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "feedback.submit"))
        payload = json.loads(event.payload)
        assert payload["contact_given"] is True
        assert "13800138000" not in event.payload and "z@example.cn" not in event.payload
    lookup = client.post_form("/public/feedback/lookup", {"code": code.lower().replace("-", " ")})
    assert 'data-moderation="pending"' in lookup.text
    wrong = client.post_form("/public/feedback/lookup", {"code": "AAAA-BBBB-CCCC"})
    assert wrong.status_code == 200 and 'id="lookup-result"' not in wrong.text
    assert "invalid-feedback" in wrong.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": ""}, "text"),
        ({"text": "短"}, "text"),
        ({"text": "长" * 2001}, "text"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "call me"}, "phone"),
    ],
)
def test_bad_input_is_explained_and_kept(app, published_item, data, message):
    client = app.test_client()
    response = give(client, published_item, name="李四<b>", **data)
    assert response.status_code == 400
    assert 'value="李四&lt;b&gt;"' in response.text  # kept, escaped
    assert f'id="{message}"' in response.text and "invalid-feedback" in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Feedback)) == 0


def test_honeypot(app, published_item):
    assert give(app.test_client(), published_item, website="http://spam.example").status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Feedback)) == 0


def test_unpublished_items_take_no_feedback(app, world):
    hidden = world.new_item()
    response = app.test_client().post_form(
        f"/public/inspections/{world.inspections['single']}/items/{hidden}/feedback",
        {"kind": "suggestion", "text": "任何内容都不应保存"},
    )
    assert response.status_code == 404


def test_rate_limit_is_per_client_and_ignores_forged_headers(app, published_item):
    app.config["FEEDBACK_RATE_LIMIT"] = "2 per minute"
    client = app.test_client()
    assert give(client, published_item).status_code == 201
    assert give(client, published_item, headers={"X-Forwarded-For": "1.2.3.4"}).status_code == 201
    third = give(client, published_item, headers={"X-Forwarded-For": "5.6.7.8"})
    assert third.status_code == 429 and "请求过于频繁" in third.text


def test_trusted_proxy_count_takes_the_forwarded_client(app, published_item):
    from werkzeug.middleware.proxy_fix import ProxyFix

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)  # what TRUSTED_PROXIES=1 installs
    app.config["FEEDBACK_RATE_LIMIT"] = "1 per minute"
    client = app.test_client()
    assert give(client, published_item, headers={"X-Forwarded-For": "10.0.0.1"}).status_code == 201
    assert give(client, published_item, headers={"X-Forwarded-For": "10.0.0.1"}).status_code == 429
    assert give(client, published_item, headers={"X-Forwarded-For": "10.0.0.2"}).status_code == 201


def test_lookups_are_rate_limited(app, published_item):
    app.config["LOOKUP_RATE_LIMIT"] = "3 per minute"
    client = app.test_client()
    statuses = [
        client.post_form("/public/feedback/lookup", {"code": f"AAAA-BBBB-CCC{n}"}).status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


def test_moderation_reply_publish_and_public_display(app, published_item, signed_in):
    visitor = app.test_client()
    response = give(
        visitor,
        published_item,
        text="<script>alert('x')</script>整改不到位",
        name="王五",
        phone="13900139000",
    )
    code = re.search(r'id="tracking-code">([A-Z0-9-]+)<', response.text).group(1)
    office = signed_in("office")
    queue = office.get("/feedback/").text
    assert "&lt;script&gt;" in queue and "<script>alert" not in queue and "13900139000" in queue
    with app.app_context():
        feedback_id = db.session.scalar(sa.select(Feedback.id))
    assert (
        office.post_form(f"/feedback/{feedback_id}/reply", {"reply": "已核实，正在督促整改。"}).status_code
        == 302
    )
    assert (
        office.post_form("/feedback/bulk", {"ids": [feedback_id], "action": "reject"}).status_code == 302
    )  # reject without a comment is refused
    with app.app_context():
        assert db.session.get(Feedback, feedback_id).moderation_state == "pending"
    # the list starts at "please choose": applying it says so, and changes nothing
    assert 'value="" selected' in office.get("/feedback/").text
    unchosen = office.post_form("/feedback/bulk", {"ids": [feedback_id], "action": ""})
    assert unchosen.status_code == 302
    assert "请先选择对所选反馈的处理方式" in office.get(unchosen.location).text
    with app.app_context():
        assert db.session.get(Feedback, feedback_id).moderation_state == "pending"
    assert office.post_form("/feedback/bulk", {"ids": [feedback_id], "action": "publish"}).status_code == 302
    page = visitor.get(f"/public/items/{published_item['item']}").text
    assert "已核实，正在督促整改。" in page and "&lt;script&gt;" in page
    assert "王五" not in page and "13900139000" not in page
    lookup = visitor.post_form("/public/feedback/lookup", {"code": code}).text
    assert 'data-moderation="published"' in lookup and "已核实，正在督促整改。" in lookup
    assert signed_in("staff_resp").get("/feedback/").status_code == 403
    assert signed_in("auditor").get("/feedback/").status_code == 200
    assert (
        signed_in("auditor")
        .post_form("/feedback/bulk", {"ids": [feedback_id], "action": "mark_spam"})
        .status_code
        == 403
    )


def test_edits_keep_the_original_for_auditors(app, published_item, signed_in):
    give(app.test_client(), published_item, text="我的电话是13700137000，整改不到位")
    with app.app_context():
        feedback_id = db.session.scalar(sa.select(Feedback.id))
    office = signed_in("office")
    office.post_form(f"/feedback/{feedback_id}/edit", {"text": "（已隐去个人信息）整改不到位"})
    with app.app_context():
        row = db.session.get(Feedback, feedback_id)
        assert row.text == "（已隐去个人信息）整改不到位"
        assert row.original_text == "我的电话是13700137000，整改不到位"
    assert "13700137000" in signed_in("auditor").get("/feedback/").text


def test_pending_badge_for_the_office(app, published_item, signed_in):
    give(app.test_client(), published_item)
    assert 'data-badge="moderation_queue">1<' in signed_in("office").get("/").text


def test_feedback_without_a_csrf_token_is_refused(app, published_item):
    response = app.test_client().post(
        feedback_url(published_item), data={"kind": "suggestion", "text": "没有令牌的提交"}
    )
    assert response.status_code == 400 and "安全令牌" in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Feedback)) == 0


def test_the_moderation_queue_comes_a_page_at_a_time(app, world, signed_in, monkeypatch):
    """No report is cut off: the queue shows QUEUE_PER_PAGE at a time, newest first, with
    page links that keep the tab."""
    import re

    from portal.feedback import views
    from portal.feedback.operations import submit_feedback
    from portal.inspections.models import Inspection

    monkeypatch.setattr(views, "QUEUE_PER_PAGE", 2)
    with app.app_context():
        inspection = db.session.get(Inspection, world.inspections["single"])
        for n in range(3):
            submit_feedback(inspection, None, kind="suggestion", text=f"第{n}条建议")
        db.session.commit()
    office = signed_in("office")
    first = office.get("/feedback/?state=pending").text
    second = office.get("/feedback/?state=pending&page=2").text
    assert "第2条建议" in first and "第1条建议" in first and "第0条建议" not in first
    assert "第0条建议" in second and "第2条建议" not in second
    assert re.search(r'href="/feedback/\?state=pending&amp;page=2"', first)
