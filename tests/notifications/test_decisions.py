"""Extension decisions reach the requester (and the office when the leader approves); a
deadline warning names its level in the reader's language."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.audit.models import AuditEvent
from portal.core.extensions import db
from portal.notifications.kinds import render_message
from portal.notifications.models import Notification
from tests.deadlines.helpers import decide, new_request, request


def _decisions(app, world) -> list[tuple[str, str, str]]:
    """(persona, decision id, the stored comment) of every extension decision notification."""
    by_id = {v: k for k, v in world.users.items()}
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Notification).where(Notification.kind == "extension_decided").order_by(Notification.id)
        ).all()
        return [(by_id[n.user_id], n.params["decision_id"], n.params["comment"]) for n in rows]


def test_the_leaders_approval_reaches_the_requester_and_the_office_then_the_offices_the_requester(app, world):
    request_id = new_request(world)
    decide(world, "leader_resp", request_id, "leader_approve", comment="同意，请巡察办审批")
    assert sorted(_decisions(app, world)) == [
        ("office", "leader_approve", "同意，请巡察办审批"),
        ("staff_resp", "leader_approve", "同意，请巡察办审批"),
    ]
    decide(world, "office", request_id, "office_approve", comment="同意延期")
    assert _decisions(app, world)[2:] == [("staff_resp", "office_approve", "同意延期")]
    with app.app_context():
        row = db.session.scalars(
            sa.select(Notification)
            .where(Notification.kind == "extension_decided")
            .order_by(Notification.id.desc())
        ).first()
        proposed = request(request_id).proposed_deadline.isoformat()
        assert row.object_type == "extension_requests" and row.object_id == request_id
        # told after the step was written, in the same transaction: the decision's event comes first
        events = db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action.in_(["extension.office_approve", "notification.send"]))
            .order_by(AuditEvent.seq.desc())
            .limit(2)
        ).all()
        assert [e.action for e in reversed(events)] == ["extension.office_approve", "notification.send"]
        assert json.loads(events[0].payload)["kind"] == "extension_decided"
        with app.test_request_context(), force_locale("zh"):
            zh = render_message(row.kind, row.params)
        with app.test_request_context(), force_locale("en"):
            en = render_message(row.kind, row.params)
    assert zh == f"事项“加强科创中心产业用房管理”的延期申请（延至{proposed}）：巡察办批准延期。"
    title = "加强科创中心产业用房管理"
    assert en == f"Extension request for the item “{title}” (to {proposed}): Approve the extension."


def test_a_rejection_reaches_the_requester_with_its_reason_and_a_withdrawal_tells_nobody(app, world):
    rejected = new_request(world)
    decide(world, "leader_resp", rejected, "reject", comment="理由不充分，请按期完成")
    assert _decisions(app, world) == [("staff_resp", "reject", "理由不充分，请按期完成")]
    withdrawn = new_request(world)
    decide(world, "staff_resp", withdrawn, "withdraw")
    assert len(_decisions(app, world)) == 1


@pytest.mark.parametrize(("locale", "expected"), [("zh", "约谈"), ("en", "Overdue: interview")])
def test_a_warning_names_its_level_in_the_readers_language(app, locale, expected):
    stored = {
        "title": "加强科创中心产业用房管理",
        "level": "约谈",
        "level_id": "interview",
        "deadline": "2026-11-01",
    }
    with app.test_request_context(), force_locale(locale):
        message = render_message("warning", stored)
        unknown = render_message("warning", {**stored, "level_id": "gone"})
    assert expected in message
    if locale == "en":
        assert "约谈" not in message  # the name stored at issue (Chinese) gives way to the reader's
    assert "约谈" in unknown  # an id it does not know keeps the stored name
