"""The import page: upload, preview with corrections, create; duplicates; bad files."""

import io
import re

import sqlalchemy as sa

from portal.core.extensions import db
from portal.inspections.models import Inspection, RectificationItem
from portal.notices.parser import parse
from tests.notices.test_parser import NOTICE

_TOKEN = re.compile(r'<input id="token" name="token" type="hidden" value="([^"]+)">')


def imported_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).where(Inspection.source_sha256.is_not(None)))


def token_of(response) -> str:
    """The preview token in a preview page (the only thing besides the corrections it posts)."""
    match = _TOKEN.search(response.text)
    assert match, response.text
    return match.group(1)


def upload_text(client, text: str):
    return client.post_form("/inspections/import", {"text": text})


def preview_data(token, text, **changes):
    """What the preview form posts back when the office changes nothing (plus `changes`)."""
    data = {"token": token, "approval_policy": "single", "party_secretary_id": "0"}
    for i, category in enumerate(parse(text).categories):
        data[f"categories-{i}-label"] = category.label
        data[f"categories-{i}-title"] = category.title
        for j, problem in enumerate(category.problems):
            prefix = f"categories-{i}-problems-{j}"
            data.update(
                {
                    f"{prefix}-keep": "y",
                    f"{prefix}-number": problem.number,
                    f"{prefix}-title": problem.title,
                    f"{prefix}-leader_id": "0",
                    f"{prefix}-staff_id": "0",
                    f"{prefix}-deadline": problem.deadline.isoformat() if problem.deadline else "",
                }
            )
            for k, measure in enumerate(problem.measures):
                data[f"{prefix}-measures-{k}-label"] = measure.label
    data.update(changes)
    return data


def test_upload_preview_correct_and_create(app, world, signed_in):
    office = signed_in("office")
    raw = NOTICE.read_bytes()
    response = office.post_form(
        "/inspections/import", {"file": (io.BytesIO(raw), "通报.txt")}, content_type="multipart/form-data"
    )
    assert response.status_code == 200
    page = response.text
    assert page.count("data-problem-row") == 15 and "一、二、四" in page
    assert 'id="problem-count">15 / 15' in page
    assert 'name="source"' not in page  # the text stays on the server
    text = raw.decode("utf-8")
    data = preview_data(
        token_of(response),
        text,
        **{
            "categories-0-problems-0-title": "加强科创中心产业用房的管理",  # corrected
            "categories-3-problems-2-keep": "",  # dropped
            "categories-0-problems-1-leader_id": str(world.users["leader_resp"]),
            "categories-0-problems-1-staff_id": str(world.users["staff_resp"]),
        },
    )
    del data["categories-3-problems-2-keep"]
    response = office.post_form("/inspections/import/confirm", data)
    assert response.status_code == 302, response.text
    with app.app_context():
        inspection = db.session.scalar(sa.select(Inspection).where(Inspection.source_sha256.is_not(None)))
        items = db.session.scalars(
            sa.select(RectificationItem)
            .where(RectificationItem.inspection_id == inspection.id)
            .order_by(RectificationItem.id)
        ).all()
        assert len(items) == 14
        assert items[0].title == "加强科创中心产业用房的管理"
        assert items[1].responsible_leader_id == world.users["leader_resp"]
        assert items[1].staff_id == world.users["staff_resp"]
        inspection_id = inspection.id
    # The same text again: the preview says so, offers the first import and nothing to create.
    again = upload_text(office, text)
    assert 'id="already-imported"' in again.text and "该通报已导入为" in again.text
    assert f'href="/inspections/{inspection_id}"' in again.text
    assert 'id="create-inspection"' not in again.text and 'name="token"' not in again.text
    assert imported_count(app) == 1


def test_a_kept_problem_needs_a_title(app, world, signed_in):
    text = NOTICE.read_text(encoding="utf-8")
    office = signed_in("office")
    token = token_of(upload_text(office, text))
    response = office.post_form(
        "/inspections/import/confirm", preview_data(token, text, **{"categories-1-problems-0-title": ""})
    )
    assert response.status_code == 400 and "保留的问题需要标题" in response.text
    assert token_of(response) == token  # the preview stays usable
    assert imported_count(app) == 0
    response = office.post_form("/inspections/import/confirm", preview_data(token, text))
    assert response.status_code == 302 and imported_count(app) == 1


def test_bad_files_are_explained(world, signed_in):
    office = signed_in("office")
    for content, message in ((b"", "文件为空"), (b"PK\x03\x04\x00\x00binary\x00", "不是文本文件")):
        response = office.post_form(
            "/inspections/import",
            {"file": (io.BytesIO(content), "x.txt")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 200 and message in response.text, message


def test_only_the_office_imports(world, signed_in):
    for persona in ("staff_resp", "leader_resp", "auditor", "admin"):
        assert signed_in(persona).get("/inspections/import").status_code == 403
