"""The parts of GB/T 9704 (党政机关公文格式) that python-docx has no call for: the page number
in the footer and the signature block (落款) at the end. Any DOCX written through
portal.core.official_docx.OfficialDocument can take them.

Page numbers (GB/T 9704 7.5): 4号 (14 pt) 宋体 Arabic digits between two 一字线, "— 1 —",
below the type area; odd pages right-aligned one character in from the edge, even pages
left-aligned one character in (the outer edge of a two-sided print). The number is a PAGE field,
so that Word and LibreOffice count the pages as they lay them out.

The signature block (7.3.5.2, a notice without a seal): one blank line after the body, the
issuer right-aligned two characters in from the edge, the date (成文日期, 2026年12月2日) on the
next line starting two characters to the right of the issuer's first character. When the issuer
is too short for that (the date would reach into the last two characters), the date keeps four
characters to the edge and the issuer is centred over it.
"""

from __future__ import annotations

from datetime import date

#: The page number's font and size (宋体 4号).
PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE = "宋体", 14
#: The body's character width (仿宋 3号), the unit GB/T 9704 counts indents in.
CHARACTER = 16
#: Between the bottom edge of the page and the page number's line: the rule puts the line's top
#: 7 mm below the type area (whose bottom margin is 35 mm), the line itself is about 5 mm high.
FOOTER_DISTANCE_MM = 23


def official_date(day: date) -> str:
    """A date as GB/T 9704 writes it: 2026年12月2日 (Arabic digits, no leading zeros)."""
    return f"{day.year}年{day.month}月{day.day}日"


def _text_width(text: str) -> float:
    """Width in characters of the body font: ASCII (digits) is half-width."""
    return sum(0.5 if ord(c) < 128 else 1 for c in text)


def _run(paragraph, text: str = "", font: str = PAGE_NUMBER_FONT, size: float = PAGE_NUMBER_SIZE):
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.font.name = font
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    return run


def _page_field(paragraph) -> None:
    """A PAGE field: fldChar begin, instrText PAGE, fldChar separate, a placeholder, fldChar end."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def fld_char(kind: str):
        run = _run(paragraph)
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        run._element.append(element)

    fld_char("begin")
    instruction = OxmlElement("w:instrText")
    instruction.set(qn("xml:space"), "preserve")
    instruction.text = " PAGE "
    _run(paragraph)._element.append(instruction)
    fld_char("separate")
    _run(paragraph, "1")
    fld_char("end")


def _page_number(footer, alignment) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph = footer.paragraphs[0]
    for run in paragraph.runs:  # a second call replaces the number, it does not add one
        paragraph._p.remove(run._r)
    paragraph.alignment = alignment
    indent = Pt(PAGE_NUMBER_SIZE)  # one character in from the outer edge
    if alignment == WD_ALIGN_PARAGRAPH.RIGHT:
        paragraph.paragraph_format.right_indent = indent
    else:
        paragraph.paragraph_format.left_indent = indent
    _run(paragraph, "— ")
    _page_field(paragraph)
    _run(paragraph, " —")


def add_page_numbers(document) -> None:
    """Put "— N —" in every section's footer: right on odd pages, left on even ones."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm

    document.settings.odd_and_even_pages_header_footer = True
    for section in document.sections:
        section.footer_distance = Mm(FOOTER_DISTANCE_MM)
        section.footer.is_linked_to_previous = False
        section.even_page_footer.is_linked_to_previous = False
        _page_number(section.footer, WD_ALIGN_PARAGRAPH.RIGHT)
        _page_number(section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)


def add_signature(official, issuer: str, day: date) -> None:
    """The signature block at the end of `official` (an OfficialDocument): a blank line, the
    issuer (left out when there is none) and the date, indented as GB/T 9704 indents them.

    The date is placed by its first character (a left indent), not by its right edge: the
    issuer's width is exact (CJK characters are one em in every CJK font), a date's is not (its
    digits are as wide as the font makes them)."""
    from docx.shared import Emu, Pt

    dated = official_date(day)
    issuer_width, date_width = _text_width(issuer), _text_width(dated)
    official.paragraph("", indent=False)
    if issuer and issuer_width - date_width >= 2:
        section = official.document.sections[-1]
        type_width = Emu(section.page_width - section.left_margin - section.right_margin).pt
        official.paragraph(issuer, right=True).paragraph_format.right_indent = Pt(2 * CHARACTER)
        date_line = official.paragraph(dated, indent=False)
        date_line.paragraph_format.left_indent = Pt(type_width - issuer_width * CHARACTER)
    else:  # the date four characters from the edge, the issuer centred over it
        if issuer:
            issuer_line = official.paragraph(issuer, right=True)
            issuer_indent = max(4 + (date_width - issuer_width) / 2, 0)
            issuer_line.paragraph_format.right_indent = Pt(issuer_indent * CHARACTER)
        date_line = official.paragraph(dated, right=True)
        date_line.paragraph_format.right_indent = Pt(4 * CHARACTER)
    _no_autospace(date_line)


#: What follows w:autoSpaceDN in a paragraph's properties (the schema fixes their order).
_AFTER_AUTOSPACE = (
    "w:bidi",
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
)


def _no_autospace(paragraph) -> None:
    """No extra space between the digits and the characters (Word and LibreOffice add it by
    default): the date keeps the width its indent was counted with."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = paragraph._p.get_or_add_pPr()
    for name in ("w:autoSpaceDE", "w:autoSpaceDN"):
        element = OxmlElement(name)
        element.set(qn("w:val"), "0")
        properties.insert_element_before(element, *_AFTER_AUTOSPACE)
