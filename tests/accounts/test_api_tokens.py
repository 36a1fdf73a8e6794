"""Personal access tokens: made on the account page with the password again, shown once,
stored hashed, listed by their first characters, revoked by their owner, expiring, audited."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from lxml import html

from portal.accounts import tokens
from portal.accounts.models import ApiToken, User
from portal.accounts.operations import create_user, deactivate_user
from portal.audit.chain import Actor, utcnow
from portal.core.extensions import db
from tests.conftest import TEST_PASSWORD
from tests.helpers import audit_actions, count_rows


def create(client, name="台账同步脚本", scope="read", days="30", password=TEST_PASSWORD):
    return client.post_form(
        "/account/tokens", {"name": name, "scope": scope, "days": days, "password": password}
    )


def secret_of(response) -> str:
    return html.fromstring(response.text).xpath('string(//*[@id="new-token-secret"])')


def test_a_token_is_shown_once_and_stored_hashed(app, login_as):
    client = login_as("zhang", "staff")
    response = create(client)
    assert response.status_code == 200
    secret = secret_of(response)
    assert secret.startswith("rfy_") and len(secret) > 40
    with app.app_context():
        row = db.session.scalar(sa.select(ApiToken))
        assert row.token_hash == tokens.token_hash(secret) and secret not in (row.prefix, row.token_hash)
        assert row.scope == "read" and timedelta(days=29) < row.expires_at - row.created_at <= timedelta(
            days=30
        )
        assert tokens.user_for(secret)[0].login == "zhang"
    page = client.get("/account").text
    assert secret not in page and f"{secret[:8]}…" in page
    assert "token.created" in audit_actions(app)


def test_creating_needs_the_password_and_a_name(app, login_as):
    client = login_as("zhang", "staff")
    wrong = create(client, password="not-the-password")
    assert wrong.status_code == 400 and not secret_of(wrong)
    nameless = create(client, name="  ")
    assert nameless.status_code == 400
    tree = html.fromstring(nameless.text)
    assert tree.xpath('string(//form[@id="token-form"]//*[contains(@class,"invalid-feedback")])').strip()
    bad_scope = create(client, scope="admin")
    assert bad_scope.status_code == 400
    assert count_rows(app, ApiToken) == 0


def test_only_the_owner_revokes_and_a_revoked_token_stops_working(app, login_as):
    owner = login_as("zhang", "staff")
    secret = secret_of(create(owner))
    with app.app_context():
        token_id = db.session.scalar(sa.select(ApiToken.id))
    with app.app_context():
        create_user(
            Actor.system("test"), login="li", display_name="李", password=TEST_PASSWORD, roles=("staff",)
        )
        db.session.commit()
    other = app.test_client()  # a second account in a client of its own
    assert other.login("li", TEST_PASSWORD).status_code == 302
    assert other.post_form(f"/account/tokens/{token_id}/revoke").status_code == 404
    with app.app_context():
        assert tokens.user_for(secret) is not None
    response = owner.post_form(f"/account/tokens/{token_id}/revoke")
    assert response.status_code == 302
    with app.app_context():
        assert tokens.user_for(secret) is None
    assert "token.revoked" in audit_actions(app)
    assert f'data-token="{token_id}"' not in owner.get("/account").text


def test_expired_unknown_and_deactivated_tokens_stand_for_nobody(app, login_as):
    client = login_as("zhang", "staff")
    secret = secret_of(create(client, days="7"))
    with app.app_context():
        assert tokens.user_for(secret) is not None
        assert tokens.user_for(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
        assert tokens.user_for("Bearer " + secret) is None and tokens.user_for("") is None
        row = db.session.scalar(sa.select(ApiToken))
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert tokens.user_for(secret) is None
        row.expires_at = utcnow() + timedelta(days=1)
        user = db.session.scalar(sa.select(User).where(User.login == "zhang"))
        deactivate_user(Actor.system("test"), user)
        db.session.commit()
        assert tokens.user_for(secret) is None


def test_at_most_so_many_live_tokens(app, login_as):
    client = login_as("zhang", "staff")
    for n in range(tokens.MAX_TOKENS):
        assert create(client, name=f"脚本{n}").status_code == 200
    refused = create(client, name="再一个")
    assert refused.status_code == 400 and not secret_of(refused)
    assert count_rows(app, ApiToken) == tokens.MAX_TOKENS
