"""Hostile text and the auditor's pages: a long edit computes no diff on the log page (its
own page has the diff), and a formula typed as a login name is not a formula in the CSV."""

from __future__ import annotations

import csv
import io
import json

import pytest
import sqlalchemy as sa

from portal.audit.chain import Actor
from portal.audit.models import AuditEvent
from portal.auditing import log
from portal.core.extensions import db
from portal.demo.cli import demo_password
from portal.inspections.models import RectificationItem
from portal.inspections.operations import update_document
from tests.conftest import TEST_PASSWORD

FORMULA = "=cmd|' /C calc'!A0"


@pytest.fixture
def app(demo_app):
    return demo_app


@pytest.fixture
def auditor(app, client):
    assert client.login("auditor", demo_password("auditor")).status_code == 302
    return client


@pytest.fixture
def long_edit(app) -> int:
    """An item whose completion summary became 10,000 characters (as long as a text field
    takes; a few thousand repetitive ones were enough to stall a diff): the seq of that edit."""
    with app.app_context():
        item = db.session.scalar(sa.select(RectificationItem).order_by(RectificationItem.id))
        update_document(Actor.system("test"), item, {"completion_summary": "整改" * 5_000})
        db.session.commit()
        return db.session.scalar(sa.select(sa.func.max(AuditEvent.seq)))


def _row(body: str, seq: int) -> str:
    row = body[body.index(f'<tr data-seq="{seq}"') :]
    ends = [i for i in (row.find("<tr data-seq=", 1), row.find("</tbody>")) if i > 0]
    return row[: min(ends)]


def test_the_log_page_computes_no_diff(app, auditor, long_edit, monkeypatch):
    def no_diff(*_args):
        raise AssertionError("the log page computed a diff")

    monkeypatch.setattr(log, "char_runs", no_diff)
    body = auditor.get("/audit/").get_data(as_text=True)
    row = _row(body, long_edit)
    assert "整改成效" in row and 'data-key="completion_summary"' in row
    assert "改动：" in row and "10000 个字符" in row  # its sizes, not a diff
    assert f'href="/audit/?event={long_edit}" data-diff-link' in row
    assert "查看差异" in row


def test_short_edits_show_their_values_without_a_diff(app, auditor, monkeypatch):
    monkeypatch.setattr(log, "char_runs", lambda *_a: pytest.fail("diffed"))
    with app.app_context():
        item = db.session.scalar(sa.select(RectificationItem).order_by(RectificationItem.id))
        title = item.title
        update_document(Actor.system("test"), item, {"title": "新的标题"})
        db.session.commit()
        seq = db.session.scalar(sa.select(sa.func.max(AuditEvent.seq)))
    row = _row(auditor.get("/audit/").get_data(as_text=True), seq)
    assert f'<del class="diff-delete">{title}</del> → <ins class="diff-insert">新的标题</ins>' in row


def test_the_event_page_has_the_diff(app, auditor, long_edit, monkeypatch):
    # (this page's diff, not its deadline, is what is checked here: a busy machine may take the
    # 0.2 s the comparison is allowed, and the page would rightly show the summary instead)
    from portal.versions.operations import char_runs

    monkeypatch.setattr(log, "char_runs", lambda before, after: char_runs(before, after, timeout=10))
    response = auditor.get(f"/audit/?event={long_edit}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.count("<tr data-seq=") == 1 and f'<tr data-seq="{long_edit}"' in body
    assert '<ins class="diff-insert">' in body
    assert "data-diff-link" not in body
    assert f'href="/audit/?before={long_edit + 1}" id="back-to-log"' in body


def test_the_event_page_is_the_logs_readers_and_read_only(app, client, auditor, long_edit, make_user):
    from tests.helpers import count_writes

    with app.app_context():
        engine = db.engine
    with count_writes(engine) as writes:
        assert auditor.get(f"/audit/?event={long_edit}").status_code == 200
    assert writes == []
    assert auditor.get("/audit/?event=999999").status_code == 404
    assert auditor.get("/audit/?event=x").status_code == 404
    for role, status in (("leader", 200), ("office", 403), ("staff", 403)):
        make_user(f"{role}7", role)
        other = app.test_client()
        assert other.login(f"{role}7", TEST_PASSWORD).status_code == 302
        assert other.get(f"/audit/?event={long_edit}").status_code == status, role
    anonymous = app.test_client()
    assert anonymous.get(f"/audit/?event={long_edit}").status_code == 302


# --- CSV ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", FORMULA])
def test_cells_that_begin_like_a_formula_are_neutralised(text):
    assert log.csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["1+1", "整改", "", "{}", " =x", 5, -5, None])
def test_other_cells_are_kept(value):
    assert log.csv_cell(value) == value


def test_a_formula_typed_as_a_login_name_is_no_formula_in_the_csv(app, client, auditor):
    anonymous = app.test_client()
    anonymous.login(FORMULA, "wrong password")
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "auth.login_failed"))
        seq, payload, actor = event.seq, event.payload, event.actor
    csv_text = auditor.post_form("/audit/export", {"format": "csv", "action": "auth.login_failed"}).get_data(
        as_text=True
    )
    [row] = list(csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff"))))
    assert int(row["seq"]) == seq
    cells = [value for value in row.values() if value]
    assert not any(cell.startswith(log.FORMULA_STARTS) for cell in cells), cells
    assert row["object_id"] == "'" + FORMULA.lower()
    assert row["payload"] == payload  # JSON, which begins with {, is kept
    assert FORMULA.lower() in row["payload"] and actor == "anonymous"
    # JSON Lines, the verifiable format, keeps the value exactly as hashed
    lines = auditor.post_form("/audit/export", {"format": "jsonl", "action": "auth.login_failed"})
    [record] = [json.loads(line) for line in lines.get_data(as_text=True).splitlines()]
    assert record["object_id"] == FORMULA.lower() and record["payload"] == payload
