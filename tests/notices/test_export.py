"""The generated notice: text, HTML and DOCX; the text and the DOCX parse back to the same tree."""

import io

import sqlalchemy as sa
from docx import Document

from portal.core.extensions import db
from portal.inspections.models import Inspection
from portal.notices.export import build_notice, render_docx, render_text
from portal.notices.parser import parse
from tests.notices.test_parser import NOTICE, tree


def imported(app, runner):
    assert runner.invoke(args=["notice", "import", str(NOTICE)]).exit_code == 0
    with app.app_context():
        return db.session.scalar(sa.select(Inspection.id).where(Inspection.source_sha256.is_not(None)))


def test_text_round_trip(app, runner):
    inspection_id = imported(app, runner)
    original = parse(NOTICE.read_text(encoding="utf-8"))
    with app.app_context():
        text = render_text(build_notice(db.session.get(Inspection, inspection_id)))
    again = parse(text)
    assert tree(again) == tree(original)
    for key in (
        "title",
        "inspected_unit",
        "inspection_team",
        "inspection_start",
        "inspection_end",
        "feedback_date",
        "problems_stated",
        "contact_phone",
        "contact_email",
    ):
        assert getattr(again, key) == getattr(original, key), key
    assert [w for w in again.warnings if "not consecutive" not in w] == []


def test_docx_round_trip_and_official_look(app, runner):
    inspection_id = imported(app, runner)
    with app.app_context():
        body = render_docx(build_notice(db.session.get(Inspection, inspection_id)))
    document = Document(io.BytesIO(body))
    paragraphs = [p.text for p in document.paragraphs]
    assert tree(parse("\n".join(paragraphs))) == tree(parse(NOTICE.read_text(encoding="utf-8")))
    section = document.sections[0]
    assert round(section.page_width.cm, 1) == 21.0 and round(section.page_height.cm, 1) == 29.7
    title_font = document.paragraphs[0].runs[0].font
    assert title_font.size.pt == 22
    rfonts = document.paragraphs[0].runs[0]._element.rPr.rFonts
    assert "方正小标宋" in rfonts.get(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia"
    )


def test_pages_and_downloads(app, runner, world, signed_in):
    inspection_id = imported(app, runner)
    office = signed_in("office")
    page = office.get(f"/inspections/{inspection_id}/notice")
    assert page.status_code == 200 and "二、对照问题清单" in page.text and "26667710" in page.text
    text = office.get(f"/inspections/{inspection_id}/notice.txt")
    assert text.headers["Content-Disposition"].startswith("attachment")
    assert len(parse(text.get_data(as_text=True)).problems) == 15
    docx = office.get(f"/inspections/{inspection_id}/notice.docx")
    assert docx.status_code == 200 and docx.data[:2] == b"PK"
    assert signed_in("staff_other").get(f"/inspections/{inspection_id}/notice").status_code == 404


def test_the_text_download_streams_what_the_notice_renders(app, runner, world, signed_in):
    inspection_id = imported(app, runner)
    response = signed_in("office").get(f"/inspections/{inspection_id}/notice.txt", buffered=False)
    assert response.is_streamed and response.status_code == 200
    chunks = list(response.response)
    assert len(chunks) > 15  # a problem at a time, not one body
    with app.app_context():
        whole = render_text(build_notice(db.session.get(Inspection, inspection_id)))
    assert b"".join(chunks).decode() == whole and len(parse(whole).problems) == 15
    response.close()
