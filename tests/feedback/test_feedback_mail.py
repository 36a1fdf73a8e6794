"""Moderators get an e-mail about new feedback, through a real local SMTP server."""

import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from portal.accounts.operations import update_user
from portal.audit.chain import Actor
from portal.core.extensions import db
from tests.feedback.test_feedback import give


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_FROM="noreply@example.cn")
    yield inbox
    controller.stop()


def test_moderators_are_told_without_the_contact_details(app, world, smtp):
    with app.app_context():
        update_user(
            Actor.system("test"),
            world.user("office"),
            display_name="巡察办",
            email="office@example.cn",
            department=None,
        )
        db.session.commit()
    item_id = world.new_item(state="completed")
    world.fire("leader_resp", item_id, "publish")
    target = {"item": item_id, "inspection": world.inspections["single"]}
    assert give(app.test_client(), target, phone="13800138000").status_code == 201
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    from email.header import decode_header, make_header

    subject = str(make_header(decode_header(message["Subject"])))
    assert message["To"] == "office@example.cn" and "新的意见建议" in subject
    body = message.get_payload(decode=True).decode("utf-8")
    assert "/feedback/" in body and "13800138000" not in body


def test_a_mail_failure_does_not_lose_the_feedback(app, world):
    with app.app_context():
        update_user(
            Actor.system("test"),
            world.user("office"),
            display_name="巡察办",
            email="office@example.cn",
            department=None,
        )
        db.session.commit()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())  # nobody listens there
    item_id = world.new_item(state="completed")
    world.fire("leader_resp", item_id, "publish")
    target = {"item": item_id, "inspection": world.inspections["single"]}
    assert give(app.test_client(), target).status_code == 201
    with app.app_context():
        from portal.feedback.models import Feedback

        assert db.session.query(Feedback).count() == 1
