"""The notice's DOCX as GB/T 9704 lays a document out: A4 with its margins, the title and body
fonts, "— N —" page numbers in the footer (a PAGE field, outer edge), and the signature block
(落款 and 成文日期) at the end. Read back with python-docx."""

from __future__ import annotations

import io
from datetime import date
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn

from portal.core.docx_layout import CHARACTER, add_signature, official_date
from portal.core.extensions import db
from portal.core.official_docx import OfficialDocument
from portal.core.timeutil import today
from portal.inspections.models import Inspection
from portal.notices.export import build_notice, notice_issuer, render_docx
from tests.notices.test_parser import NOTICE

ISSUER = "中共深圳市南山区科技创新局党组"


def east_asian_font(run) -> str:
    return run._element.rPr.rFonts.get(qn("w:eastAsia"))


@pytest.fixture
def notice_docx(app, runner):
    assert runner.invoke(args=["notice", "import", str(NOTICE)]).exit_code == 0
    with app.app_context():
        inspection = db.session.scalar(sa.select(Inspection).where(Inspection.source_sha256.is_not(None)))
        return Document(io.BytesIO(render_docx(build_notice(inspection)))), today()


def test_a4_with_the_standard_margins_title_and_body(notice_docx):
    document, _ = notice_docx
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert [round(m.mm) for m in margins] == [37, 35, 28, 26]
    title = document.paragraphs[0]
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert title.runs[0].font.size.pt == 22 and "小标宋" in east_asian_font(title.runs[0])
    opening = document.paragraphs[1]
    assert opening.runs[0].font.size.pt == 16 and "仿宋" in east_asian_font(opening.runs[0])


def test_page_numbers_are_a_page_field_between_dashes_on_the_outer_edge(notice_docx):
    document, _ = notice_docx
    assert document.settings.odd_and_even_pages_header_footer
    section = document.sections[0]
    for footer, alignment in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        paragraph = footer.paragraphs[0]
        assert paragraph.alignment == alignment
        xml = paragraph._p
        kinds = [f.get(qn("w:fldCharType")) for f in xml.iter(qn("w:fldChar"))]
        assert kinds == ["begin", "separate", "end"]
        assert [i.text.strip() for i in xml.iter(qn("w:instrText"))] == ["PAGE"]
        assert paragraph.text == "— 1 —"  # the field's placeholder between the dashes
        assert all(run.font.size.pt == 14 for run in paragraph.runs)


def test_the_signature_block_ends_the_notice(notice_docx):
    document, day = notice_docx
    blank, issuer, dated = document.paragraphs[-3:]
    assert blank.text == ""
    assert issuer.text == ISSUER and issuer.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert issuer.paragraph_format.right_indent.pt == 2 * CHARACTER
    assert dated.text == official_date(day) == f"{day.year}年{day.month}月{day.day}日"
    # the date's first character two characters right of the issuer's (GB/T 9704 7.3.5.2)
    section = document.sections[0]
    type_width = (section.page_width - section.left_margin - section.right_margin) / 12700
    issuer_start = type_width - (2 + len(ISSUER)) * CHARACTER
    assert dated.paragraph_format.left_indent.pt == pytest.approx(issuer_start + 2 * CHARACTER)


def test_a_short_issuer_is_centred_over_the_date():
    official = OfficialDocument()
    add_signature(official, "某局党组", date(2026, 12, 2))
    _, issuer, dated = official.document.paragraphs
    assert dated.text == "2026年12月2日" and dated.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert dated.paragraph_format.right_indent.pt == 4 * CHARACTER
    # the date is 6.5 characters wide (half-width digits), the issuer 4: 1.25 more to the edge
    assert issuer.paragraph_format.right_indent.pt == pytest.approx((4 + 1.25) * CHARACTER)


def test_the_issuer_is_the_organisation_the_title_names():
    assert (
        notice_issuer(SimpleNamespace(title=f"{ISSUER}关于巡察整改情况的通报", inspected_unit="局")) == ISSUER
    )
    assert notice_issuer(SimpleNamespace(title="巡察整改情况通报", inspected_unit="区科技创新局党组 ")) == (
        "区科技创新局党组"
    )
    assert notice_issuer(SimpleNamespace(title="关于巡察整改情况的通报", inspected_unit="某局")) == "某局"
