"""Notice files: .txt in UTF-8, UTF-8 with BOM or GB18030, .docx and .pdf with a text layer, all
made here by the tests; clear errors (a code and an English message) for anything else."""

import io
import json

import pytest
from docx import Document
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from portal.notices.formats import NoticeFormatError, notice_text
from portal.notices.parser import parse
from portal.notices.text import NoticeInputError
from tests.notices.test_parser import NOTICE

SMALL = (
    "中共某局党组关于巡察整改情况的通报\n"
    "根据区委统一部署,2021年3月1日至4月30日,区委第三巡察组对某局党组开展了巡察。\n"
    "二、巡察反馈问题整改情况\n"
    "(一)关于“党的建设”方面的问题\n"
    "1.会议记录不规范\n"
    "整改情况:一是规范记录。二是专人归档。"
)
FONT = "STSong-Light"  # a CID font every PDF reader has: Chinese text without embedding a font


def shape(notice):
    """The tree, with the texts' line breaks aside (a PDF may break a line at a full stop)."""
    data = notice.to_json()
    for category in data["categories"]:
        for problem in category["problems"]:
            for measure in problem["measures"]:
                measure["text"] = measure["text"].replace("\n", "")
    return {k: data[k] for k in ("title", "inspection_team", "inspection_start", "summary", "categories")}


def make_docx(text, table=None):
    document = Document()
    for line in text.split("\n"):
        document.add_paragraph(line)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_pdf(text, width=440, size=11):
    """A PDF whose text layer holds `text`, each paragraph wrapped at `width` points as a word
    processor wraps it, over as many A4 pages as it needs."""
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    out = io.BytesIO()
    page = canvas.Canvas(out)
    y = 800
    for paragraph in text.split("\n"):
        line = ""
        rows = []
        for ch in paragraph.strip():
            if pdfmetrics.stringWidth(line + ch, FONT, size) > width:
                rows.append(line)
                line = ""
            line += ch
        rows.append(line)
        for row in rows:
            if y < 60:
                page.drawString(290, 30, str(page.getPageNumber()))  # a page number at the foot
                page.showPage()
                y = 800
            page.setFont(FONT, size)
            page.drawString(50, y, row)
            y -= 16
    page.showPage()
    page.save()
    return out.getvalue()


# --- .txt -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [SMALL.encode("utf-8"), b"\xef\xbb\xbf" + SMALL.encode("utf-8"), SMALL.encode("gb18030")],
    ids=["utf-8", "utf-8-bom", "gb18030"],
)
def test_text_files(data):
    assert notice_text(data, "通报.txt") == SMALL
    assert notice_text(data, "通报") == SMALL  # no extension: the bytes say it is text


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"", "a.txt", "empty"),
        (b"  \n", "a.txt", "empty"),
        (b"\x00\x01\x02\x03binary", "a.txt", "binary"),
        (bytes(range(128, 256)) * 4, "a.txt", "encoding"),
        (b"PK\x03\x04\x00\x00\x00binary", "a.docx", "binary"),  # named .docx, not a Word document
        (SMALL.encode("utf-8"), "a.doc", "unsupported"),
        (SMALL.encode("utf-8"), "a.wps", "unsupported"),
        (b"\x89PNG\r\n\x1a\n", "scan.png", "unsupported"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "a.pdf", "unreadable"),
    ],
)
def test_unreadable_files_raise_a_clear_error(data, name, code):
    with pytest.raises(NoticeFormatError) as caught:
        notice_text(data, name)
    assert caught.value.code == code
    assert isinstance(caught.value, NoticeInputError)  # what the upload page already catches
    assert str(caught.value) and str(caught.value).isascii()


def test_an_unsupported_type_says_what_to_do():
    with pytest.raises(NoticeFormatError, match=r"\.doc files cannot be read \(save it as \.docx\)"):
        notice_text(b"\xd0\xcf\x11\xe0", "通报.doc")


# --- .docx ------------------------------------------------------------------------------------


