"""The ledger workbook as an office works in it and prints it: the header row frozen and
filtered, columns as wide as their text (CJK counted double) and wrapped past their limit, rows
as high as their text, and the print settings (landscape, one page wide, the header row on
every page, page numbers). Read back with openpyxl."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import Workbook, load_workbook

from portal.ledger.xlsx import (
    COLUMNS,
    MAX_WIDTHS,
    LedgerRow,
    display_width,
    office_layout,
    read_ledger,
    write_ledger,
)

MEASURE = "一是" + "健全制度,明确责任分工并逐项抓好落实" * 6


def row(n: int) -> LedgerRow:
    return LedgerRow(
        number=str(n),
        category="一、学习制度",
        title=f"第{n}项问题",
        measures=[("一是", MEASURE[2:]), ("二是", "加强督查")],
        leader="张三",
        department="办公室",
        staff="李四",
        deadline=date(2026, 12, 31),
        status="持续推进",
        progress=50,
        completion_summary="",
        evidence_count=2,
    )


def sheet_of(body: bytes):
    return load_workbook(io.BytesIO(body)).active


def test_the_header_row_is_frozen_and_filtered():
    sheet = sheet_of(write_ledger("台账", [row(n) for n in range(1, 6)]))
    assert [c.value for c in sheet[2]] == list(COLUMNS)
    assert sheet.freeze_panes == "A3"  # the title and the header stay in view
    assert sheet.auto_filter.ref == "A2:L7"
    assert all(cell.font.bold for cell in sheet[2])
    assert "A1:L1" in {str(r) for r in sheet.merged_cells.ranges}


def test_columns_are_as_wide_as_their_text_and_long_text_wraps():
    assert display_width("问题") == 4 and display_width("50%") == 3 and display_width(date.today()) == 10
    sheet = sheet_of(write_ledger("台账", [row(1)]))
    width = {c.value: sheet.column_dimensions[c.column_letter].width for c in sheet[2]}
    assert width["序号"] == display_width("序号") + 2  # as wide as its header
    assert width["问题类别"] == display_width("一、学习制度") + 2
    assert width["整改措施"] == MAX_WIDTHS[COLUMNS.index("整改措施")]  # at its limit
    assert width["整改时限"] == 12  # a date and its margin
    measures, category = sheet.cell(3, COLUMNS.index("整改措施") + 1), sheet.cell(3, 2)
    assert measures.alignment.wrap_text and not category.alignment.wrap_text
    assert sheet.cell(3, 1).alignment.horizontal == "center"
    # the row is as high as the wrapped measures (LibreOffice would keep it one line high)
    assert sheet.row_dimensions[3].height > 4 * 15


def test_print_settings():
    sheet = sheet_of(write_ledger("台账", [row(n) for n in range(1, 6)]))
    setup = sheet.page_setup
    assert setup.orientation == "landscape" and str(setup.paperSize) == sheet.PAPERSIZE_A4
    assert (setup.fitToWidth, setup.fitToHeight) == (1, 0) and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$2:$2"  # (as openpyxl reads the defined name back)
    assert "&P" in sheet.oddFooter.center.text and "&N" in sheet.oddFooter.center.text


def test_a_sheet_too_wide_for_a4_prints_on_a3():
    sheet = Workbook().active
    sheet.append(["标题"] * 12)
    sheet.append(["很长的文字" * 10] * 12)
    office_layout(sheet, (30,) * 12, header_row=1)
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A3
    assert sheet.freeze_panes == "A2" and sheet.print_title_rows == "$1:$1" and not sheet.merged_cells.ranges


def test_the_laid_out_workbook_reads_back():
    ledger = read_ledger(io.BytesIO(write_ledger("台账", [row(n) for n in range(1, 4)])))
    assert ledger.errors == [] and ledger.title == "台账" and len(ledger.rows) == 3
    assert ledger.rows[0].measures == [("一是", MEASURE[2:]), ("二是", "加强督查")]
