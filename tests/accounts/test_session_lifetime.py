"""Sessions end after an absolute lifetime however busy they are, checked on the server."""

from datetime import timedelta

import sqlalchemy as sa

import portal.accounts.auth as auth
import portal.audit.chain as chain
from portal.accounts.models import LoginSession
from portal.core.extensions import db
from tests.conftest import TEST_PASSWORD


def test_a_busy_session_still_ends_after_the_absolute_lifetime(app, client, make_user, monkeypatch):
    make_user("staff1", "staff")
    assert app.config["ABSOLUTE_SESSION_LIFETIME"] == timedelta(hours=12)
    client.login("staff1", TEST_PASSWORD)
    start = chain.utcnow()
    for hours in (1, 4, 8, 11.9):  # never idle for long: the idle limit alone would keep it
        now = start + timedelta(hours=hours)
        monkeypatch.setattr(auth, "utcnow", lambda now=now: now)
        assert client.get("/account").status_code == 200, hours
    now = start + timedelta(hours=12, minutes=1)
    monkeypatch.setattr(auth, "utcnow", lambda: now)
    response = client.get("/account")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_lifetime_is_the_servers_not_the_cookies(app, client, make_user, monkeypatch):
    """A replayed cookie of an expired session is refused, whatever the cookie says."""
    make_user("staff1", "staff")
    client.login("staff1", TEST_PASSWORD)
    cookie = client.session_cookie()
    with app.app_context():
        row = db.session.scalars(sa.select(LoginSession)).one()
        row.created_at -= timedelta(hours=13)
        db.session.commit()
    client.replace_session_cookie(cookie)
    assert client.get("/account").status_code == 302


def test_the_setting_comes_from_the_environment(tmp_path, monkeypatch):
    from portal import create_app

    monkeypatch.setenv("SESSION_MAX_HOURS", "8")
    app = create_app({"CONFIG": "testing", "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})
    assert app.config["ABSOLUTE_SESSION_LIFETIME"] == timedelta(hours=8)
