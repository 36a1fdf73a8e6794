"""Who is told what, in the caller's transaction, and e-mail only after the commit."""

import json

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.accounts.operations import update_user
from portal.audit.chain import Actor
from portal.audit.models import AuditEvent
from portal.core.extensions import db
from portal.feedback.operations import answer_fix_check
from portal.inspections.models import APPROVAL_DUAL, APPROVAL_SINGLE
from portal.inspections.operations import update_document
from portal.notifications.kinds import KINDS, render_message
from portal.notifications.models import Notification
from portal.notifications.operations import notify, set_email_preference
from tests.feedback.test_feedback_mail import smtp  # noqa: F401  (a real local SMTP server)


def inbox(app, world, persona: str) -> list[tuple[str, int | None]]:
    """(kind, item id) of a persona's notifications, oldest first."""
    with app.app_context():
        return [
            (n.kind, n.item_id)
            for n in db.session.scalars(
                sa.select(Notification)
                .where(Notification.user_id == world.users[persona])
                .order_by(Notification.id)
            )
        ]


def everyone(app, world) -> dict[str, list]:
    return {p: inbox(app, world, p) for p in world.users if inbox(app, world, p)}


def test_a_new_item_is_assigned_to_its_staff(app, world):
    item_id = world.new_item()
    assert everyone(app, world) == {"staff_resp": [("assigned", item_id)]}


#: (policy, path to fire after creation) -> who is told, beyond the assignment at creation
TRIGGERS = [
    pytest.param(
        APPROVAL_SINGLE,
        [("staff_resp", "start"), ("staff_resp", "submit")],
        {"leader_resp": ["review"]},
        id="submit-single",
    ),
    pytest.param(
        APPROVAL_DUAL,
        [("staff_resp", "start"), ("staff_resp", "submit")],
        {"leader_resp": ["review"], "secretary": ["review"]},
        id="submit-dual",
    ),
    pytest.param(
        # the responsible leader submits himself: only the other reviewer is told
        APPROVAL_DUAL,
        [("leader_resp", "start"), ("leader_resp", "submit")],
        {"secretary": ["review"]},
        id="submit-by-the-leader",
    ),
    pytest.param(
        APPROVAL_SINGLE,
        [("staff_resp", "start"), ("staff_resp", "submit"), ("leader_resp", "return")],
        {"leader_resp": ["review"], "staff_resp": ["returned"]},
        id="return",
    ),
    pytest.param(
        APPROVAL_SINGLE,
        [
            ("staff_resp", "start"),
            ("staff_resp", "submit"),
            ("leader_resp", "approve"),
            ("office", "schedule_follow_up"),
            ("office", "reopen"),
        ],
        {"leader_resp": ["review"], "staff_resp": ["returned"]},
        id="reopen",
    ),
    pytest.param(APPROVAL_SINGLE, [("leader_resp", "publish")], {}, id="publish-tells-nobody"),
]


@pytest.mark.parametrize(("policy", "path", "told"), TRIGGERS)
def test_who_is_told_of_each_step(app, world, policy, path, told):
    item_id = world.new_item(policy)
    for persona, transition in path:
        world.fire(persona, item_id, transition, comment="请补充材料")
    got = {p: [kind for kind, _item in inbox(app, world, p)] for p in world.users}
    got["staff_resp"] = got["staff_resp"][1:]  # the assignment at creation
    assert {p: kinds for p, kinds in got.items() if kinds} == told


def test_a_new_staff_is_told_and_the_old_one_is_not(app, world):
    item_id = world.new_item()
    with app.app_context():
        update_document(
            Actor.of(world.user("office")), world.item(item_id), {"staff_id": world.users["staff_other"]}
        )
        update_document(Actor.of(world.user("office")), world.item(item_id), {"title": "改个标题"})
        db.session.commit()
    assert inbox(app, world, "staff_other") == [("assigned", item_id)]
    assert inbox(app, world, "staff_resp") == [("assigned", item_id)]


