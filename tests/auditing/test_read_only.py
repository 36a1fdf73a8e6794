"""The auditor writes nothing: every POST route answers 403 to an auditor (whole URL map)."""

from flask import url_for

from portal.core.extensions import db
from portal.demo.cli import demo_password
from tests.app.test_get_crawl import demo_item_in_review, sample_arguments
from tests.helpers import count_writes

#: Routes where a POST is not a write of the auditor's own records but part of signing in/out
#: or of the public side that everyone (auditors included) may use as a member of the public.
NOT_STAFF_WRITES = {
    "accounts.login",
    "accounts.login_verify",  # the second step of signing in (a code, when MFA is on)
    "accounts.mfa_start",  # one's own two-step sign-in: set up, confirm, new codes, off
    "accounts.mfa_confirm",
    "accounts.mfa_recovery_codes",
    "accounts.mfa_disable",
    "accounts.logout",
    "shell.set_language",
    "accounts.change_password",
    "feedback.give",
    "feedback.lookup",
    "public.fix_check",
    # one's own notifications read and one's own e-mail preference, like one's password:
    # they change nothing the auditor audits (and each is audited like any write)
    "notifications.read",
    "notifications.open_item",
    "notifications.read_all",
    "notifications.email_preference",
    # one's own saved searches (Plone's Collections): a bookmark of a search, audited too
    "search.save",
    "search.remove",
    # one's own API tokens, like one's password: a token acts as its owner, so an auditor's
    # writes nothing through the API either (tests/api/)
    "accounts.create_api_token",
    "accounts.revoke_api_token",
}

#: The auditor's own two POSTs. Each writes exactly one row: the audit event recording that
#: the auditor exported or verified (an export must be audited, and a GET never writes).
AUDITOR_RECORDS = {"auditing.export": {"format": "csv"}, "auditing.run_verification": {"scope": "all"}}


def grant_and_feedback(app, item_id, user_id):
    from portal.accounts.models import User
    from portal.audit.chain import Actor
    from portal.feedback.operations import submit_feedback
    from portal.inspections.models import RectificationItem
    from portal.sharing.operations import grant_local_role

    with app.app_context():
        item = db.session.get(RectificationItem, item_id)
        grant = grant_local_role(Actor.system("test"), item, "Reader", user=db.session.get(User, user_id))
        feedback, _code = submit_feedback(item.inspection, item, kind="suggestion", text="意见内容")
        db.session.commit()
        return grant.id, feedback.id


def extension_request(app) -> int:
    """A 延期申请 filed by the demo staff on an in-progress item whose deadline is ahead."""
    from datetime import timedelta

    import sqlalchemy as sa

    from portal.accounts.models import User
    from portal.audit.chain import Actor
    from portal.core.timeutil import today
    from portal.deadlines.operations import request_extension
    from portal.inspections.models import RectificationItem

    with app.app_context():
        item = db.session.scalars(
            sa.select(RectificationItem)
            .where(RectificationItem.state == "in_progress", RectificationItem.deadline > today())
            .order_by(RectificationItem.id)
        ).first()
        staff = db.session.scalar(sa.select(User).where(User.login == "staff"))
        request = request_extension(
            Actor.of(staff),
            item,
            proposed_deadline=item.deadline + timedelta(days=30),
            reason="待预算批复",
            progress_note="方案已定",
        )
        db.session.commit()
        return request.id


def test_every_post_route_refuses_the_auditor(app, make_user, client):
    target_id = make_user("target", "staff")
    item_id = demo_item_in_review(app)
    assert client.login("auditor", demo_password("auditor")).status_code == 302
    grant_id, feedback_id = grant_and_feedback(app, item_id, target_id)
    request_id = extension_request(app)
    samples = sample_arguments(app, target_id, item_id)
    samples.update(
        {
            # a transition each route knows (an unknown one is a 404 before the role check)
            "transition_id": {
                "workflow.transition": "approve",
                "inspections.inspection_transition": "withdraw",
                "deadlines.decide": "leader_approve",
                "api.fire_transition": "approve",
            },
            "request_id": request_id,
            "grant_id": grant_id,
            "feedback_id": feedback_id,
            "number": 1,
        }
    )
    checked = 0
    with app.app_context():
        engine = db.engine
        import sqlalchemy as sa

        from portal.accounts.models import User
        from portal.accounts.tokens import create_token
        from portal.audit.chain import Actor

        auditor = db.session.scalar(sa.select(User).where(User.login == "auditor"))
        api_auth = {
            "Authorization": "Bearer " + create_token(Actor.of(auditor), auditor, "审计", "write", 1).secret
        }
        db.session.commit()
    with count_writes(engine) as writes:
        for rule in app.url_map.iter_rules():
            if "POST" not in rule.methods or rule.endpoint in NOT_STAFF_WRITES | set(AUDITOR_RECORDS):
                continue
            args = {}
            for name in rule.arguments:
                value = samples[name]
                args[name] = value[rule.endpoint] if isinstance(value, dict) else value
            with app.test_request_context():
                url = url_for(rule.endpoint, **args)
            if rule.endpoint.startswith("api."):  # the API: the auditor's own write token
                response = client.post(url, json={}, headers=api_auth)
            else:
                response = client.post_form(url, {})
            assert response.status_code == 403, (rule.endpoint, response.status_code)
            checked += 1
    assert checked >= 20
    assert writes == []


