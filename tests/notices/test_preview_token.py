"""The preview kept on the server: the same notice is never imported twice (CRLF included), and
a preview that cannot be used is explained without losing the office's corrections."""

import re
import threading
from datetime import timedelta

import sqlalchemy as sa

from portal.audit.chain import verify_chain
from portal.audit.models import AuditEvent
from portal.core.extensions import db
from portal.inspections.models import Inspection, RectificationItem
from portal.notices.models import NoticePreview
from portal.notices.previews import PREVIEW_LIFETIME
from tests.conftest import TEST_PASSWORD
from tests.notices.test_import_page import imported_count, preview_data, token_of, upload_text
from tests.notices.test_parser import NOTICE

TEXT = NOTICE.read_text(encoding="utf-8")
CRLF = TEXT.replace("\n", "\r\n")
CONFIRM = "/inspections/import/confirm"
CORRECTED = {"categories-0-problems-0-title": "加强科创中心产业用房的管理"}


def age_previews(app, by: timedelta) -> None:
    with app.app_context():
        for preview in db.session.scalars(sa.select(NoticePreview)):
            preview.created_at -= by
        db.session.commit()


def test_the_seed_with_crlf_is_the_same_notice(app, world, signed_in):
    office = signed_in("office")
    first, second = token_of(upload_text(office, TEXT)), token_of(upload_text(office, CRLF))
    assert office.post_form(CONFIRM, preview_data(first, TEXT)).status_code == 302
    with app.app_context():
        inspection = db.session.scalar(sa.select(Inspection).where(Inspection.source_sha256.is_not(None)))
        assert inspection.source_text == TEXT  # the record is the text as uploaded
    # The CRLF copy's preview was stored before the first import: confirming it is refused.
    response = office.post_form(CONFIRM, preview_data(second, CRLF))
    assert response.status_code == 302 and response.headers["Location"] == f"/inspections/{inspection.id}"
    assert "该通报已导入为" in office.get(response.headers["Location"]).text
    # Pasted again (a browser sends a textarea with CRLF): the preview says so at once.
    page = upload_text(office, CRLF).text
    assert 'id="already-imported"' in page and 'id="create-inspection"' not in page
    assert imported_count(app) == 1


def test_the_confirmation_posts_only_a_token(app, world, signed_in):
    office = signed_in("office")
    response = upload_text(office, TEXT)
    assert 'name="source"' not in response.text
    # the only text boxes are the measures' texts, which the office may correct
    boxes = re.findall(r'<textarea[^>]* name="([^"]+)"', response.text)
    assert boxes and all(re.fullmatch(r"categories-\d+-problems-\d+-measures-\d+-text", n) for n in boxes)
    token = token_of(response)
    with app.app_context():
        preview = db.session.scalar(sa.select(NoticePreview))
        assert preview.source_text == TEXT and preview.user_id == world.users["office"]
        assert preview.token_sha256 != token  # only the token's hash is stored
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "notice.preview"))
        assert event.actor == "office" and TEXT[:20] not in event.payload
    response = office.post_form(CONFIRM, preview_data(token, TEXT, **CORRECTED))
    assert response.status_code == 302
    with app.app_context():
        preview = db.session.scalar(sa.select(NoticePreview))
        assert preview.used_at is not None and preview.source_text == ""
        assert preview.inspection_id == int(response.headers["Location"].rsplit("/", 1)[1])
        first_title = sa.select(RectificationItem.title).order_by(RectificationItem.id).limit(1)
        assert db.session.scalar(first_title) == "加强科创中心产业用房的管理"
        assert verify_chain().ok


def test_a_used_token_points_to_its_inspection(app, world, signed_in):
    office = signed_in("office")
    token = token_of(upload_text(office, TEXT))
    first = office.post_form(CONFIRM, preview_data(token, TEXT))
    again = office.post_form(CONFIRM, preview_data(token, TEXT))  # back button, second click
    assert again.status_code == 302 and again.headers["Location"] == first.headers["Location"]
    assert "这份预览已经导入过了" in office.get(again.headers["Location"]).text
    assert imported_count(app) == 1


