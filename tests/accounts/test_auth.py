"""Signing in and out: sessions that can be revoked, idle timeout, sign-in delays, cookie flags.
(More on the delays in test_throttle.py; the second step in test_mfa.py.)"""

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.models import LoginSession
from portal.accounts.operations import deactivate_user, find_user
from portal.audit.chain import Actor
from portal.core.extensions import db
from tests.conftest import TEST_PASSWORD
from tests.helpers import audit_actions, count_rows


def test_login_opens_a_server_side_session_and_is_audited(app, client, make_user):
    make_user("staff1", "staff")
    response = client.login("staff1", TEST_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/account").status_code == 200
    assert count_rows(app, LoginSession) == 1
    assert audit_actions(app)[-1] == "auth.login"


def test_login_starts_a_new_session(app, client, make_user):
    make_user("staff1", "staff")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.login("staff1", TEST_PASSWORD)
    with client.session_transaction() as session:
        assert "planted" not in session
        first_sid = session["sid"]
    client.logout()
    client.login("staff1", TEST_PASSWORD)
    with client.session_transaction() as session:
        assert session["sid"] != first_sid


def test_wrong_password_is_refused_in_chinese(app, client, make_user):
    make_user("staff1", "staff")
    response = client.login("staff1", "wrong-password-1")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.text
    assert 'value="staff1"' in response.text  # what the user typed is kept
    assert audit_actions(app)[-1] == "auth.login_failed"
    assert client.get("/account").status_code == 302


def test_logout_makes_the_old_cookie_useless(app, client, make_user):
    make_user("staff1", "staff")
    client.login("staff1", TEST_PASSWORD)
    stolen = client.session_cookie()
    assert client.logout().status_code == 302
    assert client.get("/account").status_code == 302
    client.replace_session_cookie(stolen)
    response = client.get("/account")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "auth.logout" in audit_actions(app)


def test_deactivation_makes_the_old_cookie_useless(app, client, make_user):
    make_user("staff1", "staff")
    client.login("staff1", TEST_PASSWORD)
    assert client.get("/account").status_code == 200
    with app.app_context():
        deactivate_user(Actor.system("test"), find_user("staff1"))
        db.session.commit()
        ended = db.session.scalars(sa.select(LoginSession.end_reason)).all()
    assert ended == ["deactivated"]
    assert client.get("/account").status_code == 302
    response = client.login("staff1", TEST_PASSWORD)
    assert "已停用" in response.text


def test_idle_session_expires(app, client, make_user):
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=1)
    make_user("staff1", "staff")
    client.login("staff1", TEST_PASSWORD)
    assert client.get("/account").status_code == 200
    time.sleep(2.2)
    assert client.get("/account").status_code == 302


def test_activity_keeps_the_session_alive(app, client, make_user):
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=2)
    make_user("staff1", "staff")
    client.login("staff1", TEST_PASSWORD)
    for _ in range(3):
        time.sleep(1.1)
        assert client.get("/account").status_code == 200


def test_session_cookie_flags(app, client, make_user):
    make_user("staff1", "staff")
    response = client.login("staff1", TEST_PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development/testing serve plain http on loopback


def test_production_session_cookie_is_secure(app, client, make_user):
    app.config["SESSION_COOKIE_SECURE"] = True  # what ProductionConfig sets
    make_user("staff1", "staff")
    cookie = client.login("staff1", TEST_PASSWORD).headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie


def fail(client, login, times):
    for _ in range(times):
        assert "用户名或密码错误" in client.login(login, "wrong-password-1").text


def test_five_failures_delay_the_account(app, client, make_user, monkeypatch):
    """No longer a 15-minute lock: a delay (30 s at first) that grows with further failures."""
    make_user("staff1", "staff")
    fail(client, "staff1", 5)
    response = client.login("staff1", TEST_PASSWORD)  # even the right password waits
    assert "登录失败次数过多" in response.text and "30 秒" in response.text
    assert client.get("/account").status_code == 302
    assert audit_actions(app)[-1] == "auth.login_refused"

    import portal.accounts.auth as auth

    later = auth.utcnow() + timedelta(seconds=31)
    monkeypatch.setattr(auth, "utcnow", lambda: later)
    assert client.login("staff1", TEST_PASSWORD).status_code == 302


def test_lockout_is_per_account(app, client, make_user):
    make_user("staff1", "staff")
    make_user("staff2", "staff")
    fail(client, "staff1", 5)
    assert client.login("staff2", TEST_PASSWORD).status_code == 302


def test_success_resets_the_failure_count(app, client, make_user):
    make_user("staff1", "staff")
    fail(client, "staff1", 4)
    client.login("staff1", TEST_PASSWORD)
    client.logout()
    fail(client, "staff1", 4)
    assert client.login("staff1", TEST_PASSWORD).status_code == 302


def test_unknown_names_are_delayed_like_real_ones(app, client):
    fail(client, "nobody", 5)
    assert "登录失败次数过多" in client.login("nobody", "wrong-password-1").text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil"])
def test_login_does_not_redirect_off_site(app, client, make_user, target):
    make_user("staff1", "staff")
    token = client.csrf_token()
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"login": "staff1", "password": TEST_PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


def test_login_follows_local_next(app, client, make_user):
    make_user("staff1", "staff")
    token = client.csrf_token()
    response = client.post(
        "/login?next=/account", data={"login": "staff1", "password": TEST_PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/account"


def test_change_password_signs_out_other_sessions(app, make_user):
    make_user("staff1", "staff")
    laptop, phone = app.test_client(), app.test_client()
    laptop.login("staff1", TEST_PASSWORD)
    phone.login("staff1", TEST_PASSWORD)
    response = laptop.post_form(
        "/account/password",
        {"current": TEST_PASSWORD, "password": "a-new-passw0rd", "confirm": "a-new-passw0rd"},
    )
    assert response.status_code == 302
    assert laptop.get("/account").status_code == 200
    assert phone.get("/account").status_code == 302
    assert "user.set_password" in audit_actions(app)
    assert laptop.logout().status_code == 302
    assert laptop.login("staff1", "a-new-passw0rd").status_code == 302


def test_change_password_validation_keeps_the_page(app, login_as):
    client = login_as("staff1", "staff")
    response = client.post_form(
        "/account/password", {"current": "wrong", "password": "short", "confirm": "other"}
    )
    assert response.status_code == 200
    assert "密码长度不能少于 10 个字符" in response.text
    response = client.post_form(
        "/account/password",
        {"current": "wrong-current-1", "password": "a-new-passw0rd", "confirm": "a-new-passw0rd"},
    )
    assert "当前密码" in response.text
    assert "user.set_password" not in audit_actions(app)
