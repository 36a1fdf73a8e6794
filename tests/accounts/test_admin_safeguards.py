"""Sensitive account administration: the admin's password asked again (a re-authentication
valid for a few minutes, kept on the server session) before roles, password resets and MFA
resets; no admin changes their own roles; admin and auditor are never combined."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

import portal.accounts.auth as auth
import portal.audit.chain as chain
from portal.accounts.models import LoginSession, User
from portal.accounts.operations import create_user, find_user, set_roles
from portal.audit.chain import Actor
from portal.core.errors import OperationError
from portal.core.extensions import db
from tests.conftest import TEST_PASSWORD
from tests.helpers import audit_actions, count_rows


def roles_of(app, user_id):
    with app.app_context():
        return db.session.get(User, user_id).roles


def edit(client, user_id, roles, **extra):
    data = {"display_name": "李强", "email": "", "department_id": 0, "roles": roles, "active": "y"}
    return client.post_form(f"/admin/users/{user_id}", {**data, **extra})


# --- re-authentication ------------------------------------------------------------------------


def test_changing_roles_asks_for_the_admins_password(app, login_as, make_user):
    staff_id = make_user("staff1", "staff")
    client = login_as("root", "admin")
    page = client.get(f"/admin/users/{staff_id}").text
    assert 'name="reauth_password"' in page
    response = edit(client, staff_id, ["staff", "leader"])
    assert response.status_code == 200
    assert "请输入您自己的密码" in response.text
    assert 'value="李强"' in response.text  # what was typed is kept
    assert roles_of(app, staff_id) == {"staff"}
    response = edit(client, staff_id, ["staff", "leader"], reauth_password="wrong-password-1")
    assert response.status_code == 200 and "密码不正确" in response.text
    assert roles_of(app, staff_id) == {"staff"}
    response = edit(client, staff_id, ["staff", "leader"], reauth_password=TEST_PASSWORD)
    assert response.status_code == 302
    assert roles_of(app, staff_id) == {"staff", "leader"}
    assert "auth.reauth" in audit_actions(app)


def test_the_reauthentication_lasts_a_few_minutes_on_the_server(app, login_as, make_user, monkeypatch):
    staff_id = make_user("staff1", "staff")
    client = login_as("root", "admin")
    assert edit(client, staff_id, ["leader"], reauth_password=TEST_PASSWORD).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(LoginSession.reauth_at).where(LoginSession.ended_at.is_(None)))
    assert 'name="reauth_password"' not in client.get(f"/admin/users/{staff_id}").text
    assert edit(client, staff_id, ["office"]).status_code == 302  # still fresh
    other = app.test_client()  # another session of the same admin is not
    other.login("root", TEST_PASSWORD)
    assert edit(other, staff_id, ["staff"]).status_code == 200
    later = chain.utcnow() + timedelta(minutes=6)
    monkeypatch.setattr(auth, "utcnow", lambda: later)
    response = edit(client, staff_id, ["staff"])
    assert response.status_code == 200 and "请输入您自己的密码" in response.text
    assert roles_of(app, staff_id) == {"office"}


def test_profile_changes_need_no_password(app, login_as, make_user):
    staff_id = make_user("staff1", "staff")
    client = login_as("root", "admin")
    assert edit(client, staff_id, ["staff"]).status_code == 302


def test_password_reset_asks_for_the_admins_password(app, login_as, make_user):
    staff_id = make_user("staff1", "staff")
    client = login_as("root", "admin")
    data = {"password": "brand-new-pass-1", "confirm": "brand-new-pass-1"}
    response = client.post_form(f"/admin/users/{staff_id}/password", data)
    assert response.status_code == 200 and "请输入您自己的密码" in response.text
    assert "user.set_password" not in audit_actions(app)
    response = client.post_form(
        f"/admin/users/{staff_id}/password", {**data, "reauth_password": TEST_PASSWORD}
    )
    assert response.status_code == 302 and "user.set_password" in audit_actions(app)


def test_giving_roles_to_a_new_account_asks_for_the_password(app, login_as):
    client = login_as("root", "admin")
    data = {
        "login": "lisi",
        "display_name": "李四",
        "department_id": 0,
        "roles": ["office"],
        "password": "lisi-pass-2026",
        "confirm": "lisi-pass-2026",
    }
    response = client.post_form("/admin/users/new", data)
    assert response.status_code == 200 and "请输入您自己的密码" in response.text
    assert count_rows(app, User) == 1
    response = client.post_form("/admin/users/new", {**data, "reauth_password": TEST_PASSWORD})
    assert response.status_code == 302 and count_rows(app, User) == 2


def test_wrong_reauthentication_passwords_are_throttled(app, login_as, make_user):
    staff_id = make_user("staff1", "staff")
    client = login_as("root", "admin")
    for _ in range(5):
        edit(client, staff_id, ["leader"], reauth_password="wrong-password-1")
    response = edit(client, staff_id, ["leader"], reauth_password=TEST_PASSWORD)
    assert response.status_code == 200 and "失败次数过多" in response.text
    assert roles_of(app, staff_id) == {"staff"}


# --- one's own roles; admin with auditor --------------------------------------------------------


def test_an_admin_cannot_change_their_own_roles(app, make_user):
    make_user("root", "admin")
    make_user("root2", "admin")
    with app.app_context():
        root = find_user("root")
        with pytest.raises(OperationError, match="own roles"):
            set_roles(Actor.of(root), root, ["admin", "office"])
        set_roles(Actor.of(find_user("root2")), root, ["admin", "office"])  # another admin may


def test_the_form_refuses_ones_own_roles_clearly(app, login_as):
    client = login_as("root", "admin")
    with app.app_context():
        root_id = find_user("root").id
    page = client.get(f"/admin/users/{root_id}").text
    assert "不能修改自己的角色" in page
    response = edit(client, root_id, ["admin", "office"], reauth_password=TEST_PASSWORD)
    assert response.status_code == 200 and "不能修改自己的角色" in response.text
    assert roles_of(app, root_id) == {"admin"}
    # the rest of one's own account can still be edited
    assert edit(client, root_id, ["admin"]).status_code == 302


def test_admin_and_auditor_are_never_combined(app, make_user):
    staff_id = make_user("staff1", "staff")
    with app.app_context():
        with pytest.raises(OperationError, match="auditor"):
            set_roles(Actor.system("test"), db.session.get(User, staff_id), ["admin", "auditor"])
        with pytest.raises(OperationError, match="auditor"):
            create_user(
                Actor.system("test"),
                login="x1",
                display_name="X",
                password=TEST_PASSWORD,
                roles=["auditor", "admin"],
            )


def test_the_form_refuses_admin_with_auditor(app, login_as, make_user):
    staff_id = make_user("staff1", "staff")
    client = login_as("root", "admin")
    response = edit(client, staff_id, ["admin", "auditor"], reauth_password=TEST_PASSWORD)
    assert response.status_code == 200
    assert "管理员和审计员角色不能由同一账号兼任" in response.text
    assert roles_of(app, staff_id) == {"staff"}


def test_the_cli_refuses_admin_with_auditor(app, runner, make_user):
    make_user("staff1", "staff")
    result = runner.invoke(args=["users", "set-roles", "staff1", "admin", "auditor"])
    assert result.exit_code != 0
    assert "admin" in result.output and "auditor" in result.output
    assert "user.set_roles" not in audit_actions(app)
    result = runner.invoke(
        args=[
            "users",
            "create",
            "x1",
            "--name",
            "X",
            "--role",
            "admin",
            "--role",
            "auditor",
            "--password",
            TEST_PASSWORD,
        ]
    )
    assert result.exit_code != 0 and count_rows(app, User) == 1
