"""Reading and writing the ledger workbook, with the columns offices use.

Reading never trusts a cell: every row is checked and every problem reported by row and
column, so that an import either saves everything or nothing. Nor does it trust the file: a
workbook with a document type declaration (DTD, the door to entity expansion and external
entities) or one that unpacks to more than MAX_UNPACKED_BYTES is refused before openpyxl parses
it (which itself parses through defusedxml), and any error of the parser is a refusal, not a 500.

Writing never makes a formula of text: every text cell is a string cell, and text that a
spreadsheet would take for a formula when the cell is edited (= + - @) carries the quote
prefix (OWASP's CSV injection; `text_cells`, which the dashboard's workbook uses too).

The written workbook is laid out for the office that works in it and prints it
(`office_layout`): the title over the columns, the header row frozen and filtered, columns as
wide as their text (a CJK character counts two) up to a limit past which the text wraps, and on
paper landscape, one page wide, the header row repeated on every page, "第 N 页 共 M 页" in the
footer; A4, or A3 when the columns are too wide to read at A4.

Problems are worded through gettext: English on the command line, the user's language on the
import page.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import BinaryIO
from zipfile import BadZipFile

from flask_babel import gettext as _

from portal.core.forms import control_characters
from portal.inspections.models import LABEL_MAX_LENGTH, TEXT_MAX_LENGTH, TITLE_MAX_LENGTH

COLUMNS = (
    "序号",
    "问题类别",
    "问题",
    "整改措施",
    "责任领导",
    "责任部门",
    "责任人",
    "整改时限",
    "整改状态",
    "整改进展",
    "整改成效",
    "佐证材料数",
)
#: The widest each column grows (in characters of the default font; a CJK character is two):
#: long text wraps within it.
MAX_WIDTHS = (8, 16, 28, 44, 12, 16, 12, 12, 10, 10, 30, 10)
#: The columns centred: 序号, 整改时限, 整改状态, 整改进展, 佐证材料数.
CENTRED = (0, 7, 8, 9, 11)
#: The widest a sheet may be (the sum of its column widths) and still print on A4 landscape at a
#: readable scale (about 70 %); a wider one prints on A3.
A4_WIDTH = 210
#: A line of the default font (11 pt) in points, with the CJK fonts' taller line.
LINE_HEIGHT = 15
MEASURE_LINE = re.compile(r"^([一二三四五六七八九十]+是)\s*(.*)$")
#: The most a workbook may unpack to (the sum of its parts' sizes), in bytes.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
#: The longest text each column's cells may hold (what the imported documents can store).
CELL_LIMITS = {
    "序号": LABEL_MAX_LENGTH,
    "问题类别": TITLE_MAX_LENGTH,
    "问题": TITLE_MAX_LENGTH,
    "整改成效": TEXT_MAX_LENGTH,
}
#: Markup that starts a document type declaration or declares an entity, as UTF-8 or UTF-16.
_DTD_MARKS = tuple(
    mark.encode(encoding)
    for mark in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)
#: Text a spreadsheet takes for a formula (or a command) when the cell is edited.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class LedgerRow:
    number: str
    category: str
    title: str
    measures: list[tuple[str, str]]
    leader: str
    department: str
    staff: str
    deadline: date | None
    status: str
    progress: int | None
    completion_summary: str
    evidence_count: int | None
    row: int = 0  # the spreadsheet row it came from


@dataclass
class LedgerError:
    row: int
    column: str
    message: str


@dataclass
class Ledger:
    title: str = ""
    rows: list[LedgerRow] = field(default_factory=list)
    errors: list[LedgerError] = field(default_factory=list)


def write_ledger(title: str, rows: list[LedgerRow]) -> bytes:
    from openpyxl import Workbook  # (imported when used: a tenth of a second at every start)

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "整改台账"
    sheet.append([title])
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(
            [
                row.number,
                row.category,
                row.title,
                "\n".join(f"{label}{text}" for label, text in row.measures),
                row.leader,
                row.department,
                row.staff,
                row.deadline,
                row.status,
                f"{row.progress}%" if row.progress is not None else "",
                row.completion_summary,
                row.evidence_count if row.evidence_count is not None else 0,
            ]
        )
    for line in sheet.iter_rows(min_row=3):
        line[7].number_format = "yyyy-mm-dd"
    office_layout(sheet, MAX_WIDTHS, centred=CENTRED)
    text_cells(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def display_width(value) -> int:
    """How many characters of the default font a cell's longest line takes: a CJK (wide)
    character takes two, a date ten."""
    if isinstance(value, date | datetime):
        return 10
    lines = str(value).splitlines() if value is not None else []
    return max(
        (sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line) for line in lines), default=0
    )


def wrapped_lines(value, width: int) -> int:
    """How many lines a wrapped cell `width` characters wide shows `value` on (a CJK character
    wraps anywhere, as the spreadsheets wrap it)."""
    lines = str(value).splitlines() if value is not None else []
    room = max(width - 1, 1)
    return max(sum(max(1, math.ceil(display_width(line) / room)) for line in lines), 1)


def office_layout(
    sheet, max_widths: tuple[int, ...], *, header_row: int = 2, centred: tuple[int, ...] = ()
) -> None:
    """Lay `sheet` out for screen and paper: row 1 its title (when the header is below it), the
    header row bold, centred and frozen with a filter over the data, each column as wide as its
    widest text up to `max_widths` (wider text wraps), thin borders, and the print settings
    (landscape, fit to one page wide, the header row on every page, the page number below).
    The columns numbered in `centred` (from 0: numbers, dates, states) are centred."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    columns = len(max_widths)
    last = get_column_letter(columns)
    if header_row > 1:
        sheet.merge_cells(f"A1:{last}1")
        sheet["A1"].font = Font(bold=True, size=16)
        sheet["A1"].alignment = Alignment(horizontal="center", vertical="center")
        sheet.row_dimensions[1].height = 30
    widths = [0] * columns
    for line in sheet.iter_rows(min_row=header_row, max_col=columns):
        for n, cell in enumerate(line):
            widths[n] = max(widths[n], display_width(cell.value) + 2)  # and a margin
    shown = [min(width, most) for width, most in zip(widths, max_widths, strict=True)]
    for n, width in enumerate(shown):
        sheet.column_dimensions[get_column_letter(n + 1)].width = width
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for line in sheet.iter_rows(min_row=header_row, max_col=columns):
        for n, cell in enumerate(line):
            cell.border = border
            if cell.row == header_row:
                cell.font = Font(bold=True)
                cell.fill = PatternFill("solid", fgColor="DDE4EE")
                cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            else:
                cell.alignment = Alignment(
                    horizontal="center" if n in centred else None,
                    vertical="top",
                    wrap_text=widths[n] > shown[n],
                )
        # Spreadsheets keep a row one line high unless told (LibreOffice does not grow it).
        lines = max(wrapped_lines(cell.value, shown[n]) for n, cell in enumerate(line))
        sheet.row_dimensions[line[0].row].height = lines * LINE_HEIGHT + 4
    sheet.freeze_panes = sheet.cell(header_row + 1, 1).coordinate
    sheet.auto_filter.ref = f"A{header_row}:{last}{max(sheet.max_row, header_row + 1)}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    setup = sheet.page_setup
    setup.orientation = "landscape"
    setup.paperSize = sheet.PAPERSIZE_A4 if sum(shown) <= A4_WIDTH else sheet.PAPERSIZE_A3
    setup.fitToWidth, setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.5
    sheet.page_margins.top = sheet.page_margins.bottom = 0.75
    sheet.oddFooter.center.text = "第 &P 页 共 &N 页"
    sheet.oddFooter.center.size = 10


