"""Firing transitions: approvals, history and audit per step, requirements, conflicts, HTTP."""

import json

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.core.errors import Conflict, MissingRequirements, NotAllowed
from portal.core.extensions import db
from portal.core.models import WorkflowHistory
from portal.inspections.models import APPROVAL_DUAL, APPROVAL_SINGLE
from portal.workflow.models import Approval


def history(app, item_id):
    with app.app_context():
        return [
            (h.action, h.from_state, h.to_state)
            for h in db.session.scalars(
                sa.select(WorkflowHistory)
                .where(WorkflowHistory.object_id == item_id)
                .order_by(WorkflowHistory.id)
            )
        ]


def workflow_events(app, item_id):
    with app.app_context():
        return [
            json.loads(e.payload)
            for e in db.session.scalars(
                sa.select(AuditEvent)
                .where(
                    AuditEvent.object_type == "item",
                    AuditEvent.object_id == str(item_id),
                    AuditEvent.action.like("workflow.%"),
                )
                .order_by(AuditEvent.seq)
            )
        ]


def test_single_approval_completes(app, world):
    item_id = world.new_item(APPROVAL_SINGLE, "pending_review")
    assert world.fire("leader_resp", item_id, "approve") == ["approve", "complete"]
    assert history(app, item_id)[-2:] == [
        ("approve", "pending_review", "pending_review"),
        ("complete", "pending_review", "completed"),
    ]
    events = workflow_events(app, item_id)
    assert [e["transition"] for e in events] == ["start", "submit", "approve", "complete"]
    assert events[-1]["automatic"] is True and events[-2]["automatic"] is False
    with app.app_context():
        assert world.item(item_id).state == "completed"


def test_an_approval_by_another_reviewer_does_not_complete(app, world):
    item_id = world.new_item(APPROVAL_SINGLE, "pending_review")
    assert world.fire("leader_reviewer", item_id, "approve") == ["approve"]
    with app.app_context():
        assert world.item(item_id).state == "pending_review"
    assert world.fire("leader_resp", item_id, "approve") == ["approve", "complete"]


def test_dual_approval_needs_leader_and_secretary(app, world):
    item_id = world.new_item(APPROVAL_DUAL, "pending_review")
    assert world.fire("leader_resp", item_id, "approve") == ["approve"]
    with app.app_context():
        assert world.item(item_id).state == "pending_review"
    assert world.fire("secretary", item_id, "approve") == ["approve", "complete"]
    with app.app_context():
        assert world.item(item_id).state == "completed"


def test_the_same_person_cannot_approve_twice(app, world):
    item_id = world.new_item(APPROVAL_DUAL, "pending_review")
    world.fire("leader_resp", item_id, "approve")
    with pytest.raises(NotAllowed):
        world.fire("leader_resp", item_id, "approve")


def test_return_clears_pending_approvals(app, world):
    item_id = world.new_item(APPROVAL_DUAL, "pending_review")
    world.fire("leader_resp", item_id, "approve")
    world.fire("secretary", item_id, "return", comment="佐证材料不全，请补充。")
    with app.app_context():
        assert world.item(item_id).state == "in_progress"
        approvals = db.session.scalars(sa.select(Approval).where(Approval.item_id == item_id)).all()
        assert len(approvals) == 1 and approvals[0].cleared_at is not None
    world.fire("staff_resp", item_id, "submit")
    # The earlier approval no longer counts: the secretary's alone does not complete.
    assert world.fire("secretary", item_id, "approve") == ["approve"]
    assert world.fire("leader_resp", item_id, "approve") == ["approve", "complete"]


def test_requirements_are_named(app, world):
    item_id = world.new_item(APPROVAL_SINGLE, "pending_review")
    with pytest.raises(MissingRequirements) as refused:
        world.fire("leader_resp", item_id, "return", comment="  ")
    assert set(refused.value.missing) == {"comment"}

    bare = world.new_item(APPROVAL_SINGLE, "in_progress")
    with app.app_context():
        from portal.evidence.models import Evidence

        item = world.item(bare)
        item.completion_summary = ""
        db.session.execute(
            sa.update(Evidence).where(Evidence.item_id == bare).values(withdrawn_at=sa.func.now())
        )
        db.session.commit()
    with pytest.raises(MissingRequirements) as refused:
        world.fire("staff_resp", bare, "submit")
    assert set(refused.value.missing) == {"evidence", "completion_summary"}
    assert "佐证材料" in refused.value.missing["evidence"]


