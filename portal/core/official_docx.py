"""A DOCX in the look of an official document (GB/T 9704): A4, 方正小标宋 title, 黑体/楷体
headings, 仿宋 body at 三号 with fixed 28-point lines. The notice export and the supervision
letters (督办单 / 预警函) write through it."""

from __future__ import annotations

import io

TITLE, HEADING, SUBHEADING, BODY = "方正小标宋简体", "黑体", "楷体_GB2312", "仿宋_GB2312"


class OfficialDocument:
    def __init__(self):
        from docx import Document
        from docx.shared import Cm

        self.document = Document()
        page = self.document.sections[0]
        page.page_width, page.page_height = Cm(21), Cm(29.7)
        page.top_margin, page.bottom_margin = Cm(3.7), Cm(3.5)
        page.left_margin, page.right_margin = Cm(2.8), Cm(2.6)

    def paragraph(
        self, text: str, font: str = BODY, size: float = 16, *, center=False, indent=True, right=False
    ):
        from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
        from docx.oxml.ns import qn
        from docx.shared import Pt

        p = self.document.add_paragraph()
        p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        p.paragraph_format.line_spacing = Pt(28)
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif right:
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif indent:
            p.paragraph_format.first_line_indent = Pt(size * 2)
        run = p.add_run(text)
        run.font.size = Pt(size)
        run.font.name = font
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
        return p

    def title(self, text: str):
        return self.paragraph(text, TITLE, 22, center=True)

    def table(self, header: list[str] | None, rows: list[list[str]], widths_cm: list[float] | None = None):
        """A bordered table in 仿宋 at 四号 (the header row in 黑体), single-spaced; a cell's
        text is kept as given (a hash stays one unbroken string)."""
        from docx.oxml.ns import qn
        from docx.shared import Cm, Pt

        lines = ([header] if header else []) + rows
        table = self.document.add_table(rows=len(lines), cols=len(lines[0]))
        table.style = "Table Grid"
        for r, line in enumerate(lines):
            for c, text in enumerate(line):
                cell = table.cell(r, c)
                if widths_cm:
                    cell.width = Cm(widths_cm[c])
                run = cell.paragraphs[0].add_run(str(text))
                font = HEADING if header and r == 0 else BODY
                run.font.size = Pt(12 if len(str(text)) < 40 else 9)
                run.font.name = font
                run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
        return table

    def save(self) -> bytes:
        """The file, with GB/T 9704 page numbers (— N —) on every page."""
        from portal.core.docx_layout import add_page_numbers

        add_page_numbers(self.document)
        buffer = io.BytesIO()
        self.document.save(buffer)
        return buffer.getvalue()