def test_two_confirmations_racing_with_one_token_import_once(app, world, signed_in):
    office = signed_in("office")
    token = token_of(upload_text(office, TEXT))
    data = {**preview_data(token, TEXT), "csrf_token": office._cached_token}
    twin = app.test_client()
    twin.replace_session_cookie(office.session_cookie())  # the same sign-in, another tab
    barrier, locations = threading.Barrier(2), []

    def confirm(client):
        barrier.wait(timeout=10)
        locations.append(client.post(CONFIRM, data=data).headers.get("Location"))

    threads = [threading.Thread(target=confirm, args=(c,)) for c in (office, twin)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(locations) == 2 and locations[0] == locations[1] and locations[0].startswith("/inspections/")
    assert imported_count(app) == 1
    with app.app_context():
        items = sa.select(sa.func.count()).select_from(RectificationItem).join(Inspection)
        assert db.session.scalar(items.where(Inspection.source_sha256.is_not(None))) == 15
        assert verify_chain().ok


def test_an_expired_preview_keeps_the_corrections(app, world, signed_in):
    office = signed_in("office")
    token = token_of(upload_text(office, TEXT))
    age_previews(app, PREVIEW_LIFETIME + timedelta(minutes=1))
    response = office.post_form(CONFIRM, preview_data(token, TEXT, **CORRECTED))
    assert response.status_code == 400
    page = response.text
    assert 'id="preview-unavailable"' in page and "这份预览已过期" in page and "60 分钟" in page
    assert 'value="加强科创中心产业用房的管理"' in page  # what was typed is still there
    assert 'action="/inspections/import"' in page and 'name="file"' in page
    assert imported_count(app) == 0
    # Uploading again from that page carries the corrections into the new preview.
    form = {k: v for k, v in preview_data(token, TEXT, **CORRECTED).items() if k != "token"}
    again = office.post_form("/inspections/import", {**form, "text": CRLF})
    assert again.status_code == 200 and 'value="加强科创中心产业用房的管理"' in again.text
    assert office.post_form(CONFIRM, preview_data(token_of(again), TEXT, **CORRECTED)).status_code == 302
    with app.app_context():
        titles = db.session.scalars(
            sa.select(RectificationItem.title).join(Inspection).where(Inspection.source_sha256.is_not(None))
        ).all()
        assert "加强科创中心产业用房的管理" in titles and len(titles) == 15
        # The expired preview was removed when the new one was stored.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(NoticePreview)) == 1


def test_a_failed_re_upload_still_keeps_the_corrections(app, world, signed_in):
    office = signed_in("office")
    token = token_of(upload_text(office, TEXT))
    age_previews(app, timedelta(hours=2))
    form = {k: v for k, v in preview_data(token, TEXT, **CORRECTED).items() if k != "token"}
    response = office.post_form("/inspections/import", {**form, "text": ""})
    assert response.status_code == 400 and "请选择文件或粘贴通报正文" in response.text
    assert 'value="加强科创中心产业用房的管理"' in response.text


def test_another_users_token_is_refused(app, world, signed_in, make_user):
    office = signed_in("office")
    token = token_of(upload_text(office, TEXT))
    make_user("office2", "office")
    colleague = app.test_client()
    assert colleague.login("office2", TEST_PASSWORD).status_code == 302
    response = colleague.post_form(CONFIRM, preview_data(token, TEXT, **CORRECTED))
    assert response.status_code == 400 and "这份预览是由其他账号上传的" in response.text
    assert 'value="加强科创中心产业用房的管理"' in response.text
    assert imported_count(app) == 0
    assert office.post_form(CONFIRM, preview_data(token, TEXT)).status_code == 302  # still the owner's


def test_unknown_or_altered_tokens_are_refused(app, world, signed_in):
    office = signed_in("office")
    token = token_of(upload_text(office, TEXT))
    for bad in (token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), "", "x" * 500):
        response = office.post_form(CONFIRM, preview_data(bad, TEXT))
        assert response.status_code == 400, bad
        assert "未找到这份预览" in response.text and 'href="/inspections/import"' in response.text
    assert imported_count(app) == 0
