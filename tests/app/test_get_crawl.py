"""No state change on GET: crawl every GET route as every role and count writes."""

from datetime import datetime

import pytest

from portal.core.extensions import db
from portal.demo.cli import demo_password
from tests.helpers import count_writes

ROLES = (None, "admin", "office", "leader", "staff", "auditor")


def _a_warning(item) -> int:
    """A warning of the supervision pass on `item` (its letter is a GET route)."""
    from datetime import date

    from portal.supervision.models import SupervisionWarning

    warning = SupervisionWarning(
        item_id=item.id,
        level="supervise",
        deadline=item.deadline or date(2026, 12, 1),
        issued_at=datetime(2026, 12, 1, 0, 0),
        pass_day=date(2026, 12, 1),
    )
    db.session.add(warning)
    db.session.commit()
    return warning.id


def sample_arguments(app, target_id, item_id):
    """Values for every URL argument; a new argument must be added here to be crawled."""
    from portal.evidence.models import Evidence
    from portal.inspections.models import Measure, RectificationItem

    with app.app_context():
        item = db.session.get(RectificationItem, item_id)
        measure_id = db.session.scalar(db.select(Measure.id).where(Measure.item_id == item_id))
        evidence_id = db.session.scalar(
            db.select(Evidence.id).where(Evidence.item_id == item_id, Evidence.storage_key.is_not(None))
        )
        inspection_id, category_id = item.inspection_id, item.category_id
        warning_id = _a_warning(item)
        from portal.accounts.models import Department
        from portal.feedback.models import Feedback

        feedback_id = db.session.scalar(db.select(Feedback.id).limit(1)) or 1
        department_id = db.session.scalar(db.select(Department.id).limit(1)) or 1
    return {
        "feedback_id": feedback_id,
        "department_id": department_id,
        "warning_id": warning_id,
        "user_id": target_id,
        "item_id": item_id,
        "inspection_id": inspection_id,
        "category_id": category_id,
        "measure_id": measure_id,
        "evidence_id": evidence_id,
        "kind": "item",
        "object_id": item_id,
        "name": "awaiting_review",
        "filename": {"static": "portal.css", "bootstrap.static": "css/bootstrap.min.css"},
    }


def build_urls(app, target_id, item_id):
    samples = sample_arguments(app, target_id, item_id)
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        args = {}
        for name in rule.arguments:
            assert name in samples, f"no sample value for <{name}> in {rule.rule}"
            value = samples[name]
            args[name] = value[rule.endpoint] if isinstance(value, dict) else value
        with app.test_request_context():
            from flask import url_for

            urls.append(url_for(rule.endpoint, **args))
    return urls


def demo_item_in_review(app) -> int:
    from portal.demo.cli import load_demo
    from portal.inspections.models import RectificationItem

    with app.app_context():
        load_demo()
        db.session.commit()
        return db.session.scalar(
            db.select(RectificationItem.id).where(RectificationItem.state == "pending_review").limit(1)
        )


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_get_requests_write_nothing(app, make_user, client, role):
    target_id = make_user("target", "staff")
    # Give the pages something to show: a failed login, demo content with an item in review.
    app.test_client().login("target", "wrong-password-1")
    item_id = demo_item_in_review(app)
    if role:
        # The demo account of each role; its leader is the item's responsible leader, so the
        # crawl also renders the transition forms.
        assert client.login(role, demo_password(role)).status_code == 302
    urls = build_urls(app, target_id, item_id)
    assert len(urls) >= 20
    with app.app_context():
        engine = db.engine
    statuses = {}
    with count_writes(engine) as writes:
        for url in urls:
            for query in ("", "?lang=en"):
                response = client.get(url + query)
                statuses[url + query] = response.status_code
                # (/readyz answers 503 while this instance has no fresh checkpoint: its verdict)
                assert response.status_code < 500 or (url == "/readyz" and response.status_code == 503), url
    assert writes == []
    assert any(code == 200 for code in statuses.values())
