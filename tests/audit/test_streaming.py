"""Streaming the chain for verification leaves the transaction usable for the writes after it."""

import sqlalchemy as sa

from portal.audit.chain import Actor, iter_event_rows, record_event, verify_rows
from portal.audit.models import AuditEvent
from portal.core.extensions import db


def _append(n: int) -> None:
    for i in range(n):
        record_event(Actor(7, "staff"), "test.event", "item", i, {"n": i})


def test_a_write_after_verification_in_the_same_transaction(app):
    """Verify, then record the verification, in one transaction (as the checkpointing does)."""
    with app.app_context():
        _append(12)
        db.session.commit()
        result = verify_rows(iter_event_rows(batch=5))
        assert result.ok and result.checked == 12
        record_event(Actor.system("test"), "audit.verify", "audit", "verify", {"checked": result.checked})
        db.session.flush()
        db.session.execute(sa.update(AuditEvent).where(sa.false()).values(actor="x"))
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 13


def test_a_write_while_the_stream_is_still_open(app):
    """Reading part of the stream and writing before the rest is read works too."""
    with app.app_context():
        _append(12)
        db.session.commit()
        rows = iter(iter_event_rows(batch=5))
        first = [next(rows) for _ in range(3)]
        _append(1)
        db.session.flush()
        rest = list(rows)
        db.session.commit()
    assert [r[0] for r in first] == [1, 2, 3]
    assert [r[0] for r in rest][:9] == list(range(4, 13))


def test_the_stream_does_not_change_the_sessions_connection(app):
    with app.app_context():
        _append(3)
        db.session.commit()
        list(iter_event_rows(batch=2))
        options = db.session.connection().get_execution_options()
        db.session.rollback()
    assert "stream_results" not in options and "yield_per" not in options