@pytest.mark.parametrize(("answer", "told"), [("not_fixed", ["staff_resp", "leader_resp"]), ("fixed", [])])
def test_a_public_not_fixed_report_reaches_staff_and_leader(app, world, answer, told):
    item_id = world.new_item(state="completed")
    before = everyone(app, world)
    with app.app_context():
        answer_fix_check(world.item(item_id), answer, "门口仍然堆放杂物")
        db.session.commit()
    after = everyone(app, world)
    assert sorted(p for p in after if after[p] != before.get(p)) == sorted(told)
    for persona in told:
        assert after[persona][-1] == ("not_fixed", item_id)


def test_the_text_is_rendered_in_the_readers_language(app, world):
    item_id = world.new_item()
    with app.app_context():
        row = db.session.scalar(sa.select(Notification).where(Notification.item_id == item_id))
        assert row.params["title"] == "加强科创中心产业用房管理"
        with app.test_request_context(), force_locale("zh"):
            zh = render_message(row.kind, row.params)
        with app.test_request_context(), force_locale("en"):
            en = render_message(row.kind, row.params)
    assert zh == "事项“加强科创中心产业用房管理”已交办给您。"
    assert en == "The item “加强科创中心产业用房管理” has been assigned to you."


def test_every_kind_renders_with_missing_parameters(app):
    with app.test_request_context(), force_locale("zh"):
        for kind in KINDS:
            assert "—" in render_message(kind, {})


def test_notify_records_one_audit_event_and_skips_inactive_and_the_actor(app, world):
    item_id = world.new_item()
    with app.app_context():
        world.user("staff_other").active = False
        rows = notify(
            [world.user("staff_other"), world.users["office"], world.users["leader_resp"], None],
            "chase",
            world.item(item_id),
            actor=Actor.of(world.user("office")),
            text="请本周内完成",
        )
        db.session.commit()
        assert [r.user_id for r in rows] == [world.users["leader_resp"]]
        event = db.session.scalar(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "notification.send")
            .order_by(AuditEvent.seq.desc())
        )
        payload = json.loads(event.payload)
    assert (event.object_type, event.object_id, event.actor) == ("item", str(item_id), "office")
    assert payload["user_ids"] == [world.users["leader_resp"]] and payload["params"]["text"] == "请本周内完成"


def test_an_unknown_kind_is_refused(app, world):
    with app.app_context(), pytest.raises(ValueError):
        notify([world.users["staff_resp"]], "no_such_kind")


# --- e-mail ------------------------------------------------------------------------------------


def give_email(app, world, persona: str, address: str) -> None:
    with app.app_context():
        user = world.user(persona)
        update_user(
            Actor.system("test"), user, display_name=user.display_name, email=address, department=None
        )
        db.session.commit()


def test_mail_goes_out_after_the_commit_only(app, world, smtp):  # noqa: F811
    give_email(app, world, "staff_resp", "staff@example.cn")
    item_id = world.new_item()
    assert len(smtp.messages) == 1  # the assignment, sent when the creation committed
    with app.app_context():
        notify([world.users["staff_resp"]], "chase", world.item(item_id), text="请加快进度")
        db.session.flush()
        assert len(smtp.messages) == 1  # not before the commit
        db.session.rollback()
    assert len(smtp.messages) == 1  # a rolled-back notification sends nothing
    with app.app_context():
        notify([world.users["staff_resp"]], "chase", world.item(item_id), text="请加快进度")
        db.session.commit()
    assert len(smtp.messages) == 2
    message = smtp.messages[-1]
    from email.header import decode_header, make_header

    assert message["To"] == "staff@example.cn"
    assert "催办" in str(make_header(decode_header(message["Subject"])))
    body = message.get_payload(decode=True).decode("utf-8")
    assert "加强科创中心产业用房管理" in body and "请加快进度" in body


def test_the_preference_is_honoured(app, world, smtp):  # noqa: F811
    give_email(app, world, "staff_resp", "staff@example.cn")
    with app.app_context():
        set_email_preference(Actor.of(world.user("staff_resp")), world.user("staff_resp"), False)
        db.session.commit()
    item_id = world.new_item()
    assert smtp.messages == []
    assert inbox(app, world, "staff_resp") == [("assigned", item_id)]  # still told in the portal
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "user.email_notifications")
        )
        assert json.loads(event.payload) == {"before": True, "after": False}