def text_cells(sheet) -> None:
    """Make every text cell of `sheet` a string cell: openpyxl writes text that starts with "="
    as a live formula (=HYPERLINK(…), =cmd|' /C calc'!A0). Text starting like a formula also gets
    the quote prefix, so that it stays text when someone edits the cell."""
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
                if cell.value.startswith(_FORMULA_START):
                    cell.quotePrefix = True


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _shown(value) -> str:
    """A cell's text as an error message quotes it (a long one shortened)."""
    text = _text(value)
    return text if len(text) <= 40 else text[:40] + "…"


def _date(value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    if not match:
        raise ValueError(text)
    return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))


def _measures(text: str) -> list[tuple[str, str]]:
    measures = []
    for line in (part.strip() for part in text.splitlines()):
        if not line:
            continue
        match = MEASURE_LINE.match(line)
        measures.append((match.group(1), match.group(2)) if match else ("", line))
    return measures


#: What the parsers raise on a file that is no workbook (lxml's errors are SyntaxErrors), with
#: openpyxl's own InvalidFileException.
_UNREADABLE = (BadZipFile, KeyError, OSError, ValueError, TypeError, SyntaxError)


def _dtd_refused(exc: BaseException) -> bool:
    """Did defusedxml refuse a DTD or an entity somewhere in the chain of `exc`?"""
    while exc is not None:
        if type(exc).__module__.startswith("defusedxml"):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _file_refusal(stream: BinaryIO) -> str | None:
    """Why the file is not read at all (too large unpacked, a DTD in any part), before openpyxl
    parses it; None when it may be read (openpyxl says what else is wrong with it)."""
    try:
        archive = zipfile.ZipFile(stream)
        parts = archive.infolist()
        if sum(part.file_size for part in parts) > MAX_UNPACKED_BYTES:
            return _(
                "the workbook unpacks to more than %(mb)d MB; save it again without what is not "
                "part of the ledger",
                mb=MAX_UNPACKED_BYTES // (1024 * 1024),
            )
        for part in parts:
            if part.filename.lower().endswith((".xml", ".rels", ".vml")) and _has_dtd(archive, part):
                return dtd_message()
    except (BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError, EOFError):
        return None
    finally:
        stream.seek(0)
    return None


