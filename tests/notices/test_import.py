"""Importing notices: the CLI, the created documents, duplicates, the audit chain."""

import json

import sqlalchemy as sa

from portal.audit.chain import verify_chain
from portal.core.extensions import db
from portal.inspections.models import Category, Inspection, Measure, RectificationItem
from tests.notices.test_parser import EXPECTED, NOTICE


def test_parse_json_saves_nothing(app, runner):
    result = runner.invoke(args=["notice", "parse", str(NOTICE), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    assert data["problems_stated"] == 15 and len(data["categories"]) == 4
    assert [len(c["problems"]) for c in data["categories"]] == [
        len(c["problems"]) for c in expected["categories"]
    ]
    assert data["categories"][3]["problems"][0]["measure_labels"] == ["一", "二", "四"]
    assert any("一、二、四" in w for w in data["warnings"])
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Inspection)) == 0


def test_import_creates_the_documents_once(app, runner):
    result = runner.invoke(args=["notice", "import", str(NOTICE)])
    assert result.exit_code == 0, result.output
    assert "15 items in 4 categories" in result.output
    with app.app_context():
        inspection = db.session.scalar(sa.select(Inspection))
        assert inspection.inspection_team == "区委第二巡察组"
        assert inspection.contact_phone == "26667710"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Category)) == 4
        items = db.session.scalars(sa.select(RectificationItem).order_by(RectificationItem.id)).all()
        assert len(items) == 15 and all(i.state == "assigned" for i in items)
        gap = items[12]
        labels = db.session.scalars(
            sa.select(Measure.label).where(Measure.item_id == gap.id).order_by(Measure.position)
        ).all()
        assert gap.title == "对基层科普工作重视不够" and labels == ["一是", "二是", "四是"]
        assert str(items[7].money_to_recover) == "361000.00"
        assert verify_chain().ok
    again = runner.invoke(args=["notice", "import", str(NOTICE)])
    assert again.exit_code != 0 and "already imported as inspection" in again.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Inspection)) == 1


def test_unreadable_files_get_a_clear_error(app, runner, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    result = runner.invoke(args=["notice", "import", str(empty)])
    assert result.exit_code != 0 and "empty" in result.output
    binary = tmp_path / "notice.docx"
    binary.write_bytes(b"PK\x03\x04\x00\x00\x00binary")
    result = runner.invoke(args=["notice", "parse", str(binary)])
    assert result.exit_code != 0 and "binary" in result.output


def test_the_same_notice_with_crlf_is_refused(app, runner, tmp_path):
    crlf = tmp_path / "通报-windows.txt"
    crlf.write_bytes(NOTICE.read_bytes().replace(b"\n", b"\r\n"))
    assert runner.invoke(args=["notice", "import", str(NOTICE)]).exit_code == 0
    with app.app_context():
        first = db.session.scalar(sa.select(Inspection))
        first_id, first_title = first.id, first.title
    again = runner.invoke(args=["notice", "import", str(crlf)])
    assert again.exit_code == 1
    assert f"already imported as inspection {first_id}: {first_title}" in again.output
    assert "nothing was imported" in again.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Inspection)) == 1


def test_cli_warnings_are_listed_in_plain_english(runner):
    result = runner.invoke(args=["notice", "parse", str(NOTICE)])
    assert result.exit_code == 0
    assert (
        "warning: problem 1 “对基层科普工作重视不够”: measure labels 一、二、四 are not consecutive "
        "(kept as written)" in result.output
    )
