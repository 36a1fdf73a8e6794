"""Two-step sign-in: TOTP enrolment on the account page (a local QR code, a code to confirm),
the second step at sign-in (no replay), one-time recovery codes, enrolment required by role,
and the admin's reset (audited, with the admin's password asked again)."""

import json
import re
from datetime import UTC, timedelta

import pyotp
import pytest
import sqlalchemy as sa

import portal.accounts.auth as auth
import portal.audit.chain as chain
from portal.accounts.models import LoginSession, RecoveryCode, TotpCredential
from portal.accounts.operations import find_user
from portal.audit.models import AuditEvent
from portal.core.extensions import db
from tests.conftest import TEST_PASSWORD
from tests.helpers import audit_actions

REQUIRED = ("admin", "office", "leader", "auditor")
SECRET = re.compile(r'<code id="totp-secret">([A-Z2-7 ]+)</code>')
CODES = re.compile(r'<code class="recovery-code">([a-z0-9-]+)</code>')


def payload_of(app, action):
    with app.app_context():
        event = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq.desc())
        ).first()
        return json.loads(event.payload)


def second_step(client, code: str):
    response = client.post_form("/login/verify", {"code": code})
    if response.status_code == 302:
        client._cached_token = None  # signing in starts a new session with a new token
    return response


def next_code(secret: str, monkeypatch, seconds: int = 30) -> str:
    """Move sign-in's clock on by a time step and return the code of that moment (the code of
    the present step was used up by the enrolment)."""
    later = chain.utcnow() + timedelta(seconds=seconds)
    monkeypatch.setattr(auth, "utcnow", lambda: later)
    return pyotp.TOTP(secret).at(later.replace(tzinfo=UTC).timestamp())


def prime(client) -> None:
    """A CSRF token from the account page (the home page is closed while enrolment is due)."""
    client._cached_token = client.csrf_token("/account")


def start_enrolment(client) -> str:
    assert client.post_form("/account/mfa/start").status_code == 302
    page = client.get("/account").text
    match = SECRET.search(page)
    assert match, page
    return match.group(1).replace(" ", "")


