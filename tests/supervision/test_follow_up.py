"""回头看 on schedule: completing an item schedules its follow-up check; the supervision pass
moves it into follow-up through the workflow engine once the day has come, exactly once,
audited and notified."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.audit.chain import Actor, verify_chain
from portal.audit.models import AuditEvent
from portal.core.errors import Conflict
from portal.core.extensions import db
from portal.core.models import WorkflowHistory
from portal.core.policy import PolicyContext
from portal.core.timeutil import add_months
from portal.core.timeutil import today as portal_today
from portal.core.transitions import settle, settle_many
from portal.inspections.models import APPROVAL_DUAL, APPROVAL_SINGLE, Inspection
from portal.notifications.kinds import render_message
from portal.notifications.models import Notification
from portal.supervision.follow_up import due_follow_ups


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 6, 15), 6, date(2026, 12, 15)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),  # February is shorter
        (date(2027, 8, 31), 6, date(2028, 2, 29)),  # leap year
        (date(2026, 12, 31), 1, date(2027, 1, 31)),  # into the next year
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 1, 1), 24, date(2028, 1, 1)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_months_last(day, months, expected):
    assert add_months(day, months) == expected


def _run(runner, day: date) -> list[str]:
    result = runner.invoke(args=["supervise", "run", "--today", day.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()


def _completed(world, policy=APPROVAL_SINGLE, months: int | None = None) -> tuple[int, date]:
    """A freshly completed item and the day its follow-up check falls due."""
    if months is not None:
        with world.app.app_context():
            db.session.get(Inspection, world.inspections[policy]).follow_up_months = months
            db.session.commit()
    item_id = world.new_item(policy, "completed")
    with world.app.app_context():
        item = world.item(item_id)
        return item_id, item.follow_up_due_on


def test_completing_schedules_the_check_the_inspections_interval_later(app, world):
    item_id, due = _completed(world, APPROVAL_DUAL, months=3)
    with app.app_context():
        assert due == add_months(portal_today(), 3)
        item = world.item(item_id)
        assert item.state == "completed"
    # a check taken by hand takes it off the calendar, and confirming does not put it back
    world.fire("office", item_id, "schedule_follow_up")
    with app.app_context():
        assert world.item(item_id).follow_up_due_on is None
    world.fire("office", item_id, "confirm")
    with app.app_context():
        assert world.item(item_id).state == "completed" and world.item(item_id).follow_up_due_on is None


def test_the_condition_at_the_boundary_in_python_and_sql(app, world):
    item_id, due = _completed(world)
    with app.app_context():
        item = world.item(item_id)
        for day, expected in (
            (due - timedelta(days=1), False),
            (due, True),
            (due + timedelta(days=40), True),
        ):
            ctx = PolicyContext(None, item, today=day)
            assert ctx.condition("follow_up_due") is expected, day
            assert (item_id in due_follow_ups(day)) is expected, day


def test_the_pass_moves_exactly_the_due_items_once(app, world, runner):
    due_item, due = _completed(world)
    later_item = world.new_item(APPROVAL_SINGLE, "completed")
    open_item = world.new_item(APPROVAL_SINGLE, "in_progress")
    checked = world.new_item(APPROVAL_SINGLE, "completed")
    world.fire("office", checked, "schedule_follow_up")
    world.fire("office", checked, "confirm")
    withdrawn = world.new_item(APPROVAL_SINGLE, "completed")
    world.fire("office", withdrawn, "withdraw", comment="误建")
    with app.app_context():
        # one completed item whose check is a day later than the others'
        item = world.item(later_item)
        item.follow_up_due_on = due + timedelta(days=1)
        db.session.commit()
        versions = {i: world.item(i).version for i in (due_item, later_item, open_item, checked, withdrawn)}

    lines = _run(runner, due - timedelta(days=1))
    assert lines[-2:] == ["回头看 (follow-up checks due): 0", "warnings issued: 0"]
    lines = _run(runner, due)
    assert lines[-2:] == ["回头看 (follow-up checks due): 1", "warnings issued: 0"]
    assert _run(runner, due)[-2] == "回头看 (follow-up checks due): 0"  # idempotent
    assert _run(runner, due + timedelta(days=1))[-2] == "回头看 (follow-up checks due): 1"

    with app.app_context():
        states = {i: world.item(i).state for i in versions}
        assert states == {
            due_item: "follow_up",
            later_item: "follow_up",
            open_item: "in_progress",
            checked: "completed",
            withdrawn: "completed",
        }
        item = world.item(due_item)
        assert item.version == versions[due_item] + 1 and item.follow_up_due_on is None
        entries = db.session.scalars(
            sa.select(WorkflowHistory).where(
                WorkflowHistory.object_id == due_item, WorkflowHistory.action == "follow_up_on_schedule"
            )
        ).all()
        assert [(e.from_state, e.to_state, e.actor_id) for e in entries] == [("completed", "follow_up", None)]
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "workflow.follow_up_on_schedule")
        ).all()
        assert sorted(int(e.object_id) for e in events) == sorted([due_item, later_item])
        mine = next(e for e in events if int(e.object_id) == due_item)
        assert mine.actor == "supervision" and mine.actor_id is None
        payload = json.loads(mine.payload)
        assert payload["automatic"] is True and payload["history_id"] == entries[0].id


def test_the_office_and_the_responsible_leader_hear_of_it(app, world, runner):
    item_id, due = _completed(world)
    _run(runner, due)
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Notification).where(
                Notification.kind == "follow_up_due", Notification.item_id == item_id
            )
        ).all()
        by_id = {v: k for k, v in world.users.items()}
        assert sorted(by_id[n.user_id] for n in rows) == ["leader_resp", "office"]
        with app.test_request_context(headers={"Accept-Language": "zh"}):
            message = render_message("follow_up_due", rows[0].params)
        assert "加强科创中心产业用房管理" in message and "6" in message and "回头看" in message


def test_settle_writes_nothing_when_nothing_is_due_and_refuses_a_stale_item(app, world):
    item_id, due = _completed(world)
    with app.app_context():
        item = world.item(item_id)
        before = item.version
        assert settle(Actor.system("supervision"), item, today=due - timedelta(days=1)) == []
        db.session.commit()
        assert world.item(item_id).version == before
        stale = world.item(item_id)
        db.session.execute(  # someone else changed it after it was loaded
            sa.update(type(stale))
            .where(type(stale).id == item_id)
            .values(version=before + 5)
            .execution_options(synchronize_session=False)
        )
        with pytest.raises(Conflict):
            settle(Actor.system("supervision"), stale, today=due)
        db.session.rollback()
        assert world.item(item_id).state == "completed"


def test_settle_many_writes_what_settle_writes_and_leaves_a_stale_item(app, world):
    """Many items settled at once: the same state, version, history entry, audit event and
    notifications as one by one; an item changed meanwhile is left out (no Conflict), one not
    due takes no step."""
    one_by_one, due = _completed(world)
    together = [_completed(world)[0] for _ in range(3)]
    stale, not_due = _completed(world)[0], _completed(world)[0]
    actor = Actor.system("supervision")
    with app.app_context():
        item = world.item(not_due)
        item.follow_up_due_on = due + timedelta(days=30)
        db.session.commit()
        before = {i: world.item(i).version for i in [one_by_one, *together, stale, not_due]}
        settle(actor, world.item(one_by_one), today=due)
        items = [world.item(i) for i in [*together, stale, not_due]]
        db.session.execute(  # someone else changed this one after it was loaded
            sa.update(type(items[0]))
            .where(type(items[0]).id == stale)
            .values(version=before[stale] + 5)
            .execution_options(synchronize_session=False)
        )
        taken = settle_many(actor, items, today=due)
        assert items[0].state == "follow_up" and items[0].follow_up_due_on is None  # shown as stored
        db.session.commit()

        assert sorted(taken) == sorted(together)
        assert all([s.transition.id for s in steps] == ["follow_up_on_schedule"] for steps in taken.values())

        def written(item_id):
            item = world.item(item_id)
            entries = db.session.scalars(
                sa.select(WorkflowHistory).where(
                    WorkflowHistory.object_id == item_id, WorkflowHistory.action == "follow_up_on_schedule"
                )
            ).all()
            events = db.session.scalars(
                sa.select(AuditEvent).where(
                    AuditEvent.object_id == str(item_id),
                    AuditEvent.action == "workflow.follow_up_on_schedule",
                )
            ).all()
            notes = db.session.scalars(
                sa.select(Notification.user_id).where(
                    Notification.item_id == item_id, Notification.kind == "follow_up_due"
                )
            ).all()
            payloads = [json.loads(e.payload) for e in events]
            assert [p["history_id"] for p in payloads] == [e.id for e in entries]
            return (
                item.state,
                item.version - before[item_id],
                item.follow_up_due_on,
                [
                    (e.workflow, e.from_state, e.to_state, e.actor_id, e.comment, e.evidence_ids)
                    for e in entries
                ],
                [
                    ({k: v for k, v in p.items() if k != "history_id"}, e.actor, e.inspection_id)
                    for p, e in zip(payloads, events, strict=True)
                ],
                sorted(notes),
            )

        reference = written(one_by_one)
        assert reference[0] == "follow_up" and len(reference[3]) == 1 and reference[5]
        for item_id in together:
            got = written(item_id)
            assert got[:4] == reference[:4] and got[5] == reference[5]
            assert [(p | {"version": 0}, a, i) for p, a, i in got[4]] == [
                (p | {"version": 0}, a, i) for p, a, i in reference[4]
            ]
        for untouched in (stale, not_due):
            item = world.item(untouched)
            assert item.state == "completed"
            assert not db.session.scalars(
                sa.select(WorkflowHistory).where(
                    WorkflowHistory.object_id == untouched, WorkflowHistory.action == "follow_up_on_schedule"
                )
            ).all()
        assert verify_chain().ok
