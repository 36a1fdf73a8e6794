"""The audit chain's head, read once per request (portal.core.cache.data_head): what the page
caches, the worklist counts and the figures key on. A write, flushed or not yet, moves it."""

from __future__ import annotations

import sqlalchemy as sa

from portal.accounts.operations import create_department
from portal.audit.chain import Actor, Event, record_events
from portal.audit.models import AuditEvent
from portal.core.cache import data_head, request_memo
from portal.core.extensions import db
from portal.public import queries
from tests.helpers import count_statements


def _last_seq() -> int:
    return db.session.scalar(sa.select(sa.func.max(AuditEvent.seq)))  # (an ORM query: it flushes)


def test_the_head_is_read_once_per_request(app, world):
    with app.test_request_context("/"), count_statements(db.engine) as statements:
        first = data_head()
        assert data_head() == first and first.seq == _last_seq()
        assert sum("audit_events" in s for s in statements) == 2  # ours, then _last_seq's
    with app.test_request_context("/"):
        assert request_memo() == {}  # a request of its own starts with nothing remembered


def test_a_write_in_the_request_moves_the_head_even_before_it_is_flushed(app, world):
    with app.test_request_context("/"):
        before = data_head()
        create_department(Actor.system("test"), "督查科")  # pending in the session
        moved = data_head()
        assert moved.seq > before.seq and moved.seq == _last_seq()
        assert moved.key != before.key
        db.session.rollback()


def test_outside_a_request_the_head_is_read_each_time(app, world):
    with app.app_context():
        before = data_head()
        create_department(Actor.system("test"), "信访科")
        db.session.commit()
        assert data_head().seq == before.seq + 1
        assert request_memo() is None


def test_the_public_lists_totals_follow_every_write(app, world, monkeypatch):
    runs = []
    compute = queries._published_headlines

    def counted():
        runs.append(1)
        return compute()

    monkeypatch.setattr(queries, "_published_headlines", counted)
    shown = world.new_item(state="in_progress")
    world.fire("leader_resp", shown, "publish")
    with app.test_request_context("/public/"):
        first = [headline for _inspection, headline in queries.published_inspections()]
    with app.test_request_context("/public/"):
        again = [headline for _inspection, headline in queries.published_inspections()]
    assert again == first and len(runs) == 1  # kept for this state of the data
    world.new_item(state="assigned")  # counts in the totals, published or not
    with app.test_request_context("/public/"):
        (_inspection, headline), *_ = queries.published_inspections()
    assert len(runs) == 2 and headline.total == first[0].total + 1


def test_a_rollback_forgets_what_the_request_remembered(app, world):
    with app.test_request_context("/"):
        before = data_head()
        create_department(Actor.system("test"), "审计科")
        assert data_head().seq == before.seq + 1
        db.session.rollback()
        assert data_head() == before and request_memo() == {"data_head": before}


def test_events_appended_in_bulk_move_the_head_too(app, world):
    """record_events writes past the ORM's flush (one INSERT, COPY on PostgreSQL)."""
    with app.test_request_context("/"):
        before = data_head()
        events = [Event("test.bulk", "item", n, {"n": n}) for n in range(3)]
        assert record_events(Actor.system("test"), events) == 3
        assert data_head().seq == before.seq + 3 == _last_seq()
        db.session.rollback()
