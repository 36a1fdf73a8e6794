"""Throttling sign-in: a delay that grows per account and address (never a hard lock), a limit
per client address, and a delay for the whole account only when many addresses fail on it."""

from datetime import timedelta

import pytest

import portal.accounts.auth as auth
import portal.audit.chain as chain
from tests.conftest import TEST_PASSWORD
from tests.helpers import audit_actions

ATTACKER, OWNER = "203.0.113.9", "198.51.100.7"


def client_at(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def fail(client, login, times):
    for _ in range(times):
        client.login(login, "wrong-password-1")


class Clock:
    """Moves the clock of sign-in and of the audit events forward."""

    def __init__(self, monkeypatch):
        self.offset = timedelta()
        real = chain.utcnow
        monkeypatch.setattr(chain, "utcnow", lambda: real() + self.offset)
        monkeypatch.setattr(auth, "utcnow", lambda: real() + self.offset)

    def advance(self, **kwargs):
        self.offset += timedelta(**kwargs)


def test_an_anonymous_visitor_cannot_lock_admin_out(app, make_user):
    """The issue's reproduction: five wrong passwords from anywhere used to lock `admin`."""
    make_user("admin", "admin")
    attacker = client_at(app, ATTACKER)
    fail(attacker, "admin", 12)
    owner = client_at(app, OWNER)
    response = owner.login("admin", TEST_PASSWORD)
    assert response.status_code == 302, response.text
    assert owner.get("/account").status_code == 200


def test_failures_grow_a_delay_that_passes(app, make_user, monkeypatch):
    make_user("staff1", "staff")
    clock = Clock(monkeypatch)
    client = client_at(app, ATTACKER)
    fail(client, "staff1", 5)
    response = client.login("staff1", TEST_PASSWORD)  # even the right password waits
    assert response.status_code == 200
    assert "登录失败次数过多" in response.text and "30 秒" in response.text
    assert audit_actions(app)[-1] == "auth.login_refused"
    clock.advance(seconds=31)
    assert "用户名或密码错误" in client.login("staff1", "wrong-password-1").text
    response = client.login("staff1", TEST_PASSWORD)
    assert "60 秒" in response.text  # doubled
    clock.advance(seconds=61)
    assert client.login("staff1", TEST_PASSWORD).status_code == 302


def test_the_delay_is_capped(app, make_user, monkeypatch):
    make_user("staff1", "staff")
    app.config["LOGIN_FAILURE_WINDOW"] = timedelta(days=1)
    clock = Clock(monkeypatch)
    client = client_at(app, ATTACKER)
    app.config["LOGIN_ADDRESS_LIMIT"] = "1000 per hour"
    for _ in range(14):
        fail(client, "staff1", 1)
        clock.advance(minutes=16)
    fail(client, "staff1", 1)
    response = client.login("staff1", TEST_PASSWORD)
    assert "登录失败次数过多" in response.text and "15 分钟" in response.text
    clock.advance(minutes=16)
    assert client.login("staff1", TEST_PASSWORD).status_code == 302


def test_the_delay_is_per_account(app, make_user):
    make_user("staff1", "staff")
    make_user("staff2", "staff")
    client = client_at(app, ATTACKER)
    fail(client, "staff1", 5)
    assert client.login("staff2", TEST_PASSWORD).status_code == 302


def test_unknown_names_are_delayed_like_real_ones(app):
    client = client_at(app, ATTACKER)
    fail(client, "nobody", 5)
    assert "登录失败次数过多" in client.login("nobody", "wrong-password-1").text


def test_success_resets_the_count(app, make_user):
    make_user("staff1", "staff")
    client = client_at(app, OWNER)
    fail(client, "staff1", 4)
    assert client.login("staff1", TEST_PASSWORD).status_code == 302
    client.logout()
    fail(client, "staff1", 4)
    assert client.login("staff1", TEST_PASSWORD).status_code == 302


def test_one_address_is_limited_across_accounts(app, make_user):
    """Password spraying: a few tries on many names from one address."""
    make_user("staff1", "staff")
    app.config["LOGIN_ADDRESS_LIMIT"] = "10 per 15 minutes"
    attacker = client_at(app, ATTACKER)
    for n in range(10):
        fail(attacker, f"user{n}", 1)
    response = attacker.login("staff1", TEST_PASSWORD)
    assert response.status_code == 200
    assert "您所在的网络地址" in response.text
    assert audit_actions(app)[-1] == "auth.login_refused"
    assert client_at(app, OWNER).login("staff1", TEST_PASSWORD).status_code == 302


def test_many_addresses_delay_the_whole_account(app, make_user):
    make_user("admin", "admin")
    app.config["LOGIN_ACCOUNT_MAX_FAILURES"] = 8
    for n in range(8):
        fail(client_at(app, f"192.0.2.{n + 1}"), "admin", 1)
    response = client_at(app, OWNER).login("admin", TEST_PASSWORD)
    assert response.status_code == 200 and "登录失败次数过多" in response.text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_messages_in_the_users_language(app, make_user, lang):
    make_user("staff1", "staff")
    client = client_at(app, ATTACKER)
    fail(client, "staff1", 5)
    token = client.csrf_token(f"/login?lang={lang}")
    response = client.post(
        f"/login?lang={lang}", data={"login": "staff1", "password": "x" * 12, "csrf_token": token}
    )
    expected = "Too many failed sign-in attempts" if lang == "en" else "登录失败次数过多"
    assert expected in response.text
    assert 'value="staff1"' in response.text  # what was typed is kept


def test_the_address_limit_is_shared_through_redis(app, tmp_path, make_user):
    """With REDIS_URL (several workers), every worker counts the same failures: a worker
    started afresh still refuses the address."""
    from portal import create_app
    from tests.conftest import base_config
    from tests.helpers import TEST_REDIS_URL, Client, redis_or_skip

    redis = redis_or_skip()
    make_user("staff1", "staff")

    def worker(name):
        config = base_config(tmp_path / name, app.config["SQLALCHEMY_DATABASE_URI"])
        config.update(RATELIMIT_STORAGE_URI=TEST_REDIS_URL, LOGIN_ADDRESS_LIMIT="10 per 15 minutes")
        worker_app = create_app(config)
        worker_app.test_client_class = Client
        return worker_app

    first = worker("first")
    attacker = client_at(first, ATTACKER)
    for n in range(10):
        fail(attacker, f"user{n}", 1)
    assert any(b"login-failures" in key for key in redis.keys("*"))
    second = worker("second")
    response = client_at(second, ATTACKER).login("staff1", TEST_PASSWORD)
    assert "您所在的网络地址" in response.text
    assert client_at(second, OWNER).login("staff1", TEST_PASSWORD).status_code == 302
    redis.flushdb()


def test_a_lost_redis_falls_back_to_limits_in_memory(app, tmp_path, make_user):
    """Redis gone (REDIS_URL set, nothing answering): signing in still works and the address
    limit still holds, counted in the process's memory until Redis is back (no 500)."""
    from portal import create_app
    from tests.conftest import base_config
    from tests.helpers import Client

    make_user("staff1", "staff")
    config = base_config(tmp_path / "lost", app.config["SQLALCHEMY_DATABASE_URI"])
    config.update(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0", LOGIN_ADDRESS_LIMIT="10 per 15 minutes")
    lost = create_app(config)
    lost.test_client_class = Client
    assert client_at(lost, OWNER).login("staff1", TEST_PASSWORD).status_code == 302
    attacker = client_at(lost, ATTACKER)
    for n in range(10):
        fail(attacker, f"user{n}", 1)
    response = attacker.login("staff1", TEST_PASSWORD)
    assert response.status_code == 200 and "您所在的网络地址" in response.text
    public = lost.test_client().get("/public/")
    assert public.status_code == 200
