"""Integrity beyond the chain: state replay and evidence re-hashing, by CLI and in code."""

import json

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.auditing.integrity import verify_everything, verify_inspection
from portal.core.extensions import db
from portal.deadlines.models import ExtensionRequest
from portal.evidence.models import Evidence
from portal.evidence.storage import FileStore
from portal.feedback.models import Feedback
from portal.inspections.models import RectificationItem
from tests.audit.tampering import edit_payload
from tests.deadlines.helpers import new_request


@pytest.fixture
def demo(app, runner):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    return app


def _item_in(app, state):
    with app.app_context():
        item = db.session.scalar(
            sa.select(RectificationItem)
            .where(RectificationItem.state == state)
            .order_by(RectificationItem.id)
        )
        last = db.session.scalar(
            sa.select(sa.func.max(AuditEvent.seq)).where(
                AuditEvent.object_type == "item",
                AuditEvent.object_id == str(item.id),
                AuditEvent.action.like("workflow.%"),
            )
        )
        return item.id, item.inspection_id, last


def _store(app):
    return FileStore(app.config["EVIDENCE_DIR"])


def test_intact_demo_verifies_with_states_and_evidence(demo, runner):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "OK: " in result.output
    with demo.app_context():
        items = db.session.scalar(sa.select(sa.func.count(RectificationItem.id)))
        feedback = db.session.scalar(sa.select(sa.func.count(Feedback.id)))
        files = db.session.scalar(
            sa.select(sa.func.count(Evidence.id)).where(Evidence.storage_key.is_not(None))
        )
    assert files > 0 and feedback > 0
    assert f"states: {items + feedback} items, feedback and extension requests replayed" in result.output
    assert f"evidence: {files} files re-hashed" in result.output


def test_stored_state_that_disagrees_with_the_replay(demo, runner):
    item_id, _inspection, last_seq = _item_in(demo, "in_progress")
    with demo.app_context():
        db.session.execute(
            sa.update(RectificationItem).where(RectificationItem.id == item_id).values(state="completed")
        )
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert (
        f"item:{item_id}: stored state is 'completed' but the history implies "
        f"'in_progress' (last set by seq {last_seq})"
    ) in result.output
    with demo.app_context():
        report = verify_everything(_store(demo))
    assert not report.ok
    [problem] = report.problems
    assert (problem.kind, problem.object, problem.seq) == ("state", f"item:{item_id}", last_seq)


def test_feedback_state_is_replayed_too(demo):
    with demo.app_context():
        feedback_id = db.session.scalar(sa.select(Feedback.id).where(Feedback.moderation_state == "rejected"))
        db.session.execute(
            sa.update(Feedback).where(Feedback.id == feedback_id).values(moderation_state="published")
        )
        db.session.commit()
        report = verify_everything(_store(demo))
    assert [(p.kind, p.object) for p in report.problems] == [("state", f"feedback:{feedback_id}")]


def test_changed_payload_is_reported_with_object_and_seq(demo, runner):
    _item_id, _inspection, last_seq = _item_in(demo, "completed")
    with demo.app_context():
        event = db.session.get(AuditEvent, last_seq)
        payload = json.loads(event.payload)
        obj = f"{event.object_type}:{event.object_id}"
    payload["comment"] = "改过的意见"
    with demo.app_context():
        edit_payload(last_seq, json.dumps(payload, ensure_ascii=False))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"first bad seq: {last_seq}" in result.output
    with demo.app_context():
        report = verify_everything(_store(demo))
    chain = [p for p in report.problems if p.kind == "chain"]
    assert [(p.object, p.seq) for p in chain] == [(obj, last_seq)]


def _evidence(app):
    with app.app_context():
        evidence = db.session.scalar(
            sa.select(Evidence).where(Evidence.storage_key.is_not(None)).order_by(Evidence.id)
        )
        seq = db.session.scalar(
            sa.select(AuditEvent.seq).where(
                AuditEvent.action == "evidence.add",
                AuditEvent.payload.contains(f'"evidence_id":{evidence.id},'),
            )
        )
        path = _store(app)._path(evidence.storage_key)
        return evidence.id, evidence.item_id, seq, path


