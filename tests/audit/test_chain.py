"""The audit chain: appending, the database's refusals, verification and tampering."""

import json

import pytest
import sqlalchemy as sa

from portal.audit.chain import (
    GENESIS_HASH,
    Actor,
    canonical_row,
    compute_hash,
    load_checkpoint_key,
    make_checkpoint,
    record_event,
    verify_chain,
)
from portal.audit.models import AuditEvent
from portal.core.extensions import db
from tests.audit.tampering import delete_from, edit_payload, recompute_chain


@pytest.fixture
def chain(app):
    """Five committed events, one with a Chinese payload."""
    with app.app_context():
        for n in range(1, 6):
            record_event(
                Actor(7, "staff"),
                "test.event",
                "item",
                n,
                {"n": n, "title": "整改报告", "amount": "161000.00"},
            )
        db.session.commit()
    return app


def events(app):
    with app.app_context():
        return db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)).all()


def test_events_form_a_hash_chain(chain):
    rows = events(chain)
    assert [e.seq for e in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == GENESIS_HASH
    for prev, event in zip(rows, rows[1:], strict=False):
        assert event.prev_hash == prev.hash
    for e in rows:
        row = canonical_row(e.seq, e.at, e.actor_id, e.actor, e.action, e.object_type, e.object_id, e.payload)
        assert e.hash == compute_hash(e.prev_hash, row)
    assert json.loads(rows[2].payload) == {"n": 3, "title": "整改报告", "amount": "161000.00"}
    assert "整改报告" in rows[2].payload  # stored as written, not \u-escaped


def test_inspection_id_is_hashed_only_when_present(app, runner):
    """Rows from before the column existed hash as they did; a set inspection_id is covered."""
    at = "2026-11-28T08:00:00.000000Z"
    without = canonical_row(1, at, 1, "office", "a", "user", "1", "{}")
    assert "inspection_id" not in without
    assert canonical_row(1, at, 1, "office", "a", "user", "1", "{}", None) == without
    assert json.loads(canonical_row(1, at, 1, "office", "a", "item", "1", "{}", 4))["inspection_id"] == 4
    with app.app_context():
        record_event(Actor(1, "office"), "test.event", "item", 1, {}, inspection_id=4)
        record_event(Actor(1, "office"), "test.event", "user", 1, {})
        db.session.commit()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    from tests.audit.tampering import behind_the_triggers

    with app.app_context(), behind_the_triggers() as conn:
        conn.execute(sa.text("UPDATE audit_events SET inspection_id = 5 WHERE seq = 1"))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "first bad seq: 1" in result.output


def test_event_rolls_back_with_its_transaction(chain):
    with chain.app_context():
        record_event(Actor.system("test"), "test.event", "item", 99, {})
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.max(AuditEvent.seq))) == 5


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET payload = '{}' WHERE seq = 2",
        "DELETE FROM audit_events WHERE seq = 5",
        "DELETE FROM audit_events",
    ],
)
def test_database_refuses_update_and_delete(chain, statement):
    with (
        chain.app_context(),
        pytest.raises(sa.exc.DBAPIError, match="append-only"),
        db.engine.begin() as conn,
    ):
        conn.exec_driver_sql(statement)
    assert len(events(chain)) == 5


def test_postgresql_refuses_truncate(chain):
    with chain.app_context():
        if db.engine.dialect.name != "postgresql":
            assert db.engine.dialect.name == "sqlite"  # SQLite has no TRUNCATE statement
            return
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.exec_driver_sql("TRUNCATE audit_events")
    assert len(events(chain)) == 5


def test_verify_passes_on_intact_chain(chain, runner):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "OK: 5 events, head seq 5" in result.output


def test_verify_names_edited_row(chain, runner):
    with chain.app_context():
        edit_payload(3, '{"n":3,"title":"已整改"}')
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "first bad seq: 3" in result.output
    assert "does not match its content" in result.output


@pytest.fixture
def checkpoint(chain, runner, tmp_path):
    """A signed checkpoint of the five-event chain."""
    path = tmp_path / "head.json"
    result = runner.invoke(args=["audit", "checkpoint", "--out", str(path)])
    assert result.exit_code == 0 and "seq 5" in result.output
    return path


def test_deleted_tail_is_caught_by_checkpoint(chain, runner, checkpoint):
    with chain.app_context():
        delete_from(4)
    # Without a checkpoint a truncated chain is still self-consistent...
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    # ...the signed checkpoint remembers how long it was.
    result = runner.invoke(args=["audit", "verify", "--checkpoint", str(checkpoint)])
    assert result.exit_code == 1
    assert "first bad seq: 4" in result.output
    assert "events 4..5 were removed" in result.output


def test_recomputed_chain_is_caught_by_checkpoint(chain, runner, checkpoint):
    with chain.app_context():
        edit_payload(2, '{"n":2,"title":"改写"}')
        recompute_chain()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # self-consistent again
    result = runner.invoke(args=["audit", "verify", "--checkpoint", str(checkpoint)])
    assert result.exit_code == 1
    assert "first bad seq: 5" in result.output
    assert "rewritten" in result.output


