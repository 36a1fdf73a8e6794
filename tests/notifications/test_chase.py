"""催办 (chase): who may send one, what it records, who is told, and refusals keep the text."""

import json

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.core.extensions import db
from portal.inspections.models import APPROVAL_DUAL, APPROVAL_SINGLE
from portal.notifications.models import CHASE_MAX_LENGTH, ItemChase, Notification

#: persona -> status of a chase on an open item they can see (302: sent). The office
#: supervises every item; the responsible leader (分管领导) directs its staff; the party
#: secretary (党组书记) answers for the whole rectification. A Reviewer by sharing or a leader
#: with no role on the item reads it but does not command its staff; staff, auditors and
#: administrators never chase.
CHASERS = {
    "office": 302,
    "leader_resp": 302,
    "secretary": 302,
    "leader_reviewer": 403,
    "leader_other": 403,
    "staff_resp": 403,
    "staff_other": 403,
    "dept_editor": 403,
    "auditor": 403,
    "admin": 403,
}


def chase(client, item_id, text="请于本周五前报送整改进展。"):
    return client.post_form(f"/items/{item_id}/chase", {"text": text})


def chases(app, item_id) -> list[str]:
    with app.app_context():
        return db.session.scalars(
            sa.select(ItemChase.text).where(ItemChase.item_id == item_id).order_by(ItemChase.id)
        ).all()


def told(app, world, item_id) -> list[str]:
    """Personas notified of a chase on the item."""
    names = {uid: p for p, uid in world.users.items()}
    with app.app_context():
        return sorted(
            names[uid]
            for uid in db.session.scalars(
                sa.select(Notification.user_id).where(
                    Notification.item_id == item_id, Notification.kind == "chase"
                )
            )
        )


@pytest.mark.parametrize(("persona", "status"), CHASERS.items())
@pytest.mark.parametrize("policy", [APPROVAL_SINGLE, APPROVAL_DUAL])
def test_who_may_chase(app, world, signed_in, persona, status, policy):
    item_id = world.new_item(policy, "in_progress")
    client = signed_in(persona)
    assert ('id="chase"' in client.get(f"/items/{item_id}").text) is (status == 302)
    assert chase(client, item_id).status_code == status
    assert len(chases(app, item_id)) == (1 if status == 302 else 0)


@pytest.mark.parametrize("state", ["completed", "follow_up"])
def test_a_completed_item_is_not_chased(app, world, signed_in, state):
    item_id = world.new_item(state=state)
    office = signed_in("office")
    assert 'id="chase"' not in office.get(f"/items/{item_id}").text
    assert chase(office, item_id).status_code == 403 and chases(app, item_id) == []


def test_a_withdrawn_item_is_not_chased(app, world, signed_in):
    item_id = world.new_item(state="withdrawn")
    assert chase(signed_in("office"), item_id).status_code == 403


def test_a_missing_item_is_not_found(app, world, signed_in):
    assert chase(signed_in("office"), 999999).status_code == 404


@pytest.mark.parametrize(
    ("persona", "recipients"),
    [
        ("office", ["leader_resp", "staff_resp"]),
        ("secretary", ["leader_resp", "staff_resp"]),
        ("leader_resp", ["staff_resp"]),  # the sender is not told of his own note
    ],
)
def test_a_chase_is_recorded_audited_and_notified(app, world, signed_in, persona, recipients):
    item_id = world.new_item(state="in_progress")
    client = signed_in(persona)
    response = chase(client, item_id, "  请于本周五前报送整改进展。 ")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/items/{item_id}#timeline")
    assert chases(app, item_id) == ["请于本周五前报送整改进展。"]
    assert told(app, world, item_id) == recipients
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "item.chase"))
        assert (event.object_type, event.object_id, event.actor) == ("item", str(item_id), persona)
        assert json.loads(event.payload)["text"] == "请于本周五前报送整改进展。"
    page = client.get(f"/items/{item_id}").text
    timeline = page[page.index('id="timeline"') :]
    assert 'data-kind="chase"' in timeline and "请于本周五前报送整改进展。" in timeline


@pytest.mark.parametrize(
    ("text", "message"),
    [("   ", "请填写催办内容。"), ("催" * (CHASE_MAX_LENGTH + 1), f"催办内容最多 {CHASE_MAX_LENGTH} 个字。")],
)
def test_a_refused_chase_keeps_the_text(app, world, signed_in, text, message):
    item_id = world.new_item(state="in_progress")
    response = chase(signed_in("office"), item_id, text)
    assert response.status_code == 400
    assert message in response.text
    form = response.text[response.text.index('id="chase"') :]
    assert f"{text}</textarea>" in form  # what was typed is still there
    assert chases(app, item_id) == [] and told(app, world, item_id) == []