def test_deleted_evidence_file(demo, runner):
    evidence_id, item_id, seq, path = _evidence(demo)
    path.unlink()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert (
        f"evidence:{evidence_id} (整改报告.pdf) of item:{item_id}: the file is missing "
        f"(recorded at seq {seq})"
    ) in result.output


def test_changed_evidence_file(demo):
    evidence_id, _item_id, seq, path = _evidence(demo)
    data = bytearray(path.read_bytes())
    data[-3] ^= 1
    path.write_bytes(bytes(data))
    with demo.app_context():
        report = verify_everything(_store(demo))
    [problem] = report.problems
    assert (problem.kind, problem.object, problem.seq) == ("evidence", f"evidence:{evidence_id}", seq)
    assert "differs" in problem.message


def test_one_inspection(demo, runner, app):
    item_id, inspection_id, last_seq = _item_in(demo, "assigned")
    with demo.app_context():
        report = verify_inspection(inspection_id, _store(demo))
        events = db.session.scalar(
            sa.select(sa.func.count()).where(AuditEvent.inspection_id == inspection_id)
        )
    assert report.ok, report.problems
    assert report.events_checked == events
    with demo.app_context():
        db.session.execute(
            sa.update(RectificationItem)
            .where(RectificationItem.id == item_id)
            .values(publication_state="published")
        )
        db.session.commit()
    result = runner.invoke(args=["audit", "verify", "--inspection", str(inspection_id)])
    assert result.exit_code == 1
    assert f"item:{item_id}: stored publication_state is 'published'" in result.output


def test_one_inspection_sees_an_edited_event_and_its_neighbours(demo):
    _item_id, inspection_id, last_seq = _item_in(demo, "completed")
    with demo.app_context():
        edit_payload(last_seq, "{}")
        report = verify_inspection(inspection_id, _store(demo))
    assert [(p.kind, p.seq) for p in report.problems][:1] == [("chain", last_seq)]


def test_checkpoints_in_the_directory_are_used_by_default(demo, runner):
    result = runner.invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    assert "checkpoint-" in result.output
    from tests.audit.tampering import delete_from

    with demo.app_context():
        head = db.session.scalar(sa.select(sa.func.max(AuditEvent.seq)))
        db.session.rollback()  # end the read before another connection writes
        delete_from(head)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"events {head}..{head} were removed" in result.output


def test_time_budget_reports_incomplete(demo):
    with demo.app_context():
        report = verify_everything(_store(demo), budget=0)
    assert not report.complete and not report.ok


def test_unreadable_payload_is_a_problem_not_a_crash(demo):
    _item_id, _inspection, last_seq = _item_in(demo, "completed")
    with demo.app_context():
        edit_payload(last_seq, "[1, 2]")
        report = verify_everything(_store(demo))
    problems = {(p.kind, p.seq) for p in report.problems}
    assert ("chain", last_seq) in problems and ("state", last_seq) in problems
    assert any(p.kind == "state" and "cannot be read" in p.message for p in report.problems)


@pytest.mark.parametrize("state", ["requested", "approved", "rejected", "withdrawn"])
def test_extension_requests_are_replayed_in_every_state(app, world, state):
    request_id = new_request(world, state)
    with app.app_context():
        inspection_id = db.session.get(ExtensionRequest, request_id).item.inspection_id
        everything, one = verify_everything(_store(app)), verify_inspection(inspection_id, _store(app))
    assert everything.ok and one.ok, (everything.problems, one.problems)
    assert everything.objects_replayed == one.objects_replayed  # the items and the request


def test_an_extension_approved_behind_the_applications_back(app, world):
    request_id = new_request(world, "leader_approved")
    with app.app_context():
        request = db.session.get(ExtensionRequest, request_id)
        inspection_id = request.item.inspection_id
        db.session.execute(
            sa.update(ExtensionRequest)
            .where(ExtensionRequest.id == request_id)
            .values(extension_state="approved")
        )
        db.session.commit()
        reports = verify_everything(_store(app)), verify_inspection(inspection_id, _store(app))
    for report in reports:
        [problem] = report.problems
        assert (problem.kind, problem.object) == ("state", f"extension:{request_id}")
        assert (
            "stored extension_state is 'approved' but the history implies 'leader_approved'"
            in problem.message
        )
