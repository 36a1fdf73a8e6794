"""CSRF: a POST without a valid token gets 400 and changes nothing."""

import pytest

from portal.accounts.models import Department, LoginSession, User
from portal.audit.models import AuditEvent
from tests.conftest import TEST_PASSWORD
from tests.helpers import count_rows


def snapshot(app):
    return {m.__name__: count_rows(app, m) for m in (User, Department, LoginSession, AuditEvent)}


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_login_without_token_is_refused(app, client, make_user, token):
    make_user("staff1", "staff")
    before = snapshot(app)
    data = {"login": "staff1", "password": TEST_PASSWORD}
    if token:
        data["csrf_token"] = token
    response = client.post("/login", data=data)
    assert response.status_code == 400
    assert "安全令牌" in response.text
    assert snapshot(app) == before
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize(
    ("path", "data"),
    [
        (
            "/admin/users/new",
            {
                "login": "x1",
                "display_name": "X",
                "password": "long-enough-1",
                "confirm": "long-enough-1",
                "department_id": 0,
            },
        ),
        ("/admin/departments", {"name": "财务科"}),
        ("/logout", {}),
        (
            "/account/password",
            {"current": TEST_PASSWORD, "password": "another-pass-1", "confirm": "another-pass-1"},
        ),
        ("/language", {"lang": "en", "next": "/"}),
    ],
)
def test_signed_in_posts_without_token_change_nothing(app, login_as, path, data):
    client = login_as("root", "admin")
    before = snapshot(app)
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert snapshot(app) == before
    assert client.get("/account").status_code == 200  # still signed in
    assert "English" in client.get("/").text  # still Chinese: the switch offers English


def test_token_from_another_session_is_refused(app, make_user):
    make_user("staff1", "staff")
    alice, mallory = app.test_client(), app.test_client()
    token = mallory.csrf_token()
    alice.get("/")
    response = alice.post("/login", data={"login": "staff1", "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 400