def enrol(client) -> tuple[str, list[str]]:
    """Enrol TOTP for the signed-in client; return the secret and the recovery codes."""
    secret = start_enrolment(client)
    response = client.post_form("/account/mfa/confirm", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200, response.text
    codes = CODES.findall(response.text)
    assert len(codes) == 10
    return secret, codes


def test_enrolment_shows_a_local_qr_code_and_the_secret(app, login_as):
    client = login_as("leader1", "leader")
    page = client.get("/account").text
    assert "两步验证" in page and 'action="/account/mfa/start"' in page
    secret = start_enrolment(client)
    page = client.get("/account").text
    assert "<svg" in page
    svg = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")  # no external service
    assert "style=" not in svg and "<script" not in page.split("</head>")[1].replace('<script src="', "")
    assert len(secret) >= 32
    with app.app_context():
        credential = db.session.get(TotpCredential, find_user("leader1").id)
        assert credential.confirmed_at is None  # not in effect before a valid code
    assert "user.mfa_enrolment_started" in audit_actions(app)


def test_enrolment_needs_a_valid_code(app, login_as):
    client = login_as("leader1", "leader")
    start_enrolment(client)
    response = client.post_form("/account/mfa/confirm", {"code": "000000"})
    assert response.status_code == 200 and "验证码不正确" in response.text
    with app.app_context():
        assert db.session.get(TotpCredential, find_user("leader1").id).confirmed_at is None
    assert "user.mfa_enrol" not in audit_actions(app)


def test_recovery_codes_are_shown_once_and_hashed(app, login_as):
    client = login_as("leader1", "leader")
    _secret, codes = enrol(client)
    assert payload_of(app, "user.mfa_enrol")["recovery_codes"] == 10
    with app.app_context():
        stored = db.session.scalars(sa.select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10
    assert not any(code in h or code.replace("-", "") in h for code in codes for h in stored)
    page = client.get("/account").text
    assert not any(code in page for code in codes)
    assert "已启用" in page


def test_sign_in_takes_a_second_step(app, login_as, monkeypatch):
    client = login_as("leader1", "leader")
    secret, _codes = enrol(client)
    client.logout()
    response = client.login("leader1", TEST_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login/verify")
    assert client.get("/account").status_code == 302  # not signed in yet
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(LoginSession).where(LoginSession.ended_at.is_(None))
            )
            == 0
        )
    page = client.get("/login/verify").text
    assert 'autocomplete="one-time-code"' in page
    response = second_step(client, "123456")
    assert response.status_code == 200 and "验证码不正确" in response.text
    assert "auth.mfa_failed" in audit_actions(app)
    response = second_step(client, next_code(secret, monkeypatch))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/account").status_code == 200
    assert payload_of(app, "auth.login")["mfa"] == "totp"


def test_a_used_code_cannot_be_replayed(app, login_as):
    client = login_as("leader1", "leader")
    secret = start_enrolment(client)
    code = pyotp.TOTP(secret).now()
    assert client.post_form("/account/mfa/confirm", {"code": code}).status_code == 200
    client.logout()
    client.login("leader1", TEST_PASSWORD)
    # the code that confirmed the enrolment was this step's: it cannot sign in either
    response = second_step(client, code)
    assert response.status_code == 200 and "已使用" in response.text
    assert client.get("/account").status_code == 302


def test_a_code_is_good_for_one_sign_in(app, login_as, monkeypatch):
    client = login_as("leader1", "leader")
    secret, _codes = enrol(client)
    client.logout()
    code = next_code(secret, monkeypatch, seconds=60)
    client.login("leader1", TEST_PASSWORD)
    assert second_step(client, code).status_code == 302
    client.logout()
    other = app.test_client()
    other.login("leader1", TEST_PASSWORD)
    response = second_step(other, code)
    assert response.status_code == 200 and "已使用" in response.text


def test_a_recovery_code_signs_in_once(app, login_as):
    client = login_as("leader1", "leader")
    _secret, codes = enrol(client)
    client.logout()
    client.login("leader1", TEST_PASSWORD)
    response = second_step(client, codes[3].upper().replace("-", " "))
    assert response.status_code == 302
    assert payload_of(app, "auth.login")["mfa"] == "recovery_code"
    client.logout()
    client.login("leader1", TEST_PASSWORD)
    response = second_step(client, codes[3])
    assert response.status_code == 200 and "验证码不正确" in response.text


def test_the_second_step_expires(app, login_as, monkeypatch):
    client = login_as("leader1", "leader")
    secret, _codes = enrol(client)
    client.logout()
    client.login("leader1", TEST_PASSWORD)
    later = chain.utcnow() + timedelta(minutes=6)
    monkeypatch.setattr(auth, "utcnow", lambda: later)
    response = second_step(client, pyotp.TOTP(secret).at(later.replace(tzinfo=UTC).timestamp()))
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get("/account").status_code == 302


def test_the_second_step_cannot_be_skipped(app, client, make_user):
    make_user("leader1", "leader")
    assert client.get("/login/verify").headers["Location"].startswith("/login")
    response = second_step(client, "123456")
    assert response.status_code == 302 and client.get("/account").status_code == 302


def test_wrong_codes_are_throttled(app, login_as):
    client = login_as("leader1", "leader")
    enrol(client)
    client.logout()
    client.login("leader1", TEST_PASSWORD)
    for _ in range(5):
        second_step(client, "000000")
    response = second_step(client, "000000")
    assert "登录失败次数过多" in response.text


# --- required by role -------------------------------------------------------------------------


def test_a_required_role_is_sent_to_enrolment_and_can_do_nothing_else(app, make_user, client):
    app.config["MFA_REQUIRED_ROLES"] = REQUIRED
    make_user("leader1", "leader")
    response = client.login("leader1", TEST_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    for path in ("/", "/inspections/", "/worklists/my_items", "/notifications"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/account", path
    prime(client)
    response = client.post_form("/account/password", {"current": TEST_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    page = client.get("/account").text
    assert "您的角色要求启用两步验证" in page
    prime(client)
    secret = start_enrolment(client)
    response = client.post_form("/account/mfa/confirm", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    assert client.get("/inspections/").status_code == 200


def test_roles_outside_the_setting_need_no_second_step(app, make_user, client):
    app.config["MFA_REQUIRED_ROLES"] = REQUIRED
    make_user("staff1", "staff")
    assert client.login("staff1", TEST_PASSWORD).headers["Location"] == "/"
    assert client.get("/inspections/").status_code == 200


def test_a_required_role_cannot_turn_it_off(app, login_as):
    app.config["MFA_REQUIRED_ROLES"] = REQUIRED
    client = login_as("leader1", "leader")
    prime(client)
    enrol(client)
    response = client.post_form("/account/mfa/disable", {"password": TEST_PASSWORD})
    assert response.status_code == 200 and "您的角色要求" in response.text
    with app.app_context():
        assert db.session.get(TotpCredential, find_user("leader1").id) is not None


def test_an_optional_user_turns_it_off_with_the_password(app, login_as):
    client = login_as("staff1", "staff")
    enrol(client)
    response = client.post_form("/account/mfa/disable", {"password": "wrong-password-1"})
    assert response.status_code == 200 and "密码不正确" in response.text
    response = client.post_form("/account/mfa/disable", {"password": TEST_PASSWORD})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(TotpCredential, find_user("staff1").id) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
    assert "user.mfa_disable" in audit_actions(app)


def test_new_recovery_codes_replace_the_old_ones(app, login_as):
    client = login_as("leader1", "leader")
    _secret, old = enrol(client)
    response = client.post_form("/account/mfa/recovery-codes", {"password": TEST_PASSWORD})
    new = CODES.findall(response.text)
    assert len(new) == 10 and not set(new) & set(old)
    client.logout()
    client.login("leader1", TEST_PASSWORD)
    assert second_step(client, old[0]).status_code == 200
    assert second_step(client, new[0]).status_code == 302


# --- the admin's reset ------------------------------------------------------------------------


def test_admin_resets_mfa_with_their_password_again(app, make_user):
    app.config["MFA_REQUIRED_ROLES"] = ("leader",)
    make_user("root", "admin")
    make_user("leader1", "leader")
    leader = app.test_client()
    leader.login("leader1", TEST_PASSWORD)
    prime(leader)
    enrol(leader)
    admin = app.test_client()
    assert admin.login("root", TEST_PASSWORD).status_code == 302
    with app.app_context():
        leader_id = find_user("leader1").id
    page = admin.get(f"/admin/users/{leader_id}").text
    assert "已启用两步验证" in page and f"/admin/users/{leader_id}/mfa-reset" in page
    response = admin.post_form(f"/admin/users/{leader_id}/mfa-reset", {})
    assert response.status_code == 200 and "请输入您自己的密码" in response.text
    response = admin.post_form(f"/admin/users/{leader_id}/mfa-reset", {"reauth_password": "nope-nope-1"})
    assert response.status_code == 200 and "密码不正确" in response.text
    assert "auth.reauth_failed" in audit_actions(app)
    with app.app_context():
        assert db.session.get(TotpCredential, leader_id) is not None
    response = admin.post_form(f"/admin/users/{leader_id}/mfa-reset", {"reauth_password": TEST_PASSWORD})
    assert response.status_code == 302
    payload = payload_of(app, "user.mfa_reset")
    assert payload["login"] == "leader1" and payload["sessions_ended"] == 1
    with app.app_context():
        assert db.session.get(TotpCredential, leader_id) is None
    assert leader.get("/account").status_code == 302  # signed out everywhere
    assert leader.login("leader1", TEST_PASSWORD).headers["Location"] == "/account"  # enrol again


def test_admin_cannot_reset_their_own_mfa_here(app, login_as):
    client = login_as("root", "admin")
    enrol(client)
    with app.app_context():
        root_id = find_user("root").id
    response = client.post_form(f"/admin/users/{root_id}/mfa-reset", {"reauth_password": TEST_PASSWORD})
    assert response.status_code == 200 and "不能在这里重置自己的两步验证" in response.text


def test_cli_resets_mfa(app, runner, login_as):
    client = login_as("leader1", "leader")
    enrol(client)
    result = runner.invoke(args=["users", "reset-mfa", "leader1"])
    assert result.exit_code == 0, result.output
    assert "leader1" in result.output
    event = payload_of(app, "user.mfa_reset")
    assert event["login"] == "leader1"


@pytest.mark.parametrize("name", ["development", "testing"])
def test_mfa_is_not_required_outside_production_by_default(name):
    from portal.core.config import CONFIGS

    assert tuple(CONFIGS[name].MFA_REQUIRED_ROLES) == ()


def test_production_requires_mfa_for_four_roles():
    from portal.core.config import ProductionConfig

    assert set(ProductionConfig.MFA_REQUIRED_ROLES) == set(REQUIRED)
