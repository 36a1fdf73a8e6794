"""The one transition pipeline: one guard evaluation, one UPDATE, history and audit per step."""

import pytest
import sqlalchemy as sa

from portal.audit.chain import Actor
from portal.audit.models import AuditEvent
from portal.core import conditions
from portal.core.extensions import db
from portal.core.models import WorkflowHistory
from portal.core.transitions import fire, run_after_commit
from portal.feedback.models import Feedback
from portal.inspections.models import APPROVAL_DUAL, APPROVAL_SINGLE
from tests.helpers import count_writes


def _updates_of(writes, table):
    return [w for w in writes if w.lstrip().upper().startswith(f"UPDATE {table.upper()} ")]


@pytest.mark.parametrize(
    ("persona", "transition", "state", "steps"),
    [
        ("staff_resp", "start", "assigned", 1),
        ("leader_resp", "approve", "pending_review", 2),  # approve, then the automatic complete
        ("leader_resp", "publish", "private", 1),
    ],
)
def test_a_transition_sends_exactly_one_update_to_the_item(world, persona, transition, state, steps):
    item_id = world.new_item(APPROVAL_SINGLE, "pending_review" if state == "pending_review" else "assigned")
    with world.app.app_context():
        item, actor = world.item(item_id), Actor.of(world.user(persona))
        _ = (item.inspection, item.category, actor.user.roles)
        before = item.version
        with count_writes(db.engine) as writes:
            fired = fire(actor, item, transition, comment="按计划推进")
            db.session.commit()
        assert len(fired) == steps
        assert len(_updates_of(writes, "items")) == 1
        assert world.item(item_id).version == before + 1
        history = db.session.scalars(
            sa.select(WorkflowHistory)
            .where(WorkflowHistory.object_id == item_id)
            .order_by(WorkflowHistory.id.desc())
            .limit(steps)
        ).all()
        events = db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action.like("workflow.%"))
            .order_by(AuditEvent.seq.desc())
            .limit(steps)
        ).all()
        assert [h.action for h in reversed(history)] == [s.transition.id for s in fired]
        assert [e.action for e in reversed(events)] == [f"workflow.{s.transition.id}" for s in fired]


def test_a_guard_condition_is_evaluated_once_per_step(world, monkeypatch):
    """Dual approval: the approve guard asks each of its conditions once, the automatic
    `complete` asks `approval_policy_met` once, and once completed the automatic
    `follow_up_on_schedule` asks `follow_up_due` once (not yet: it was just scheduled)."""
    item_id = world.new_item(APPROVAL_DUAL, "pending_review")
    asked = []
    original = conditions.evaluate
    monkeypatch.setattr(conditions, "evaluate", lambda name, ctx: asked.append(name) or original(name, ctx))
    assert world.fire("leader_resp", item_id, "approve") == ["approve"]
    assert asked == ["not_approved_by_actor", "not_responsible_staff", "approval_policy_met"]
    asked.clear()
    assert world.fire("secretary", item_id, "approve") == ["approve", "complete"]
    assert asked == ["not_approved_by_actor", "not_responsible_staff", "approval_policy_met", "follow_up_due"]


def test_moderation_goes_through_the_same_pipeline(world):
    from portal.feedback.operations import submit_feedback

    item_id = world.new_item(APPROVAL_SINGLE, "published")
    with world.app.app_context():
        item = world.item(item_id)
        feedback, _code = submit_feedback(item.inspection, item, kind="suggestion", text="建议")
        db.session.commit()
        office = Actor.of(world.user("office"))
        with count_writes(db.engine) as writes:
            fire(office, feedback, "reply", comment="已答复")
            db.session.commit()
        assert len(_updates_of(writes, "feedback")) == 1
        row = db.session.get(Feedback, feedback.id)
        assert (row.reply, row.version, row.moderation_state) == ("已答复", 2, "pending")
        entry = db.session.scalars(
            sa.select(WorkflowHistory).where(WorkflowHistory.object_type == "feedback")
        ).one()
        assert (entry.workflow, entry.action, entry.actor_id) == ("moderation", "reply", office.id)


def test_side_effects_run_after_the_commit_and_never_after_a_rollback(app):
    ran = []
    with app.app_context():
        db.session.execute(sa.select(1))
        run_after_commit(lambda: ran.append("kept"))
        assert ran == []
        db.session.commit()
        db.session.execute(sa.select(1))
        run_after_commit(lambda: ran.append("dropped"))
        db.session.rollback()
        db.session.execute(sa.select(1))
        db.session.commit()
    assert ran == ["kept"]