def test_stale_version_is_a_conflict_and_writes_nothing(app, world):
    item_id = world.new_item(APPROVAL_SINGLE, "pending_review")
    with app.app_context():
        seq_before = db.session.scalar(sa.select(sa.func.max(AuditEvent.seq)))
    with pytest.raises(Conflict):
        world.fire("leader_resp", item_id, "approve", expected_version=1)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.max(AuditEvent.seq))) == seq_before
        assert world.item(item_id).state == "pending_review"


def test_a_race_lost_in_the_database_is_a_conflict(app, world):
    """We load the item; someone else commits a transition; our conditional UPDATE misses."""
    from portal.audit.chain import Actor
    from portal.core.transitions import fire
    from portal.inspections.models import RectificationItem

    item_id = world.new_item(APPROVAL_SINGLE, "pending_review")
    with app.app_context():
        db.session().expire_on_commit = False  # the scoped session's real session
        item = world.item(item_id)
        _ = (item.inspection, item.category)
        db.session.commit()  # our read transaction ends; `item` keeps what we saw
        with db.engine.begin() as other:  # the competing request
            other.execute(
                sa.update(RectificationItem)
                .where(RectificationItem.id == item_id)
                .values(version=RectificationItem.version + 1)
            )
        with pytest.raises(Conflict):
            fire(Actor.of(world.user("leader_resp")), item, "approve")
        db.session.rollback()
    assert history(app, item_id)[-1][0] == "submit"


def test_history_and_audit_counts_match(app, world):
    item_id = world.new_item(APPROVAL_SINGLE, "follow_up")
    world.fire("office", item_id, "reopen", comment="问题反弹")
    assert len(history(app, item_id)) == len(workflow_events(app, item_id)) == 6
    assert history(app, item_id)[-1] == ("reopen", "follow_up", "in_progress")


# --- HTTP ---------------------------------------------------------------------------------


def test_http_transition_and_history(app, world, signed_in):
    item_id = world.new_item(APPROVAL_SINGLE, "assigned")
    client = signed_in("staff_resp")
    page = client.get(f"/items/{item_id}")
    assert page.status_code == 200 and 'data-transition="start"' in page.text
    response = client.post_form(
        f"/items/{item_id}/transitions/start", {"comment": "开始整改", "version": "1"}
    )
    assert response.status_code == 302
    page = client.get(f"/items/{item_id}").text
    assert "开始整改" in page and 'data-state="in_progress"' in page


def test_http_missing_comment_keeps_the_page_with_a_message(app, world, signed_in):
    item_id = world.new_item(APPROVAL_SINGLE, "pending_review")
    response = signed_in("leader_resp").post_form(
        f"/items/{item_id}/transitions/return", {"comment": "", "version": "3"}
    )
    assert response.status_code == 400
    assert "执行“退回”需要填写意见。" in response.text
    with app.app_context():
        assert world.item(item_id).state == "pending_review"


def test_http_missing_evidence_is_named(app, world, signed_in):
    item_id = world.new_item(APPROVAL_SINGLE, "in_progress")
    with app.app_context():
        world.item(item_id).completion_summary = ""
        db.session.commit()
    response = signed_in("staff_resp").post_form(f"/items/{item_id}/transitions/submit", {})
    assert response.status_code == 400 and "整改成效" in response.text


@pytest.mark.parametrize(("transition", "status"), [("teleport", 404), ("complete", 403)])
def test_http_unknown_and_automatic_transitions(app, world, signed_in, transition, status):
    item_id = world.new_item(APPROVAL_SINGLE, "pending_review")
    response = signed_in("leader_resp").post_form(
        f"/items/{item_id}/transitions/{transition}", {"comment": "x"}
    )
    assert response.status_code == status


def test_http_stale_version_is_409_with_a_message_and_keeps_the_comment(app, world, signed_in):
    item_id = world.new_item(APPROVAL_SINGLE, "pending_review")
    response = signed_in("leader_resp").post_form(
        f"/items/{item_id}/transitions/approve", {"version": "1", "comment": "同意，材料齐全"}
    )
    assert response.status_code == 409
    assert "该事项已被他人修改" in response.text
    assert "同意，材料齐全" in response.text  # the item page again, with what was typed
    with app.app_context():
        assert world.item(item_id).state == "pending_review"