def test_the_auditors_own_records_write_one_audit_event_each(app, client):
    from portal.audit.models import AuditEvent

    demo_item_in_review(app)
    assert client.login("auditor", demo_password("auditor")).status_code == 302
    with app.app_context():
        engine = db.engine
    for endpoint, data in AUDITOR_RECORDS.items():
        with app.test_request_context():
            url = url_for(endpoint)
        with count_writes(engine) as writes:
            response = client.post_form(url, data)
            response.get_data()  # the export streams
            response.close()
        assert response.status_code in (200, 302), endpoint
        assert len(writes) == 1 and writes[0].lstrip().upper().startswith("INSERT INTO AUDIT_EVENTS"), (
            endpoint,
            writes,
        )
    with app.app_context():
        actions = db.session.scalars(
            db.select(AuditEvent.action).where(AuditEvent.actor == "auditor").order_by(AuditEvent.seq)
        ).all()
    assert actions[-2:] == ["audit.export", "audit.verify"]


def test_every_page_an_auditor_needs_answers_200(app, client):
    """Every document in every state, its versions, evidence, sharing and all feedback."""
    import sqlalchemy as sa

    from portal.evidence.models import Evidence
    from portal.feedback.models import Feedback
    from portal.feedback.views import STATES
    from portal.inspections.models import Category, Inspection, Measure, RectificationItem
    from portal.versions.models import DocumentVersion

    demo_item_in_review(app)
    with app.app_context():
        inspections = db.session.scalars(sa.select(Inspection.id)).all()
        categories = db.session.scalars(sa.select(Category.id)).all()
        items = db.session.execute(sa.select(RectificationItem.id, RectificationItem.state)).all()
        measures = db.session.scalars(sa.select(Measure.id).limit(5)).all()
        files = db.session.scalars(sa.select(Evidence.id).where(Evidence.storage_key.is_not(None))).all()
        versions = db.session.execute(
            sa.select(DocumentVersion.object_type, DocumentVersion.object_id).distinct()
        ).all()
        feedback = db.session.execute(
            sa.select(Feedback.moderation_state, Feedback.text, Feedback.original_text)
        ).all()
    assert {state for _id, state in items} >= {
        "assigned",
        "in_progress",
        "pending_review",
        "completed",
        "follow_up",
    }
    assert {state for state, *_ in feedback} == set(STATES)
    urls = [
        "/inspections/",
        "/audit/",
        "/audit/verify",
        "/audit/verify-script",
        "/workflows/",
        "/worklists/overdue",
        "/worklists/due_soon",
        "/account",
        "/",
    ]
    urls += [f"/inspections/{i}" for i in inspections]
    urls += [f"/sharing/inspection/{i}" for i in inspections]
    urls += [f"/sharing/category/{c}" for c in categories]
    for item_id, _state in items:
        urls += [f"/items/{item_id}", f"/audit/items/{item_id}", f"/sharing/item/{item_id}"]
    urls += [f"/versions/measure/{m}" for m in measures]
    urls += [f"/versions/{kind}/{oid}" for kind, oid in versions]
    urls += [f"/evidence/{e}/download" for e in files]
    urls += [f"/feedback/?state={state}" for state in STATES]
    assert client.login("auditor", demo_password("auditor")).status_code == 302
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if url.startswith("/sharing/"):  # read, with nothing offered to change
            body = response.get_data(as_text=True)
            assert 'id="grant-form"' not in body and 'id="block-form"' not in body, url
            assert "sharing/grants/" not in body, url
    # rejected and spam feedback, and the submitter's words behind an edit, are all readable
    pages = "".join(client.get(f"/feedback/?state={state}").get_data(as_text=True) for state in STATES)
    for _state, text, original in feedback:
        assert text in pages
        if original:
            assert original in pages


#: GET pages that are forms for writing (auditors cannot write), account administration
#: (auditors read role changes in the audit log instead), and the public pages of unpublished
#: content (the sample item is not published; auditors read it on the internal pages).
NOT_AUDITOR_READS = {
    "health.readyz": (200, 503),  # ready or not, by the instance's checkpoint: its verdict
    "accounts.login": 302,
    "accounts.login_verify": 302,  # no sign-in waiting for its second step: back to the start
    "accounts.users": 403,
    "accounts.new_user": 403,
    "accounts.edit_user": 403,
    "accounts.departments": 403,
    "inspections.new_inspection": 403,
    "inspections.edit_inspection": 403,
    "inspections.new_category": 403,
    "inspections.edit_category": 403,
    "inspections.new_item": 403,
    "inspections.edit_item": 403,
    "inspections.edit_measure": 403,
    "notices.upload": 403,
    "ledger.upload": 403,
    "public.item": 404,
    "public.evidence": 404,
    # the sample item is under review; its 对账销号单 exists once it is completed
    "supervision.closing_sheet": 404,
    "/public/inspections/<int:inspection_id>/items/<int:item_id>/feedback": 404,
}


def test_every_get_route_reads_for_the_auditor(app, make_user, client):
    """Over the whole URL map: every GET page answers 200 to an auditor, but the declared
    write forms and account administration."""
    from tests.app.test_get_crawl import build_urls

    target_id = make_user("target", "staff")
    item_id = demo_item_in_review(app)
    assert client.login("auditor", demo_password("auditor")).status_code == 302
    checked = 0
    for rule, url in zip(
        [r for r in app.url_map.iter_rules() if "GET" in r.methods],
        build_urls(app, target_id, item_id),
        strict=True,
    ):
        if rule.endpoint in ("static", "bootstrap.static"):
            continue
        if rule.endpoint.startswith("api."):
            continue  # the REST API reads no session, only tokens (tests/api/)
        response = client.get(url)
        response.close()
        expected = NOT_AUDITOR_READS.get(rule.rule, NOT_AUDITOR_READS.get(rule.endpoint, 200))
        assert response.status_code in (expected if isinstance(expected, tuple) else (expected,)), (
            rule.endpoint,
            url,
            response.status_code,
        )
        checked += 1
    assert checked >= 40
