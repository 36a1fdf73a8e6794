"""Bulk INSERTs (portal.core.bulk): ids in the order of the rows, values stored as an ORM
INSERT stores them (JSON included, COPY on PostgreSQL), and the same rows on both databases."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from portal.core.bulk import insert_many, insert_rows
from portal.core.extensions import db
from portal.core.models import WorkflowHistory
from portal.notifications.models import Notification

TABLE = WorkflowHistory.__table__


def _row(n: int, evidence) -> dict:
    return {
        "object_type": "item",
        "object_id": n,
        "workflow": "rectification",
        "action": "start",
        "actor_id": None,
        "comment": f"第{n}条：含“引号”、逗号,反斜杠\\和\t制表符",
        "from_state": "assigned",
        "to_state": "in_progress",
        "at": datetime(2026, 12, 1, 8, 0, n % 60),
        "evidence_ids": evidence,
    }


def test_insert_many_gives_the_ids_in_row_order_and_stores_what_an_insert_stores(app):
    shared = [3, 1, 2]  # one list that several rows carry: serialised once, stored for each
    rows = [_row(n, shared if n % 2 else []) for n in range(1, 8)]
    with app.app_context():
        ids = insert_many(TABLE, rows)
        assert len(ids) == len(set(ids)) == len(rows) and ids == sorted(ids)
        db.session.add(WorkflowHistory(**_row(99, [5])))  # the ORM's own INSERT, after them
        db.session.commit()
        stored = {e.id: e for e in db.session.scalars(sa.select(WorkflowHistory))}
        for row_id, row in zip(ids, rows, strict=True):
            entry = stored[row_id]
            assert {k: getattr(entry, k) for k in row} == row
        assert max(stored) > max(ids)  # the sequence moved past the ids taken
        assert insert_many(TABLE, []) == []


def test_insert_rows_binds_json_as_the_orm_does(app, world):
    """`None` in a JSON column is JSON null, as the ORM binds it; dicts keep Chinese text."""
    with app.app_context():
        user_id = world.users["staff_resp"]
        params = {"title": "整改事项", "n": 1}
        row = {
            "user_id": user_id,
            "kind": "warning",
            "item_id": None,
            "object_type": "",
            "object_id": None,
            "actor_id": None,
            "created_at": datetime(2026, 12, 1, 8, 0),
        }
        insert_rows(
            Notification.__table__,
            [{**row, "id": 10_001, "params": params}, {**row, "id": 10_002, "params": None}],
        )
        db.session.add(Notification(**{**row, "id": 10_003, "params": None}))
        db.session.commit()
        stored = dict(
            db.session.execute(
                sa.select(Notification.id, Notification.params).where(Notification.id > 10_000)
            ).all()
        )
        assert stored == {10_001: params, 10_002: None, 10_003: None}
        raw = dict(
            db.session.execute(
                sa.select(Notification.id, sa.cast(Notification.params, sa.Text)).where(
                    Notification.id > 10_000
                )
            ).all()
        )
        assert raw[10_002] == raw[10_003]  # the same stored form as the ORM's


def test_rows_must_name_the_same_columns(app):
    with app.app_context():
        with pytest.raises((ValueError, sa.exc.StatementError)):
            insert_rows(TABLE, [_row(1, []), {k: v for k, v in _row(2, []).items() if k != "comment"}])
        db.session.rollback()