def test_http_refuses_without_csrf(app, world, signed_in):
    item_id = world.new_item(APPROVAL_SINGLE, "assigned")
    client = signed_in("staff_resp")
    response = client.post(f"/items/{item_id}/transitions/start", data={"comment": "x"})
    assert response.status_code == 400
    with app.app_context():
        assert world.item(item_id).state == "assigned"


def test_http_history_needs_view_permission(app, world, signed_in):
    item_id = world.new_item(APPROVAL_SINGLE, "assigned")
    assert signed_in("staff_other").get(f"/items/{item_id}").status_code == 404  # not shared
    assert signed_in("auditor").get(f"/items/{item_id}").status_code == 200
    assert app.test_client().get(f"/items/{item_id}").status_code == 302


def test_introspection_page_draws_each_workflow(app, world, signed_in):
    page = signed_in("staff_other").get("/workflows/").text
    for wf_id, states in (
        ("rectification", ["assigned", "in_progress", "pending_review", "completed", "follow_up"]),
        ("publication", ["private", "published"]),
        ("moderation", ["pending", "published", "rejected", "spam"]),
    ):
        assert f'id="workflow-{wf_id}"' in page
        for state in states:
            assert f'data-state="{state}"' in page
    from workflows import WORKFLOWS

    assert page.count('<svg xmlns="http://www.w3.org/2000/svg"') == len(WORKFLOWS)  # one per workflow
    assert "待审核" in page and "审核同意" in page


def test_every_condition_named_by_the_item_workflows_is_implemented(app, world):
    from portal.core.policy import PolicyContext
    from portal.inspections.models import RectificationItem

    governing = RectificationItem.__workflows__
    names = {c for wf in governing for t in wf.transitions for c in t.guard.conditions}
    assert names == {
        "not_approved_by_actor",
        "not_responsible_staff",
        "approval_policy_met",
        "measures_closed",
        "follow_up_due",
        "freshly_imported",
        "not_under_review",
    }
    item_id = world.new_item(APPROVAL_SINGLE, "pending_review")
    with app.app_context():
        ctx = PolicyContext(world.user("leader_resp"), world.item(item_id))
        assert {name: ctx.condition(name) for name in names} == {
            "not_approved_by_actor": True,
            "not_responsible_staff": True,  # leader_resp is not its staff
            "approval_policy_met": False,
            "measures_closed": True,  # it has no measures
            "follow_up_due": False,  # not completed: nothing scheduled
            "freshly_imported": False,  # not being created by a notice import
            "not_under_review": False,  # it waits for review: not published meanwhile
        }


def test_http_conflict_after_which_the_action_is_gone_still_shows_the_comment(app, world, signed_in):
    """Someone else approved first: approve is no longer offered, the typed comment stays."""
    item_id = world.new_item(APPROVAL_SINGLE, "pending_review")
    world.fire("leader_resp", item_id, "approve")  # completes the item
    with app.app_context():
        seen = world.item(item_id).version - 1  # the page the reviewer loaded before that
    response = signed_in("leader_reviewer").post_form(
        f"/items/{item_id}/transitions/approve", {"version": str(seen), "comment": "同意，已核实佐证"}
    )
    assert response.status_code == 409
    assert 'id="refused-transition"' in response.text
    assert "该事项已被他人修改" in response.text and "同意，已核实佐证" in response.text


def test_publishing_waits_while_the_item_is_under_review(app, world, signed_in):
    """公开 is offered before and after the review, never while the item waits for it."""
    from portal.core.policy import allowed_transitions

    for state, offered in (("in_progress", True), ("pending_review", False), ("completed", True)):
        item_id = world.new_item(APPROVAL_SINGLE, state)
        with app.app_context():
            ids = [t.id for t in allowed_transitions(world.user("leader_resp"), world.item(item_id))]
        assert ("publish" in ids) is offered, (state, ids)
    token = signed_in("leader_resp").csrf_token()
    response = signed_in("leader_resp").post(
        f"/items/{world.new_item(APPROVAL_SINGLE, 'pending_review')}/transitions/publish",
        data={"csrf_token": token, "comment": "", "version": "3"},
    )
    assert response.status_code in (400, 403, 409) and "公开" in response.text
