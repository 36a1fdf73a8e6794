"""Batched notifications (the supervision pass sends thousands): the same rows, audit events and
e-mails as one call at a time, written when the batch closes and never if it raises."""

import json

import pytest
import sqlalchemy as sa

from portal.audit.chain import Actor, utcnow
from portal.audit.models import AuditEvent
from portal.core.bulk import insert_many
from portal.core.extensions import db
from portal.notifications.models import Notification
from portal.notifications.operations import HoldersOf, batched, notify
from tests.feedback.test_feedback_mail import smtp  # noqa: F401  (a real local SMTP server)
from tests.notifications.test_notify import give_email


def send_some(world, item_ids: list[int]) -> list:
    """A mixed set of notify() calls; what each returned."""
    office = Actor.of(world.user("office"))
    first, second = (world.item(i) for i in item_ids)
    return [
        notify(
            [world.users["staff_resp"], world.users["leader_resp"]], "chase", first, actor=office, text="一"
        ),
        notify([world.users["leader_resp"]], "warning", second, level="预警", level_id="warn"),
        notify([HoldersOf("office"), world.users["leader_resp"]], "follow_up_due", first, months=6),
        notify([HoldersOf("office")], "chase", second, actor=office, text="二"),  # only the actor: nobody
        notify([], "chase", second, text="三"),
    ]


def written(since_seq: int, since_id: int) -> tuple[list, list]:
    """The notifications and notification.send events written after the marks, without ids."""
    rows = [
        (n.user_id, n.kind, n.item_id, n.actor_id, n.params)
        for n in db.session.scalars(
            sa.select(Notification).where(Notification.id > since_id).order_by(Notification.id)
        )
    ]
    events = []
    for event in db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.seq > since_seq, AuditEvent.action == "notification.send")
        .order_by(AuditEvent.seq)
    ):
        payload = json.loads(event.payload)
        notes = {
            n.id: n.user_id
            for n in db.session.scalars(
                sa.select(Notification).where(Notification.id.in_(payload.pop("notification_ids")))
            )
        }
        assert sorted(notes.values()) == sorted(payload["user_ids"])  # the ids are that call's rows
        events.append((event.object_type, event.object_id, event.actor, payload))
    return rows, events


def marks() -> tuple[int, int]:
    return (
        db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(AuditEvent.seq), 0))),
        db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(Notification.id), 0))),
    )


def test_a_batch_writes_what_one_call_at_a_time_writes(app, world):
    item_ids = [world.new_item(), world.new_item()]
    with app.app_context():
        start = marks()
        returned = send_some(world, item_ids)
        one_by_one = written(*start)
        db.session.rollback()
        assert [len(r) for r in returned] == [2, 1, 2, 0, 0]

        start = marks()
        with batched():
            returned = send_some(world, item_ids)
            assert returned == [[], [], [], [], []] and marks() == start  # nothing yet
        batch = written(*start)
    assert batch == one_by_one
    rows, events = batch
    office_ids = {world.users["office"]}
    assert {r[0] for r in rows if r[1] == "follow_up_due"} == office_ids | {world.users["leader_resp"]}
    assert [e[3]["kind"] for e in events] == ["chase", "warning", "follow_up_due"]


def test_nothing_is_written_when_the_batch_raises(app, world):
    item_id = world.new_item()
    with app.app_context():
        start = marks()
        with pytest.raises(RuntimeError), batched():
            notify([world.users["staff_resp"]], "chase", world.item(item_id), text="请加快")
            raise RuntimeError("the pass failed")
        assert marks() == start
        # and the next call outside is written at once again
        assert len(notify([world.users["staff_resp"]], "chase", world.item(item_id), text="再次")) == 1


def test_an_inner_batch_joins_the_outer_one(app, world):
    item_id = world.new_item()
    with app.app_context():
        start = marks()
        with batched():
            with batched():
                notify([world.users["staff_resp"]], "chase", world.item(item_id), text="内")
            assert marks() == start  # the inner block wrote nothing
        assert len(written(*start)[0]) == 1


def test_holders_of_a_role_are_the_active_accounts_holding_it_but_the_actor(app, world):
    item_id = world.new_item()
    with app.app_context():
        staff = Actor.of(world.user("staff_resp"))
        rows = notify([HoldersOf("staff")], "chase", world.item(item_id), actor=staff, text="x")
        expected = {world.users[p] for p in ("staff_other", "dept_editor")}
        assert {r.user_id for r in rows} == expected
        world.user("staff_other").active = False
        rows = notify([HoldersOf("staff")], "chase", world.item(item_id), actor=staff, text="y")
        assert {r.user_id for r in rows} == {world.users["dept_editor"]}


def test_a_batch_mails_each_call_after_the_commit(app, world, smtp):  # noqa: F811
    give_email(app, world, "leader_resp", "leader@example.cn")
    item_ids = [world.new_item(), world.new_item()]
    with app.app_context():
        with batched():
            send_some(world, item_ids)
        assert smtp.messages == []
        db.session.commit()
    # the leader is told in three calls (chase, warning, follow-up), one e-mail each
    assert [m["To"] for m in smtp.messages] == ["leader@example.cn"] * 3


def test_insert_many_gives_each_rows_id_in_order(app, world):
    with app.app_context():
        rows = [
            {
                "user_id": world.users["staff_resp"],
                "kind": "chase",
                "object_type": "",
                "params": {"n": n},
                "created_at": utcnow(),
            }
            for n in range(12)
        ]
        ids = insert_many(Notification.__table__, rows, chunk=5)
        assert len(set(ids)) == 12
        by_id = {
            n.id: n.params["n"]
            for n in db.session.scalars(sa.select(Notification).where(Notification.id.in_(ids)))
        }
        assert [by_id[i] for i in ids] == list(range(12))
        assert insert_many(Notification.__table__, []) == []
