"""Reconciliation (对账): direct database edits that leave the chain intact are still caught.

Each tampering below is one an attacker with database access could make without touching the
audit chain; `flask audit verify` (and the one-inspection check for the documents of that
inspection) must report it with the object and the seq of the event that last set the value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa
from markupsafe import escape

from portal.accounts.models import User, UserRole
from portal.audit.chain import Actor, utcnow
from portal.audit.models import AuditEvent
from portal.auditing.integrity import verify_everything, verify_inspection
from portal.core.extensions import db
from portal.core.models import LocalRole, WorkflowHistory
from portal.core.transitions import fire
from portal.evidence.models import Evidence
from portal.evidence.storage import FileStore
from portal.feedback.models import Feedback
from portal.inspections.models import Measure, RectificationItem
from portal.sharing.operations import grant_local_role
from portal.versions.models import DocumentVersion
from portal.workflow.models import Approval


@pytest.fixture
def app(demo_app):
    """The tamperings are made on the demo content (a copy of the session's demo database)."""
    return demo_app


def _store(app) -> FileStore:
    return FileStore(app.config["EVIDENCE_DIR"])


def _write(statement, params=None) -> None:
    db.session.execute(statement, params or {})
    db.session.commit()


def _seq(*conditions) -> int:
    """The last event matching `conditions`."""
    return db.session.scalar(sa.select(sa.func.max(AuditEvent.seq)).where(*conditions))


def _events_of(otype: str, oid) -> list:
    return [AuditEvent.object_type == otype, AuditEvent.object_id == str(oid)]


def _last_set(otype: str, oid, field: str) -> int:
    """The seq of the create or update event that last set `field` of a document."""
    seqs = [_seq(*_events_of(otype, oid), AuditEvent.action == f"{otype}.create")]
    for seq, payload in db.session.execute(
        sa.select(AuditEvent.seq, AuditEvent.payload).where(
            *_events_of(otype, oid), AuditEvent.action.in_([f"{otype}.update", f"{otype}.revert"])
        )
    ):
        if field in json.loads(payload).get("changes", {}):
            seqs.append(seq)
    return max(seqs)


def _item(state: str) -> RectificationItem:
    return db.session.scalar(
        sa.select(RectificationItem).where(RectificationItem.state == state).order_by(RectificationItem.id)
    )


def _user(login: str) -> User:
    return db.session.scalar(sa.select(User).where(User.login == login))


@dataclass
class Expected:
    """The problem a tampering must produce."""

    object: str
    seq: int | None
    text: str  # a part of its message
    inspection_id: int | None  # the one-inspection check sees it too, for its documents


# --- the tamperings of the review, one of each kind ----------------------------------------------


def approvals_deleted() -> Expected:
    item = _item("completed")
    leader = db.session.scalar(sa.select(Approval.user_id).where(Approval.item_id == item.id))
    seq = _seq(*_events_of("item", item.id), AuditEvent.action == "workflow.approve")
    _write(sa.delete(Approval).where(Approval.item_id == item.id))
    return Expected(
        f"item:{item.id}",
        seq,
        f"the approval by user:{leader} recorded at seq {seq} is missing",
        item.inspection_id,
    )


def responsible_leader_changed() -> Expected:
    item, other = _item("pending_review"), _user("admin")
    was, seq = item.responsible_leader_id, _last_set("item", item.id, "responsible_leader_id")
    _write(
        sa.update(RectificationItem)
        .where(RectificationItem.id == item.id)
        .values(responsible_leader_id=other.id)
    )
    text = f"stored responsible_leader_id is {other.id} but the history implies {was} (last set by seq {seq})"
    return Expected(f"item:{item.id}", seq, text, item.inspection_id)


def title_changed() -> Expected:
    item = _item("in_progress")
    seq, title = _last_set("item", item.id, "title"), item.title
    _write(sa.update(RectificationItem).where(RectificationItem.id == item.id).values(title="已全部整改到位"))
    text = f'stored title is "已全部整改到位" but the history implies "{title}"'
    return Expected(f"item:{item.id}", seq, text, item.inspection_id)


def completion_summary_changed() -> Expected:
    item = _item("completed")
    seq = _last_set("item", item.id, "completion_summary")
    _write(
        sa.update(RectificationItem)
        .where(RectificationItem.id == item.id)
        .values(completion_summary="已追回全部资金，相关责任人已处理。")
    )
    return Expected(f"item:{item.id}", seq, "stored completion_summary is", item.inspection_id)


def money_changed() -> Expected:
    item = _item("completed")
    seq = _last_set("item", item.id, "money_recovered")
    _write(sa.update(RectificationItem).where(RectificationItem.id == item.id).values(money_recovered=999999))
    text = f'stored money_recovered is "999999.00" but the history implies null (last set by seq {seq})'
    return Expected(f"item:{item.id}", seq, text, item.inspection_id)


def user_given_admin() -> Expected:
    staff = _user("staff")
    seq = _seq(*_events_of("user", staff.id), AuditEvent.action == "user.create")
    _write(sa.insert(UserRole).values(user_id=staff.id, role="admin"))
    text = f'stored roles is ["admin", "staff"] but the history implies ["staff"] (last set by seq {seq})'
    return Expected(f"user:{staff.id}", seq, text, None)


def local_role_inserted() -> Expected:
    item, staff = _item("pending_review"), _user("staff")
    _write(
        sa.insert(LocalRole).values(
            object_type="item", object_id=item.id, role="Reviewer", user_id=staff.id, granted_at=utcnow()
        )
    )
    grant = db.session.scalar(sa.select(sa.func.max(LocalRole.id)))
    text = f"grant #{grant} (Reviewer to user:{staff.id}) has no event in the audit log"
    return Expected(f"item:{item.id}", None, text, item.inspection_id)


def version_edited() -> Expected:
    """The auditor would read a forged diff: version 1 now says another title."""
    item = _item("assigned")
    version = db.session.scalar(
        sa.select(DocumentVersion).where(
            DocumentVersion.object_type == "item",
            DocumentVersion.object_id == item.id,
            DocumentVersion.number == 1,
        )
    )
    seq = _seq(*_events_of("item", item.id), AuditEvent.action == "item.create")
    data = {**version.data, "title": "（不存在的问题）"}
    _write(sa.update(DocumentVersion).where(DocumentVersion.id == version.id).values(data=data))
    text = f'stored version 1 title is "（不存在的问题）" but the history implies "{item.title}"'
    return Expected(f"item:{item.id}", seq, text, item.inspection_id)


def feedback_text_changed() -> Expected:
    feedback = db.session.scalar(
        sa.select(Feedback).where(Feedback.moderation_state == "published").order_by(Feedback.id)
    )
    seq = _seq(
        *_events_of("feedback", feedback.id), AuditEvent.action.in_(["feedback.submit", "feedback.edit"])
    )
    was = feedback.text
    _write(sa.update(Feedback).where(Feedback.id == feedback.id).values(text="整改很好，没有问题。"))
    text = f'stored text is "整改很好，没有问题。" but the history implies "{was}"'
    return Expected(f"feedback:{feedback.id}", seq, text, feedback.inspection_id)


def history_deleted() -> Expected:
    item = _item("completed")
    entry = db.session.scalar(
        sa.select(WorkflowHistory).where(
            WorkflowHistory.object_type == "item",
            WorkflowHistory.object_id == item.id,
            WorkflowHistory.action == "approve",
        )
    )
    seq = _seq(*_events_of("item", item.id), AuditEvent.payload.contains(f'"history_id":{entry.id},'))
    _write(sa.delete(WorkflowHistory).where(WorkflowHistory.id == entry.id))
    text = f"workflow history entry #{entry.id} (approve) recorded at seq {seq} is missing"
    return Expected(f"item:{item.id}", seq, text, item.inspection_id)


TAMPERINGS = [
    approvals_deleted,
    responsible_leader_changed,
    title_changed,
    completion_summary_changed,
    money_changed,
    user_given_admin,
    local_role_inserted,
    version_edited,
    feedback_text_changed,
    history_deleted,
]


@pytest.mark.parametrize("tamper", TAMPERINGS, ids=lambda f: f.__name__)
def test_each_direct_edit_is_reported_with_object_and_seq(app, runner, client, tamper):
    with app.app_context():
        expected = tamper()
        report = verify_everything(_store(app))
        one = verify_inspection(expected.inspection_id, _store(app)) if expected.inspection_id else None
    assert not report.ok
    [problem] = [p for p in report.problems if expected.text in p.message]
    assert (problem.kind, problem.object, problem.seq) == ("row", expected.object, expected.seq)
    assert report.problem_count == 1, report.problems
    if one is not None:
        assert [(p.object, p.seq) for p in one.problems if expected.text in p.message] == [
            (expected.object, expected.seq)
        ]
        assert one.problem_count == 1, one.problems
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"FAILED: row: {problem.message}" in result.output
    assert problem.message.startswith(f"{expected.object}: ")  # the CLI line names the object
    if expected.seq is not None:
        assert f"seq {expected.seq}" in problem.message  # ... and the event that last set it
    _the_verification_page_shows(app, client, expected)


def _the_verification_page_shows(app, client, expected: Expected) -> None:
    """The auditor's verification page lists the same problem, with its object and seq, in Chinese."""
    from portal.demo.cli import demo_password

    with app.test_request_context("/audit/verify"):  # the page's language (zh) for the messages
        [message] = [
            p.message for p in verify_everything(_store(app)).problems if p.object == expected.object
        ]
    assert client.login("auditor", demo_password("auditor")).status_code == 302
    body = client.post_form("/audit/verify", {"scope": "all"}, follow_redirects=True).get_data(as_text=True)
    assert 'data-ok="false"' in body and "核验发现 1 个问题" in body
    [shown] = re.findall(r'<ul id="problems">\s*<li>(.*?)</li>', body, re.S)
    seq_link = ""
    if expected.seq is not None:
        seq_link = f' · <a href="/audit/?before={expected.seq + 1}">seq {expected.seq}</a>'
    assert shown == f"<code>row</code> {expected.object}{seq_link}: {escape(message)}"


# --- more of the same: rows inserted or deleted behind the application's back ---------------


def test_a_row_without_its_creation_event(app):
    with app.app_context():
        item = _item("in_progress")
        _write(sa.insert(Measure).values(item_id=item.id, label="五是", text="补记的措施", position=9))
        measure_id = db.session.scalar(sa.select(sa.func.max(Measure.id)))
        report = verify_everything(_store(app))
    assert [(p.kind, p.object, p.seq, p.message) for p in report.problems] == [
        ("row", f"measure:{measure_id}", None, f"measure:{measure_id} has no creation event in the audit log")
    ]


def test_an_item_without_its_creation_event_is_reported_once(app):
    with app.app_context():
        item = _item("assigned")
        _write(
            sa.insert(RectificationItem).values(
                inspection_id=item.inspection_id, title="凭空出现的问题", created_at=utcnow()
            )
        )
        new_id = db.session.scalar(sa.select(sa.func.max(RectificationItem.id)))
        report = verify_everything(_store(app))
    assert [(p.object, p.message) for p in report.problems] == [
        (f"item:{new_id}", f"item:{new_id} has no creation event in the audit log")
    ]


def test_a_forged_approval(app):
    with app.app_context():
        item_id, office_id = _item("pending_review").id, _user("office").id
        _write(sa.insert(Approval).values(item_id=item_id, user_id=office_id, approved_at=utcnow()))
        approval = db.session.scalar(sa.select(sa.func.max(Approval.id)))
        report = verify_everything(_store(app))
    message = f"item:{item_id}: approval #{approval} by user:{office_id} has no event in the audit log"
    assert [(p.object, p.seq, p.message) for p in report.problems] == [(f"item:{item_id}", None, message)]


def test_a_cleared_approval_made_open_again(app):
    """Reopening clears the approvals; one made open again by SQL would count towards the next
    completion."""
    with app.app_context():
        item = _item("follow_up")
        item_id = item.id
        fire(Actor.of(_user("office")), item, "reopen", comment="问题反弹")
        db.session.commit()
        reopened = _seq(*_events_of("item", item_id), AuditEvent.action == "workflow.reopen")
        approval = db.session.scalar(sa.select(Approval).where(Approval.item_id == item_id))
        approval_id, user_id = approval.id, approval.user_id
        assert verify_everything(_store(app)).ok
        _write(sa.update(Approval).where(Approval.id == approval_id).values(cleared_at=None))
        report = verify_everything(_store(app))
    [problem] = report.problems
    assert (problem.object, problem.seq) == (f"item:{item_id}", reopened)
    assert f"stored approval #{approval_id} by user:{user_id} open is true but the history implies false" in (
        problem.message
    )


def test_a_grant_deleted_and_inheritance_blocked(app):
    with app.app_context():
        item, auditor_id = _item("in_progress"), _user("auditor").id
        item_id = item.id
        grant_local_role(Actor.system("test"), item, "Reader", user=_user("auditor"))
        db.session.commit()
        granted = _seq(*_events_of("item", item_id), AuditEvent.action == "sharing.grant")
        created = _seq(*_events_of("item", item_id), AuditEvent.action == "item.create")
        _write(sa.delete(LocalRole).where(LocalRole.object_type == "item", LocalRole.object_id == item_id))
        _write(
            sa.update(RectificationItem)
            .where(RectificationItem.id == item_id)
            .values(local_roles_blocked=True)
        )
        report = verify_everything(_store(app))
    where = f"item:{item_id}"
    assert sorted((p.object, p.seq, p.message) for p in report.problems) == [
        (
            where,
            created,
            f"{where}: stored local_roles_blocked is true but the history implies false "
            f"(last set by seq {created})",
        ),
        (where, granted, f"{where}: Reader to user:{auditor_id} recorded at seq {granted} is missing"),
    ]


@pytest.mark.parametrize(
    ("column", "value"),
    [("status", "done"), ("text", "改写的措施"), ("deadline", date(2099, 1, 1)), ("position", 99)],
)
def test_a_measure_changed(app, column, value):
    with app.app_context():
        measure_id = db.session.scalar(
            sa.select(Measure.id)
            .join(RectificationItem)
            .where(RectificationItem.state == "in_progress", Measure.status == "open")
        )
        _write(sa.update(Measure).where(Measure.id == measure_id).values({column: value}))
        report = verify_everything(_store(app))
    [problem] = report.problems
    assert problem.object == f"measure:{measure_id}" and f"stored {column} is" in problem.message


def test_an_account_deactivated_or_moved_behind_the_back(app):
    with app.app_context():
        staff, office = _user("staff"), _user("office")
        staff_id, office_id, department_id = staff.id, office.id, staff.department_id
        _write(sa.update(User).where(User.id == staff_id).values(active=False))
        _write(sa.update(User).where(User.id == office_id).values(department_id=department_id))
        report = verify_everything(_store(app))
    assert sorted((p.object, p.message.split(" is ")[0]) for p in report.problems) == [
        (f"user:{office_id}", f"user:{office_id}: stored department"),
        (f"user:{staff_id}", f"user:{staff_id}: stored active"),
    ]


def test_evidence_made_public_and_a_version_deleted(app):
    with app.app_context():
        evidence_id = db.session.scalar(
            sa.select(Evidence.id).where(Evidence.public.is_(False)).order_by(Evidence.id)
        )
        _write(sa.update(Evidence).where(Evidence.id == evidence_id).values(public=True))
        version = db.session.execute(
            sa.select(DocumentVersion.id, DocumentVersion.object_type, DocumentVersion.object_id)
            .where(DocumentVersion.number == 2)
            .order_by(DocumentVersion.id)
        ).first()
        _write(sa.delete(DocumentVersion).where(DocumentVersion.id == version.id))
        report = verify_everything(_store(app))
    messages = sorted(p.message for p in report.problems)
    assert len(messages) == 2, messages
    assert messages[0].startswith(
        f"evidence:{evidence_id}: stored public is true but the history implies false"
    )
    assert messages[1].startswith(f"{version.object_type}:{version.object_id}: version 2 recorded at seq ")


def test_the_intact_demo_verifies_with_zero_problems(app, runner):
    with app.app_context():
        report = verify_everything(_store(app))
        inspections = db.session.scalars(sa.select(RectificationItem.inspection_id).distinct()).all()
        ones = [verify_inspection(i, _store(app)) for i in inspections]
    assert report.ok and report.problem_count == 0, report.problems
    assert report.rows_reconciled > 100
    for one in ones:
        assert one.ok and one.problem_count == 0, one.problems
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"rows: {report.rows_reconciled} reconciled with the history" in result.output


def test_the_items_history_page_shows_what_disagrees(app, client):
    from portal.demo.cli import demo_password

    with app.app_context():
        expected = version_edited()
        item_id = int(expected.object.split(":")[1])
        measure_id = db.session.scalar(sa.select(Measure.id).where(Measure.item_id == item_id))
        _write(sa.update(Measure).where(Measure.id == measure_id).values(status="done"))
    assert client.login("auditor", demo_password("auditor")).status_code == 302
    body = client.get(f"/audit/items/{item_id}").get_data(as_text=True)
    assert "第 1 版 title" in body  # the forged version
    assert f"measure:{measure_id}：存储的 status" in body
