"""Reconciliation (对账) on the world fixture's data: every operation it follows, done through
the application, leaves nothing to report."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from portal.audit.chain import Actor
from portal.auditing.integrity import verify_everything, verify_inspection
from portal.core.extensions import db
from portal.core.models import LocalRole, WorkflowHistory
from portal.core.transitions import fire
from portal.evidence.storage import FileStore
from portal.sharing.operations import grant_local_role
from portal.versions.models import DocumentVersion
from portal.workflow.models import Approval


def _store(app) -> FileStore:
    return FileStore(app.config["EVIDENCE_DIR"])


# --- the world fixture's data, through every operation, verifies with zero problems ----------


@pytest.fixture
def busy_world(app, world):
    """The world with something of everything the reconciliation follows: items in every
    state, measures in every status, edits and a revert, grants made and revoked, blocked
    inheritance, extension requests decided, evidence withdrawn, feedback moderated and edited,
    public answers, a chase note, a supervision pass, account changes."""
    from portal.accounts.operations import (
        create_department,
        deactivate_user,
        reactivate_user,
        set_roles,
        update_user,
    )
    from portal.evidence.operations import add_evidence_note, withdraw_evidence
    from portal.feedback.operations import answer_fix_check, edit_text, submit_feedback
    from portal.inspections.models import APPROVAL_DUAL, APPROVAL_SINGLE, Inspection
    from portal.inspections.operations import update_document
    from portal.notifications.operations import chase_item, set_email_preference
    from portal.sharing.operations import revoke, set_inheritance_blocked
    from portal.supervision.cli import supervise
    from portal.versions.operations import revert_to
    from tests.deadlines.helpers import in_days, new_request

    items = {}
    for policy in (APPROVAL_SINGLE, APPROVAL_DUAL):
        for state in ("assigned", "in_progress", "pending_review", "completed", "follow_up", "published"):
            items[(policy, state)] = world.new_item(
                policy, state, deadline=in_days(5), money_to_recover="12.5"
            )
    withdrawn = world.new_item(APPROVAL_SINGLE, "withdrawn")
    for status, reason in (
        ("open", ""),
        ("done", ""),
        ("long_term", "长期坚持"),
        ("not_applicable", "不适用"),
    ):
        world.add_measure(items[(APPROVAL_SINGLE, "in_progress")], status, reason)
    for state in ("requested", "approved", "rejected", "withdrawn"):
        new_request(world, state)
    world.fire("leader_resp", items[(APPROVAL_SINGLE, "pending_review")], "return", comment="补充材料")
    system = Actor.system("test")
    with app.app_context():
        item = world.item(items[(APPROVAL_SINGLE, "assigned")])
        update_document(
            system, item, {"title": "改过的标题", "money_recovered": "3.10", "progress_override": 40}
        )
        update_document(system, item, {"completion_summary": "长" * 500})
        db.session.commit()
        revert_to(system, world.item(item.id), 1, note="恢复原稿")
        reader = grant_local_role(system, item, "Reader", user=world.user("staff_other"))
        grant_local_role(system, item, "Reviewer", department=create_department(system, "审计科"))
        db.session.commit()
        revoke(system, item, reader)
        set_inheritance_blocked(system, world.item(item.id), True)
        note = add_evidence_note(system, world.item(item.id), "作废的说明")
        db.session.commit()
        withdraw_evidence(system, note, world.item(item.id))
        completed = world.item(items[(APPROVAL_SINGLE, "completed")])
        answer_fix_check(completed, "not_fixed", "还有问题")
        chase_item(
            Actor.of(world.user("office")), world.item(items[(APPROVAL_SINGLE, "in_progress")]), "请加快"
        )
        inspection = db.session.get(Inspection, world.inspections[APPROVAL_SINGLE])
        published = world.item(items[(APPROVAL_SINGLE, "published")])
        office = Actor.of(world.user("office"))
        for text, steps in (
            ("建议公开", ["publish", "reply"]),
            ("联系人张三", ["edit", "reject"]),
            ("广告", ["mark_spam"]),
        ):
            feedback, _code = submit_feedback(inspection, published, kind="suggestion", text=text, name="张")
            for step in steps:
                if step == "edit":
                    edit_text(office, feedback, "联系人")
                else:
                    fire(office, feedback, step, comment="已答复" if step in ("reply", "reject") else "")
        staff = world.user("staff_other")
        update_user(system, staff, display_name="新名字", email="new@example.org", department=None)
        set_roles(system, staff, ["staff", "leader"])
        deactivate_user(system, world.user("leader_other"))
        reactivate_user(system, world.user("leader_other"))
        set_email_preference(system, staff, False)
        db.session.commit()
        supervise(date.today())
    world.fire("office", withdrawn, "restore", comment="恢复")
    return world


def test_the_world_verifies_with_zero_problems(app, busy_world, runner):
    with app.app_context():
        report = verify_everything(_store(app))
        ones = [verify_inspection(i, _store(app)) for i in busy_world.inspections.values()]
        counts = {
            "history": db.session.scalar(sa.select(sa.func.count(WorkflowHistory.id))),
            "versions": db.session.scalar(sa.select(sa.func.count(DocumentVersion.id))),
            "grants": db.session.scalar(sa.select(sa.func.count(LocalRole.id))),
            "approvals": db.session.scalar(sa.select(sa.func.count(Approval.id))),
        }
    assert report.ok and report.problem_count == 0, report.problems
    for one in ones:
        assert one.ok and one.problem_count == 0, one.problems
    assert all(counts.values()), counts
    assert report.rows_reconciled > sum(counts.values())
    assert sum(one.rows_reconciled for one in ones) < report.rows_reconciled  # no accounts there
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def _tamper(model_path: str, column: str, value):
    module, name = model_path.rsplit(".", 1)
    model = getattr(__import__(module, fromlist=[name]), name)
    row_id = db.session.scalar(sa.select(sa.func.min(model.id)))
    db.session.execute(sa.update(model).where(model.id == row_id).values({column: value}))
    db.session.commit()
    return row_id


@pytest.mark.parametrize(
    ("model", "column", "value", "label"),
    [
        ("portal.notifications.models.ItemChase", "text", "改过的催办", "chase"),
        ("portal.feedback.models.FixCheck", "answer", "fixed", "fix_check"),
        ("portal.supervision.models.SupervisionWarning", "level", "interview", "warning"),
        ("portal.deadlines.models.ExtensionRequest", "reason", "另一个理由", "extension"),
        ("portal.deadlines.models.ExtensionRequest", "proposed_deadline", date(2099, 1, 1), "extension"),
        ("portal.evidence.models.Evidence", "note", "改过的说明", "evidence"),
        ("portal.accounts.models.Department", "name", "改名的部门", "department"),
        ("portal.accounts.models.User", "email_notifications", False, "user"),
        ("portal.accounts.models.User", "login", "intruder", "user"),
        ("portal.feedback.models.Feedback", "reply", "伪造的答复", "feedback"),
        ("portal.feedback.models.Feedback", "name", "", "feedback"),  # contact details given, then gone
        ("portal.inspections.models.Inspection", "approval_policy", "dual", "inspection"),
        ("portal.inspections.models.Category", "title", "改过的类别", "category"),
    ],
)
def test_the_rest_of_the_rows_are_reconciled_too(app, busy_world, model, column, value, label):
    with app.app_context():
        row_id = _tamper(model, column, value)
        report = verify_everything(_store(app))
    problems = [(p.kind, p.object) for p in report.problems]
    assert problems == [("row", f"{label}:{row_id}")], report.problems
