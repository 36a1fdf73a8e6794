"""Evidence that is evidence: a note of only spaces, or a file part without a name, is no
evidence; a valid file with a very long name is kept, its name shortened, its extension kept."""

import io

import sqlalchemy as sa

from portal.audit.chain import Actor
from portal.core.errors import Invalid
from portal.core.extensions import db
from portal.evidence.models import Evidence
from portal.evidence.operations import add_evidence_note, safe_filename
from tests.evidence.test_evidence import PDF


def _evidence(app, item_id):
    with app.app_context():
        return db.session.scalars(
            sa.select(Evidence).where(Evidence.item_id == item_id).order_by(Evidence.id)
        ).all()


def _post(client, item_id, data):
    return client.post_form(f"/items/{item_id}/evidence", data, content_type="multipart/form-data")


def test_a_note_of_only_spaces_is_refused(app, world, signed_in):
    item_id = world.new_item(state="in_progress")
    before = len(_evidence(app, item_id))
    staff = signed_in("staff_resp")
    for blank in ("   ", "\u3000\u3000", " \n\t ", "\u200b"):
        response = _post(staff, item_id, {"note": blank})
        assert response.status_code == 400, repr(blank)
        assert "请选择文件或填写说明" in response.text
    assert len(_evidence(app, item_id)) == before


def test_a_missing_note_is_refused_not_a_server_error(app, world, signed_in):
    item_id = world.new_item(state="in_progress")
    before = len(_evidence(app, item_id))
    response = _post(signed_in("staff_resp"), item_id, {})
    assert response.status_code == 400 and "请选择文件或填写说明" in response.text
    assert len(_evidence(app, item_id)) == before


def test_a_file_part_with_an_empty_filename_is_no_evidence(app, world, signed_in):
    item_id = world.new_item(state="in_progress")
    before = len(_evidence(app, item_id))
    staff = signed_in("staff_resp")
    response = _post(staff, item_id, {"file": (io.BytesIO(PDF), ""), "note": ""})
    assert response.status_code == 400 and "请选择文件或填写说明" in response.text
    response = _post(staff, item_id, {"file": (io.BytesIO(b""), ""), "note": "  "})
    assert response.status_code == 400 and "请选择文件或填写说明" in response.text
    assert len(_evidence(app, item_id)) == before


def test_the_operation_refuses_a_blank_note(app, world):
    item_id = world.new_item(state="in_progress")
    with app.app_context():
        item = world.item(item_id)
        for blank in ("", "  ", "\u3000"):
            try:
                add_evidence_note(Actor.system("test"), item, blank)
            except Invalid:
                db.session.rollback()
            else:
                raise AssertionError(f"a blank note {blank!r} was accepted")


def test_a_long_pdf_name_is_shortened_and_keeps_its_extension(app, world, signed_in):
    item_id = world.new_item(state="in_progress")
    name = "关于整改情况的说明" * 30 + ".pdf"  # 270 characters
    response = _post(signed_in("staff_resp"), item_id, {"file": (io.BytesIO(PDF), name)})
    assert response.status_code == 302, response.text
    stored = [e for e in _evidence(app, item_id) if e.filename][-1]
    assert stored.filename.endswith(".pdf") and len(stored.filename) <= 200
    assert stored.filename.startswith("关于整改情况的说明")


def test_safe_filename_keeps_the_extension():
    assert safe_filename("a" * 250 + ".PDF").endswith(".PDF")
    assert len(safe_filename("a" * 250 + ".pdf")) == 200
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("报告\x00\x1f.pdf") == "报告.pdf"
    assert safe_filename("x." + "y" * 300) == ("x." + "y" * 300)[:200]  # no real extension to keep
