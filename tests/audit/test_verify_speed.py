"""The shortcuts verification takes for speed answer as the long way does."""

import json
from datetime import datetime
from unittest import mock

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from portal.audit.chain import Actor, _stored_time, format_time, iter_event_rows, record_event, verify_rows
from portal.auditing.integrity import _loads
from portal.auditing.reconcile import _json
from portal.core.extensions import db
from tests.audit.tampering import behind_the_triggers


def _processed(raw: str) -> str:
    """What verification hashed before: SQLAlchemy's datetime, formatted."""
    dialect = sqlite.dialect()
    return format_time(sa.DateTime().dialect_impl(dialect).result_processor(dialect, None)(raw))


@settings(max_examples=300, deadline=None)
@given(at=st.datetimes(min_value=datetime(1000, 1, 1)))
def test_a_stored_time_hashes_as_its_datetime(at):
    """SQLite's text of any time (as SQLAlchemy writes it) gives the text `format_time` gives."""
    stored = sa.DateTime().dialect_impl(sqlite.dialect()).bind_processor(sqlite.dialect())(at)
    assert _stored_time(stored) == format_time(at) == _processed(stored)


@pytest.mark.parametrize(
    "raw", ["2026-03-01 08:00:00", "2026-03-01T08:00:00.000100", "2026-03-01 08:00:00.5", "2026-03-01"]
)
def test_a_time_in_another_form_is_read_as_before(raw):
    assert _stored_time(raw) == _processed(raw)


@pytest.mark.parametrize(
    "payload",
    ['{"a":1}', ' {"a": 1}', '{"a": 1} ', '{"a":', "", "null", "[1]", '{"a":1}x', '"\\u4e2d"', "{}{}"],
)
def test_payloads_read_as_json_loads_reads_them(payload):
    try:
        expected = json.loads(payload)
    except ValueError:
        expected = None
    assert _loads(payload) == expected
    assert _json(payload) == expected  # a stored version's data, as SQLite holds it


def test_version_data_already_read_by_the_driver_is_taken_as_it_is():
    data = {"title": "问题", "amount": "12.00"}
    assert _json(data) is data and _json(None) is None


def test_a_time_stored_in_another_form_still_verifies(app):
    """A row whose `at` SQLite holds in another form than SQLAlchemy's (no microseconds, as
    a hand-written INSERT would leave it) still hashes as its datetime; an edited one does not."""
    at = datetime(2026, 3, 1, 8, 0, 0)
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the stored text of a time is SQLite's")
        with mock.patch("portal.audit.chain.utcnow", lambda: at):
            record_event(Actor(7, "staff"), "test.event", "item", 1, {"n": 1})
            record_event(Actor(7, "staff"), "test.event", "item", 2, {"n": 2})
        db.session.commit()
        with behind_the_triggers() as conn:
            conn.execute(sa.text("UPDATE audit_events SET at = '2026-03-01 08:00:00' WHERE seq = 1"))
        stored = db.session.scalar(sa.text("SELECT at FROM audit_events WHERE seq = 1"))
        result = verify_rows(iter_event_rows())
        db.session.rollback()
        with behind_the_triggers() as conn:
            conn.execute(sa.text("UPDATE audit_events SET at = '2026-03-01 08:00:01' WHERE seq = 2"))
        edited = verify_rows(iter_event_rows())
        db.session.rollback()
    assert stored == "2026-03-01 08:00:00" and result.ok and result.checked == 2
    assert not edited.ok and edited.bad_seq == 2
