"""The ledger (整改台账): export, import with row/column errors and nothing partial, round trip."""

import io
from datetime import date

import sqlalchemy as sa
from openpyxl import Workbook

from portal.core.extensions import db
from portal.inspections.models import Inspection, RectificationItem
from portal.ledger.operations import ledger_rows
from portal.ledger.xlsx import COLUMNS, read_ledger, write_ledger
from tests.notices.test_parser import NOTICE


def workbook(rows, header=COLUMNS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["某局巡察整改台账"])
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def snapshot(app, inspection_id):
    with app.app_context():
        inspection = db.session.get(Inspection, inspection_id)
        items = db.session.scalars(
            sa.select(RectificationItem)
            .where(RectificationItem.inspection_id == inspection_id)
            .order_by(RectificationItem.id)
        ).all()
        rows = ledger_rows(inspection, items)
        return [
            (
                r.number,
                r.category,
                r.title,
                r.measures,
                r.leader,
                r.department,
                r.staff,
                r.deadline,
                r.progress,
                r.completion_summary,
            )
            for r in rows
        ]


def test_export_then_import_round_trips(app, runner, world, tmp_path):
    assert runner.invoke(args=["notice", "import", str(NOTICE)]).exit_code == 0
    with app.app_context():
        source = db.session.scalar(sa.select(Inspection.id).where(Inspection.source_sha256.is_not(None)))
        first = db.session.scalar(
            sa.select(RectificationItem)
            .where(RectificationItem.inspection_id == source)
            .order_by(RectificationItem.id)
        )
        first.responsible_leader_id = world.users["leader_resp"]
        first.staff_id = world.users["staff_resp"]
        first.progress_override = 40
        db.session.commit()
    out = tmp_path / "台账.xlsx"
    result = runner.invoke(args=["ledger", "export", str(source), "--out", str(out)])
    assert result.exit_code == 0 and "15 rows" in result.output
    result = runner.invoke(args=["ledger", "import", str(out), "--title", "复制的台账"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        copy = db.session.scalar(sa.select(Inspection.id).where(Inspection.title == "复制的台账"))
    original, imported = snapshot(app, source), snapshot(app, copy)
    assert imported == original
    assert original[0][4] == "leader_resp" and original[0][8] == 40
    assert original[12][3][2][0] == "四是"  # labels as written survive the spreadsheet


def test_errors_by_row_and_column_and_nothing_partial(app, runner, world, tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(
        workbook(
            [
                [
                    "1",
                    "一、党建",
                    "理论学习不深入",
                    "一是制定计划\n二是专题研讨",
                    "leader_resp",
                    "",
                    "",
                    "2026-06-30",
                    "已交办",
                    "0%",
                    "",
                    0,
                ],
                [
                    "2",
                    "一、党建",
                    "",
                    "一是x",
                    "不存在的领导",
                    "不存在的部门",
                    "",
                    "明年",
                    "飞升",
                    "150%",
                    "",
                    "x",
                ],
            ]
        )
    )
    result = runner.invoke(args=["ledger", "import", str(path)])
    assert result.exit_code != 0 and "nothing was imported" in result.output
    for fragment in (
        "row 4 问题: empty",
        "row 4 整改时限",
        "row 4 责任领导",
        "row 4 责任部门",
        "row 4 整改状态",
        "row 4 整改进展",
        "row 4 佐证材料数",
    ):
        assert fragment in result.output, fragment
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RectificationItem)) == 0


def test_reading_dates_and_percent_cells():
    ledger = read_ledger(
        io.BytesIO(
            workbook(
                [
                    ["1", "", "问题甲", "整改措施", "", "", "", date(2026, 5, 31), "", 0.5, "", 2],
                    ["2", "", "问题乙", "一是甲\n三是丙", "", "", "", "2026年6月30日", "", "75%", "", ""],
                ]
            )
        )
    )
    assert ledger.errors == [] and ledger.title == "某局巡察整改台账"
    first, second = ledger.rows
    assert first.deadline == date(2026, 5, 31) and first.progress == 50
    assert first.measures == [("", "整改措施")]
    assert second.deadline == date(2026, 6, 30) and second.progress == 75
    assert second.measures == [("一是", "甲"), ("三是", "丙")]


def test_not_a_workbook():
    ledger = read_ledger(io.BytesIO(b"<html>not a workbook</html>"))
    assert ledger.errors and "not an .xlsx workbook" in ledger.errors[0].message


def test_pages(app, runner, world, signed_in, tmp_path):
    assert runner.invoke(args=["notice", "import", str(NOTICE)]).exit_code == 0
    with app.app_context():
        source = db.session.scalar(sa.select(Inspection.id).where(Inspection.source_sha256.is_not(None)))
    office = signed_in("office")
    export = office.get(f"/inspections/{source}/ledger.xlsx")
    assert export.status_code == 200 and export.data[:2] == b"PK"
    assert len(read_ledger(io.BytesIO(export.data)).rows) == 15
    bad = workbook([["1", "", "", "", "", "", "", "", "", "", "", ""]])
    response = office.post_form(
        "/inspections/import-ledger",
        {"file": (io.BytesIO(bad), "台账.xlsx"), "title": "新台账"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and 'id="ledger-errors"' in response.text
    response = office.post_form(
        "/inspections/import-ledger",
        {"file": (io.BytesIO(export.data), "台账.xlsx"), "title": "新台账"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert signed_in("staff_resp").get("/inspections/import-ledger").status_code == 403
    assert signed_in("staff_other").get(f"/inspections/{source}/ledger.xlsx").status_code == 404


def test_write_ledger_has_the_office_columns():
    from openpyxl import load_workbook

    body = write_ledger("台账", [])
    sheet = load_workbook(io.BytesIO(body)).active
    assert [c.value for c in sheet[2]] == list(COLUMNS)


def test_a_withdrawn_item_leaves_the_ledger_as_it_leaves_the_dashboard(
    app, runner, world, signed_in, tmp_path
):
    from portal.core.timeutil import today
    from portal.supervision.dashboard import dashboard

    assert runner.invoke(args=["notice", "import", str(NOTICE)]).exit_code == 0
    with app.app_context():
        source = db.session.scalar(sa.select(Inspection.id).where(Inspection.source_sha256.is_not(None)))
        withdrawn = db.session.scalar(
            sa.select(RectificationItem.id).where(RectificationItem.inspection_id == source).limit(1)
        )
    world.fire("office", withdrawn, "withdraw", comment="与第2项重复，撤销")
    export = signed_in("office").get(f"/inspections/{source}/ledger.xlsx")
    rows = read_ledger(io.BytesIO(export.data)).rows
    out = tmp_path / "台账.xlsx"
    result = runner.invoke(args=["ledger", "export", str(source), "--out", str(out)])
    assert result.exit_code == 0 and "14 rows" in result.output
    with app.app_context():
        figures = dashboard(world.user("office"), today(), source)
        title = db.session.get(RectificationItem, withdrawn).title
    assert len(rows) == 14 == figures.total == len(read_ledger(io.BytesIO(out.read_bytes())).rows)
    assert title not in {row.title for row in rows}
