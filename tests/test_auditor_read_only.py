"""The auditor writes nothing: every POST route answers 403 to an auditor (whole URL map)."""

from flask import url_for

from portal.demo.cli import demo_password
from portal.extensions import db
from tests.helpers import count_writes
from tests.test_get_crawl import demo_item_in_review, sample_arguments

#: Routes where a POST is not a write of the auditor's own records but part of signing in/out
#: or of the public side that everyone (auditors included) may use as a member of the public.
NOT_STAFF_WRITES = {"accounts.login", "accounts.logout", "core.set_language",
                    "accounts.change_password", "feedback.give", "feedback.lookup",
                    "feedback.fix_check"}


def grant_and_feedback(app, item_id, user_id):
    from portal.accounts.models import User
    from portal.audit.chain import Actor
    from portal.feedback.operations import submit_feedback
    from portal.inspections.models import RectificationItem
    from portal.sharing.operations import grant_local_role

    with app.app_context():
        item = db.session.get(RectificationItem, item_id)
        grant = grant_local_role(Actor.system("test"), item, "Reader",
                                 user=db.session.get(User, user_id))
        feedback, _code = submit_feedback(item.inspection, item, kind="suggestion", text="意见内容")
        db.session.commit()
        return grant.id, feedback.id


def test_every_post_route_refuses_the_auditor(app, make_user, client):
    target_id = make_user("target", "staff")
    item_id = demo_item_in_review(app)
    assert client.login("auditor", demo_password("auditor")).status_code == 302
    grant_id, feedback_id = grant_and_feedback(app, item_id, target_id)
    samples = sample_arguments(app, target_id, item_id)
    samples.update({"transition_id": "approve", "grant_id": grant_id, "feedback_id": feedback_id,
                    "number": 1})
    checked = 0
    with app.app_context():
        engine = db.engine
    with count_writes(engine) as writes:
        for rule in app.url_map.iter_rules():
            if "POST" not in rule.methods or rule.endpoint in NOT_STAFF_WRITES:
                continue
            args = {}
            for name in rule.arguments:
                value = samples[name]
                args[name] = value[rule.endpoint] if isinstance(value, dict) else value
            with app.test_request_context():
                url = url_for(rule.endpoint, **args)
            response = client.post_form(url, {})
            assert response.status_code == 403, (rule.endpoint, response.status_code)
            checked += 1
    assert checked >= 20
    assert writes == []
