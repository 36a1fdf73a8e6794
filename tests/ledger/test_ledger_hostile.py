"""A ledger built to break the reader gets a clear refusal by row and column, never a 500:
progress of inf% or nan%, a DTD with entities, text too long for the database, control
characters, a workbook that unpacks to far more than it weighs."""

import io
import re
import zipfile

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.core.extensions import db
from portal.inspections.models import RectificationItem
from portal.ledger.xlsx import MAX_UNPACKED_BYTES, read_ledger
from tests.ledger.test_ledger import workbook

ROW = ["1", "一、党建", "理论学习不深入", "一是制定计划", "", "", "", "2026-06-30", "", "0%", "", 0]


def _with(**cells) -> list:
    row = list(ROW)
    for index, value in cells.items():
        row[int(index[1:])] = value
    return row


def _patched(body: bytes, member: str, transform) -> bytes:
    source, out = zipfile.ZipFile(io.BytesIO(body)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, transform(data) if name == member else data)
    return out.getvalue()


LAUGHS = b'<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'


def _with_dtd(member: str, root: bytes, entity_in_text: bool) -> bytes:
    body = workbook([_with(c2="PLACEHOLDER")])

    def transform(data: bytes) -> bytes:
        if entity_in_text:
            data = data.replace(b"PLACEHOLDER", b"&b;")
        return b"<!DOCTYPE " + root + b" [" + LAUGHS + b"]>" + data

    return _patched(body, member, transform)


def _problems(ledger) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.message) for e in ledger.errors]


@pytest.mark.parametrize("progress", ["inf%", "-inf%", "Infinity", "1e400%", "nan%", "NaN"])
def test_progress_that_is_no_number_is_a_row_error(progress):
    ledger = read_ledger(io.BytesIO(workbook([_with(c9=progress)])))
    assert [(row, column) for row, column, _m in _problems(ledger)] == [(3, "整改进展")]


def test_progress_as_an_infinite_number_cell_is_a_row_error():
    body = workbook([_with(c9=0.5)])
    # a number cell of 1e400, which reads as infinity (no spreadsheet writes one, a script can)
    body = _patched(body, "xl/worksheets/sheet1.xml", lambda d: d.replace(b"<v>0.5</v>", b"<v>1e400</v>"))
    ledger = read_ledger(io.BytesIO(body))
    assert [(row, column) for row, column, _m in _problems(ledger)] == [(3, "整改进展")]


@pytest.mark.parametrize("count", ["²", "9" * 40, "-1", "1.5"])
def test_an_evidence_count_that_is_no_count_is_a_row_error(count):
    ledger = read_ledger(io.BytesIO(workbook([_with(c11=count)])))
    assert [(row, column) for row, column, _m in _problems(ledger)] == [(3, "佐证材料数")]


@pytest.mark.parametrize(
    ("member", "root", "in_text"),
    [
        ("xl/worksheets/sheet1.xml", b"worksheet", True),
        ("xl/worksheets/sheet1.xml", b"worksheet", False),
        ("xl/workbook.xml", b"workbook", False),
        ("[Content_Types].xml", b"Types", False),
    ],
)
def test_a_dtd_anywhere_is_refused_with_a_clear_message(app, member, root, in_text):
    ledger = read_ledger(io.BytesIO(_with_dtd(member, root, in_text)))
    assert ledger.rows == []
    [(row, _column, message)] = _problems(ledger)
    assert row == 0 and "DTD" in message
    with app.test_request_context(), force_locale("zh"):
        [error] = read_ledger(io.BytesIO(_with_dtd(member, root, in_text))).errors
        assert "文档类型声明" in error.message


def test_a_workbook_that_unpacks_to_too_much_is_refused(app):
    body = workbook([ROW])
    padding = b"<!-- " + b" " * (MAX_UNPACKED_BYTES + 10) + b" -->"
    body = _patched(body, "docProps/app.xml", lambda d: d + padding)
    assert len(body) < MAX_UNPACKED_BYTES // 100  # it weighs little
    ledger = read_ledger(io.BytesIO(body))
    assert ledger.rows == [] and len(ledger.errors) == 1 and ledger.errors[0].row == 0


@pytest.mark.parametrize(
    ("cells", "column"),
    [
        ({"c2": "问" * 301}, "问题"),
        ({"c3": "一是" + "措" * 10_001}, "整改措施"),
        ({"c10": "成" * 10_001}, "整改成效"),
        ({"c0": "1" * 21}, "序号"),
        ({"c1": "一、" + "类" * 300}, "问题类别"),
        ({"c2": "问题\x7f甲"}, "问题"),  # DEL and C1 controls are valid XML, and reach the reader
        ({"c10": "成效\x9b31m"}, "整改成效"),
        ({"c3": "一是\x85制定计划"}, "整改措施"),
    ],
)
def test_text_the_database_cannot_hold_is_a_row_error(cells, column):
    ledger = read_ledger(io.BytesIO(workbook([_with(**cells)])))
    assert [(row, col) for row, col, _m in _problems(ledger)] == [(3, column)]


def test_the_page_explains_each_problem_in_chinese_and_saves_nothing(app, world, signed_in):
    office = signed_in("office")
    bad = [_with(c9="inf%"), _with(c2="问" * 301), _with(c2="问题\x7f乙")]
    response = office.post_form(
        "/inspections/import-ledger",
        {"file": (io.BytesIO(workbook(bad)), "台账.xlsx"), "title": "新台账"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    table = re.search(r'<table[^>]*id="ledger-errors">(.*?)</table>', response.text, re.S).group(1)
    assert "台账中有 3 处问题" in response.text
    assert "不是有效的百分比" in table and "最多 300 个字符" in table and "控制字符" in table
    response = office.post_form(
        "/inspections/import-ledger",
        {"file": (io.BytesIO(_with_dtd("xl/worksheets/sheet1.xml", b"worksheet", True)), "台账.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "文档类型声明" in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RectificationItem)) == 0
