"""Reading and writing the ledger workbook, with the columns offices use.

Reading never trusts a cell: every row is checked and every problem reported by row and
column, so that an import either saves everything or nothing.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import BinaryIO
from zipfile import BadZipFile

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils.exceptions import InvalidFileException

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
WIDTHS = (6, 28, 36, 60, 12, 14, 12, 12, 10, 10, 40, 10)
MEASURE_LINE = re.compile(r"^([一二三四五六七八九十]+是)\s*(.*)$")


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
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "整改台账"
    sheet.append([title])
    sheet.append(list(COLUMNS))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
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
    for letter, width in zip("ABCDEFGHIJKL", WIDTHS, strict=True):
        sheet.column_dimensions[letter].width = width
    for line in sheet.iter_rows(min_row=3):
        for cell in line:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        line[7].number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


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


def read_ledger(stream: BinaryIO) -> Ledger:
    """Read a ledger workbook; problems go to `errors` by row and column."""
    ledger = Ledger()
    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        ledger.errors.append(LedgerError(0, "", f"not an .xlsx workbook ({exc.__class__.__name__})"))
        return ledger
    sheet = workbook.worksheets[0]
    header_row, header = None, None
    for index, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = [_text(v) for v in values]
        if header_row is None:
            if "问题" in cells and "整改措施" in cells:
                header_row, header = index, cells
            elif any(cells) and not ledger.title:
                ledger.title = next(c for c in cells if c)
            continue
        if not any(cells):
            continue
        ledger.rows.append(_row(dict(zip(header, values, strict=False)), index, ledger))
    if header_row is None:
        ledger.errors.append(LedgerError(0, "", "no header row with the columns 问题 and 整改措施"))
    else:
        missing = [c for c in ("问题", "整改措施") if c not in header]
        ledger.errors += [LedgerError(header_row, c, "column missing") for c in missing]
    workbook.close()
    return ledger


def _row(values: dict, index: int, ledger: Ledger) -> LedgerRow:
    def error(column: str, message: str) -> None:
        ledger.errors.append(LedgerError(index, column, message))

    title = _text(values.get("问题"))
    if not title:
        error("问题", "empty")
    try:
        deadline = _date(values.get("整改时限"))
    except ValueError:
        deadline = None
        error("整改时限", f"not a date: {_text(values.get('整改时限'))}")
    raw_progress = values.get("整改进展")
    progress = None
    if _text(raw_progress):
        try:
            # A cell formatted as a percentage holds 0.67; a text cell holds "67%".
            progress = (
                round(raw_progress * 100)
                if isinstance(raw_progress, float) and raw_progress <= 1
                else round(float(_text(raw_progress).rstrip("%")))
            )
        except ValueError:
            error("整改进展", f"not a percentage: {_text(raw_progress)}")
        else:
            if not 0 <= progress <= 100:
                error("整改进展", f"outside 0–100: {progress}")
    evidence_text = _text(values.get("佐证材料数"))
    evidence_count = None
    if evidence_text:
        if evidence_text.isdigit():
            evidence_count = int(evidence_text)
        else:
            error("佐证材料数", f"not a whole number: {evidence_text}")
    return LedgerRow(
        number=_text(values.get("序号")),
        category=_text(values.get("问题类别")),
        title=title,
        measures=_measures(_text(values.get("整改措施"))),
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
