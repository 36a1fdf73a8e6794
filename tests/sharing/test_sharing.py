"""The Sharing tab: grants, inheritance and its blocking, delegation limits, the last path."""

import json

import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.core.extensions import db
from portal.core.models import LocalRole
from portal.core.policy import allowed_transitions
from portal.inspections.models import RectificationItem


def grant(client, kind, object_id, persona_or_dept, role, world):
    principal = (
        f"d:{persona_or_dept}" if isinstance(persona_or_dept, int) else f"u:{world.users[persona_or_dept]}"
    )
    return client.post_form(f"/sharing/{kind}/{object_id}", {"principal": principal, "role": role})


def test_office_grants_reviewer_on_a_category(app, world, signed_in):
    item_id = world.new_item(state="pending_review")
    office = signed_in("office")
    category = world.categories["single"]
    assert grant(office, "category", category, "leader_other", "Reviewer", world).status_code == 302
    with app.app_context():
        item = db.session.get(RectificationItem, item_id)
        assert "approve" in {t.id for t in allowed_transitions(world.user("leader_other"), item)}
        event = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "sharing.grant").order_by(AuditEvent.seq.desc())
        ).first()
        payload = json.loads(event.payload)
        assert len(payload["after"]) == len(payload["before"]) + 1
    page = office.get(f"/sharing/item/{item_id}").text
    assert "继承自" in page and "data-inherited" in page and 'data-derived="Editor"' in page
    assert (
        grant(office, "category", category, "leader_other", "Reviewer", world).status_code == 200
    )  # a second identical grant is explained, not added


def test_blocking_inheritance_cuts_grants_from_above(app, world, signed_in):
    item_id = world.new_item(state="pending_review")
    office = signed_in("office")
    assert office.post_form(f"/sharing/item/{item_id}/inheritance", {"blocked": "y"}).status_code == 302
    with app.app_context():
        item = db.session.get(RectificationItem, item_id)
        assert item.local_roles_blocked
        assert "approve" not in {t.id for t in allowed_transitions(world.user("leader_reviewer"), item)}
    assert "data-inherited" not in office.get(f"/sharing/item/{item_id}").text
    office.post_form(f"/sharing/item/{item_id}/inheritance", {})
    with app.app_context():
        assert not db.session.get(RectificationItem, item_id).local_roles_blocked


def test_only_roles_one_holds_can_be_granted(app, world, signed_in):
    item_id = world.new_item(state="pending_review")
    leader = signed_in("leader_resp")  # Reviewer (by field), not Editor
    response = grant(leader, "item", item_id, "leader_other", "Editor", world)
    assert response.status_code == 200
    assert "您只能授予自己在此处拥有的角色" in response.text
    assert '<option value="Editor"' not in response.text  # not even offered
    assert grant(leader, "item", item_id, "leader_other", "Reviewer", world).status_code == 302
    with app.app_context():
        roles = db.session.scalars(
            sa.select(LocalRole.role).where(LocalRole.object_type == "item", LocalRole.object_id == item_id)
        ).all()
        assert roles == ["Reviewer"]


def test_nobody_removes_their_own_last_path(app, world, signed_in):
    item_id = world.new_item()
    office = signed_in("office")
    # staff_other gets Editor on the item from the office: not theirs to remove.
    grant(office, "item", item_id, "staff_other", "Editor", world)
    # dept_editor (Editor through the department's grant on the inspection) grants itself
    # Editor on the item; once the office blocks inheritance, that is its only way to manage it.
    editor = signed_in("dept_editor")
    assert grant(editor, "item", item_id, "dept_editor", "Editor", world).status_code == 302
    assert editor.post_form(f"/sharing/item/{item_id}/inheritance", {"blocked": "y"}).status_code == 403
    assert office.post_form(f"/sharing/item/{item_id}/inheritance", {"blocked": "y"}).status_code == 302
    with app.app_context():
        grants = dict(
            db.session.execute(
                sa.select(LocalRole.user_id, LocalRole.id).where(
                    LocalRole.object_type == "item", LocalRole.object_id == item_id
                )
            ).all()
        )
    others, own = grants[world.users["staff_other"]], grants[world.users["dept_editor"]]
    assert signed_in("staff_other").post_form(f"/sharing/grants/{others}/revoke").status_code == 403
    editor.post_form(f"/sharing/grants/{own}/revoke")
    assert "不能移除您自己管理此处共享的最后途径" in editor.get(f"/sharing/item/{item_id}").text
    with app.app_context():
        assert db.session.get(LocalRole, own) is not None and db.session.get(LocalRole, others) is not None
    # The office can do both: its way to manage is its global role.
    assert office.post_form(f"/sharing/grants/{own}/revoke").status_code == 302
    assert office.post_form(f"/sharing/grants/{others}/revoke").status_code == 302
    with app.app_context():
        assert db.session.get(LocalRole, own) is None
        assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "sharing.revoke")) == 2


def test_sharing_routes_per_persona(app, world, signed_in):
    from tests.world import PERSONAS

    item_id = world.new_item()
    see = set(PERSONAS) - {"staff_other", "admin"}
    share_item = {"office", "staff_resp", "dept_editor", "leader_resp"}
    share_inspection = {"office", "dept_editor"}  # dept_editor: Editor granted on it
    for persona in PERSONAS:
        client = signed_in(persona)
        for path, allowed in (
            (f"/sharing/item/{item_id}", share_item),
            (f"/sharing/inspection/{world.inspections['single']}", share_inspection),
        ):
            # auditors read every object's sharing, read-only
            readable = allowed | {"auditor"}
            expected = 200 if persona in readable else (403 if persona in see else 404)
            assert client.get(path).status_code == expected, (persona, path)