def _has_dtd(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> bool:
    tail = b""
    with archive.open(part) as member:
        while chunk := member.read(1024 * 1024):
            if any(mark in tail + chunk for mark in _DTD_MARKS):
                return True
            tail = chunk[-32:]
    return False


def dtd_message() -> str:
    return _(
        "the workbook contains a document type declaration (DTD), which is refused for safety; "
        "save it again from Excel or WPS as .xlsx and try again"
    )


def read_ledger(stream: BinaryIO) -> Ledger:
    """Read a ledger workbook; problems go to `errors` by row and column."""
    ledger = Ledger()
    refusal = _file_refusal(stream)
    if refusal:
        ledger.errors.append(LedgerError(0, "", refusal))
        return ledger
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
        try:
            _read_rows(workbook.worksheets[0], ledger)
        finally:
            workbook.close()
    except (InvalidFileException, *_UNREADABLE) as exc:  # the parts are parsed as the rows are read, too
        message = (
            dtd_message()
            if _dtd_refused(exc)
            else _("not an .xlsx workbook (%(reason)s)", reason=exc.__class__.__name__)
        )
        return Ledger(errors=[LedgerError(0, "", message)])
    return ledger


def _read_rows(sheet, ledger: Ledger) -> None:
    header_row, header = None, None
    for index, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = [_text(v) for v in values]
        if header_row is None:
            if "问题" in cells and "整改措施" in cells:
                header_row, header = index, cells
            elif any(cells) and not ledger.title:
                ledger.title = next(c for c in cells if c)
                problem = _text_problem(ledger.title, TITLE_MAX_LENGTH)
                if problem:
                    ledger.errors.append(LedgerError(index, "", problem))
            continue
        if not any(cells):
            continue
        ledger.rows.append(_row(dict(zip(header, values, strict=False)), index, ledger))
    if header_row is None:
        ledger.errors.append(LedgerError(0, "", _("no header row with the columns 问题 and 整改措施")))
    else:
        missing = [c for c in ("问题", "整改措施") if c not in header]
        ledger.errors += [LedgerError(header_row, c, _("column missing")) for c in missing]


def _text_problem(text: str, limit: int) -> str | None:
    """What keeps a cell's text from being stored, if anything."""
    if control_characters(text):
        return _("contains control characters, which cannot be stored; remove them")
    if len(text) > limit:
        return _(
            "at most %(max)s characters (this cell has %(length)s)", max=f"{limit:,}", length=f"{len(text):,}"
        )
    return None


def _progress(raw) -> int:
    """A percentage cell as a whole number; ValueError when it is none (inf, nan, text)."""
    try:
        # A cell formatted as a percentage holds 0.67; a text cell holds "67%".
        number = raw * 100 if isinstance(raw, float) and raw <= 1 else float(_text(raw).rstrip("%"))
        if not math.isfinite(number):
            raise ValueError(raw)
        return round(number)
    except (OverflowError, TypeError) as exc:
        raise ValueError(raw) from exc


def _row(values: dict, index: int, ledger: Ledger) -> LedgerRow:
    def error(column: str, message: str) -> None:
        ledger.errors.append(LedgerError(index, column, message))

    title = _text(values.get("问题"))
    if not title:
        error("问题", _("empty"))
    for column in COLUMNS:
        problem = _text_problem(_text(values.get(column)), CELL_LIMITS.get(column, TEXT_MAX_LENGTH))
        if problem:
            error(column, problem)
    measures = _measures(_text(values.get("整改措施")))
    for label, text in measures:
        problem = _text_problem(text, TEXT_MAX_LENGTH) or _text_problem(label, LABEL_MAX_LENGTH)
        if problem and not any(e.row == index and e.column == "整改措施" for e in ledger.errors):
            error("整改措施", problem)
    try:
        deadline = _date(values.get("整改时限"))
    except ValueError:
        deadline = None
        error("整改时限", _("not a date: %(value)s", value=_shown(values.get("整改时限"))))
    raw_progress = values.get("整改进展")
    progress = None
    if _text(raw_progress):
        try:
            progress = _progress(raw_progress)
        except ValueError:
            error("整改进展", _("not a percentage: %(value)s", value=_shown(raw_progress)))
        else:
            if not 0 <= progress <= 100:
                error("整改进展", _("outside 0–100: %(value)s", value=progress))
    evidence_text = _text(values.get("佐证材料数"))
    evidence_count = None
    if evidence_text:
        if evidence_text.isdecimal() and len(evidence_text) <= 6:  # not isdigit: "²" is a digit
            evidence_count = int(evidence_text)
        else:
            error("佐证材料数", _("not a whole number: %(value)s", value=_shown(evidence_text)))
    return LedgerRow(
        number=_text(values.get("序号")),
        category=_text(values.get("问题类别")),
        title=title,
        measures=measures,
        leader=_text(values.get("责任领导")),
        department=_text(values.get("责任部门")),
        staff=_text(values.get("责任人")),
        deadline=deadline,
        status=_text(values.get("整改状态")),
        progress=progress,
        completion_summary=_text(values.get("整改成效")),
        evidence_count=evidence_count,
        row=index,
    )