def test_checkpoint_signature_is_checked(chain, runner, checkpoint):
    data = json.loads(checkpoint.read_text())
    data["seq"] = 3  # an attacker moving the checkpoint back
    checkpoint.write_text(json.dumps(data))
    result = runner.invoke(args=["audit", "verify", "--checkpoint", str(checkpoint)])
    assert result.exit_code == 1
    assert "signature is invalid" in result.output


def test_checkpoint_key_lives_outside_the_database(chain, tmp_path):
    with chain.app_context():
        key = load_checkpoint_key(chain.config["AUDIT_CHECKPOINT_KEY_FILE"], create=True)
        checkpoint = make_checkpoint(key)
        assert verify_chain(checkpoint, key).ok
        assert not verify_chain(checkpoint, b"another key").ok
    assert (tmp_path / "keys" / "checkpoint.key").exists()


def test_verify_demo_database(app, runner):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "head seq" in result.output


def test_document_events_name_their_inspection(app):
    """Every event about a document of an inspection carries it, so the log can filter by it."""
    from portal.demo.cli import load_demo

    with app.app_context():
        load_demo()
        rows = db.session.execute(sa.select(AuditEvent.object_type, AuditEvent.inspection_id)).all()
    by_type = {}
    for otype, inspection_id in rows:
        by_type.setdefault(otype, set()).add(inspection_id)
    for otype in ("inspection", "category", "item", "measure", "feedback"):
        assert otype in by_type and None not in by_type[otype], otype
    assert by_type["user"] == {None}


def test_fast_canonical_row_equals_its_definition():
    """`canonical_row` is written out by hand for speed; it must equal the dict-and-json form."""
    from datetime import datetime

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from portal.audit.chain import canonical_row_slow

    text = st.text(max_size=40)  # any code point: quotes, control characters, CJK, U+2028

    @settings(max_examples=300, deadline=None)
    @given(
        seq=st.integers(1, 2**53),
        at=st.datetimes(min_value=datetime(2000, 1, 1)),
        actor_id=st.none() | st.integers(0, 2**31),
        actor=text,
        action=text,
        object_type=text,
        object_id=text,
        payload=text,
        inspection_id=st.none() | st.integers(0, 2**31),
    )
    def same(**row):
        assert canonical_row(**row) == canonical_row_slow(**row)

    same()


def test_record_events_appends_in_order_after_pending_events_and_verifies(app):
    """The bulk append writes the rows one-by-one appends would (each linked and hashed), after
    the events still pending in the session, with each event's own actor where it has one."""
    from portal.audit.chain import Event, record_events

    with app.app_context():
        record_event(Actor(7, "staff"), "test.before", "item", 1, {"n": 0})  # pending, not flushed
        appended = record_events(
            Actor.system("supervision"),
            [
                Event("test.bulk", "item", n, {"n": n, "title": "整改报告"}, inspection_id=n % 2 or None)
                for n in range(1, 4)
            ]
            + [Event("test.own_actor", "item", 9, actor=Actor(7, "staff"))],
        )
        record_event(Actor(7, "staff"), "test.after", "item", 1)  # the head is remembered
        db.session.commit()
        assert appended == 4
        assert record_events(Actor.system("supervision"), []) == 0
    rows = events(app)
    assert [(e.seq, e.action, e.actor) for e in rows] == [
        (1, "test.before", "staff"),
        (2, "test.bulk", "supervision"),
        (3, "test.bulk", "supervision"),
        (4, "test.bulk", "supervision"),
        (5, "test.own_actor", "staff"),
        (6, "test.after", "staff"),
    ]
    assert [e.inspection_id for e in rows[1:4]] == [1, None, 1]
    assert json.loads(rows[2].payload) == {"n": 2, "title": "整改报告"}
    for prev, event in zip(rows, rows[1:], strict=False):
        assert event.prev_hash == prev.hash
        row = canonical_row(
            event.seq,
            event.at,
            event.actor_id,
            event.actor,
            event.action,
            event.object_type,
            event.object_id,
            event.payload,
            event.inspection_id,
        )
        assert event.hash == compute_hash(event.prev_hash, row)
    with app.app_context():
        assert verify_chain().ok


def test_a_checkpoint_of_the_empty_chain_holds_as_the_chain_grows(app, runner, tmp_path):
    """A fresh installation's first checkpoint signs the empty chain (seq 0, the genesis
    hash); it stays true when events follow, and a forged one of seq 0 is still caught."""
    path = tmp_path / "genesis.json"
    result = runner.invoke(args=["audit", "checkpoint", "--out", str(path)])
    assert result.exit_code == 0 and "seq 0" in result.output
    with app.app_context():
        record_event(Actor(7, "staff"), "test.event", "item", 1, {"n": 1})
        db.session.commit()
        key = load_checkpoint_key(app.config["AUDIT_CHECKPOINT_KEY_FILE"])
        assert verify_chain(json.loads(path.read_text()), key).ok
        forged = make_checkpoint(key, head=(0, "1" * 64))
        assert not verify_chain(forged, key).ok
    result = runner.invoke(args=["audit", "verify", "--checkpoint", str(path)])
    assert result.exit_code == 0, result.output