def test_docx_paragraphs_and_tables():
    data = make_docx(SMALL, table=[["联系电话", "0755-12345678"], ["电子邮箱", "a@b.cn"]])
    text = notice_text(data, "通报.DOCX")
    assert text.split("\n")[:6] == SMALL.split("\n")
    assert text.split("\n")[-2:] == ["联系电话 0755-12345678", "电子邮箱 a@b.cn"]
    notice = parse(text)
    assert [(p.title, [m.label for m in p.measures]) for p in notice.problems] == [
        ("会议记录不规范", ["一是", "二是"])
    ]
    assert notice.contact_email == "a@b.cn"


def test_the_seed_as_docx_parses_like_the_text():
    source = NOTICE.read_text(encoding="utf-8")
    text = notice_text(make_docx(source), "seed.docx")
    assert shape(parse(text)) == shape(parse(source))


def test_a_damaged_docx():
    data = make_docx(SMALL)
    with pytest.raises(NoticeFormatError) as caught:
        notice_text(data[: len(data) // 2], "a.docx")
    assert caught.value.code in ("unreadable", "binary")


def test_an_empty_docx():
    with pytest.raises(NoticeFormatError) as caught:
        notice_text(make_docx(""), "a.docx")
    assert caught.value.code == "empty"


# --- .pdf -------------------------------------------------------------------------------------


def test_pdf_with_a_chinese_text_layer():
    data = make_pdf(SMALL)
    assert PdfReader(io.BytesIO(data)).pages[0].extract_text().startswith("中共某局党组")
    text = notice_text(data, "通报.pdf")
    assert text == SMALL
    assert notice_text(data, "通报") == SMALL  # no extension: the bytes say PDF


def test_the_seed_as_pdf_parses_like_the_text():
    # Five pages, paragraphs wrapped as a word processor wraps them, page numbers at the foot:
    # the wrapped lines are joined again, the page numbers dropped.
    source = NOTICE.read_text(encoding="utf-8")
    data = make_pdf(source)
    assert len(PdfReader(io.BytesIO(data)).pages) > 3
    notice = parse(notice_text(data, "seed.pdf"))
    assert shape(notice) == shape(parse(source))
    assert len(notice.problems) == 15 and notice.contact_phone == "26667710"


def test_a_pdf_without_text_layer():
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.rect(50, 50, 300, 400, fill=1)  # a "scan": no text at all
    page.showPage()
    page.save()
    with pytest.raises(NoticeFormatError) as caught:
        notice_text(out.getvalue(), "scan.pdf")
    assert caught.value.code == "no_text_layer"
    assert "no text layer" in str(caught.value)


def test_a_damaged_pdf():
    data = make_pdf(SMALL)
    with pytest.raises(NoticeFormatError) as caught:
        notice_text(data[:200], "a.pdf")
    assert caught.value.code == "unreadable"


# --- the CLI ----------------------------------------------------------------------------------


def test_cli_parses_docx_and_pdf(runner, tmp_path):
    source = NOTICE.read_text(encoding="utf-8")
    for name, data in (("seed.docx", make_docx(source)), ("seed.pdf", make_pdf(source))):
        path = tmp_path / name
        path.write_bytes(data)
        result = runner.invoke(args=["notice", "parse", str(path), "--json"])
        assert result.exit_code == 0, result.output
        parsed = json.loads(result.output)
        assert parsed["problems_stated"] == 15 and len(parsed["categories"]) == 4


def test_cli_imports_a_pdf(runner, tmp_path):
    path = tmp_path / "seed.pdf"
    path.write_bytes(make_pdf(NOTICE.read_text(encoding="utf-8")))
    result = runner.invoke(args=["notice", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "15 items in 4 categories" in result.output


def test_cli_refuses_a_scan_clearly(runner, tmp_path):
    path = tmp_path / "scan.pdf"
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.showPage()
    page.save()
    path.write_bytes(out.getvalue())
    result = runner.invoke(args=["notice", "parse", str(path)])
    assert result.exit_code != 0 and "no text layer" in result.output
