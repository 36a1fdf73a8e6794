"""No state change on GET: crawl every GET route as every role and count writes."""

import pytest

from portal.extensions import db
from tests.helpers import count_writes

ROLES = (None, "admin", "office", "leader", "staff", "auditor")


def sample_arguments(app, target_id):
    """Values for every URL argument; a new argument must be added here to be crawled."""
    return {
        "user_id": target_id,
        "filename": {"static": "portal.css", "bootstrap.static": "css/bootstrap.min.css"},
    }


def build_urls(app, target_id):
    samples = sample_arguments(app, target_id)
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


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_get_requests_write_nothing(app, make_user, login_as, client, role):
    target_id = make_user("target", "staff")
    if role:
        client = login_as(f"{role}1", role)
    # Give the pages something to show: one failed login and one department.
    app.test_client().login("target", "wrong-password-1")
    urls = build_urls(app, target_id)
    assert len(urls) >= 9
    with app.app_context():
        engine = db.engine
    statuses = {}
    with count_writes(engine) as writes:
        for url in urls:
            for query in ("", "?lang=en"):
                response = client.get(url + query)
                statuses[url + query] = response.status_code
                assert response.status_code < 500, url
    assert writes == []
    assert any(code == 200 for code in statuses.values())
