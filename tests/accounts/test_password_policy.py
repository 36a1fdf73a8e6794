"""The password policy: zxcvbn's estimate (score 3 or more, the login and name counted as
known words) and the shipped list of common passwords, on every way a password is set."""

import pytest

from portal.accounts.models import User
from portal.accounts.operations import create_user, find_user, set_password
from portal.accounts.passwords import COMMON_PASSWORDS, password_problem
from portal.audit.chain import Actor
from portal.core.errors import OperationError
from portal.core.extensions import db
from portal.demo.cli import DEMO_ACCOUNTS, demo_password
from tests.conftest import TEST_PASSWORD
from tests.helpers import audit_actions, count_rows

#: The issue's reproductions: each was accepted before.
WEAK = ["password12", "aaaaaaaaa1", "officeoffice1", " " * 12]


@pytest.mark.parametrize("password", WEAK)
def test_weak_passwords_are_refused_by_the_policy(app, password):
    with app.test_request_context():
        assert password_problem(password, ["office", "王芳"]) is not None


def test_the_login_and_name_count_as_known_words(app):
    with app.test_request_context():
        assert password_problem("zhangsan1990", []) is None
        assert password_problem("zhangsan1990", ["zhangsan", "张三"]) is not None


def test_the_common_list_is_shipped_and_used(app):
    assert len(COMMON_PASSWORDS) >= 10_000
    assert "password" in COMMON_PASSWORDS and "qwertyuiop" in COMMON_PASSWORDS
    with app.test_request_context():
        assert "常用密码" in str(password_problem("qwertyuiop", []))


def test_demo_and_test_passwords_pass(app):
    with app.test_request_context():
        for login, name, _department, _roles in DEMO_ACCOUNTS:
            assert password_problem(demo_password(login), [login, name]) is None, login
        assert password_problem(TEST_PASSWORD, ["staff1", "staff1 测试"]) is None


@pytest.mark.parametrize("password", WEAK)
def test_change_password_form_refuses_weak_passwords(app, login_as, password):
    client = login_as("office1", "office")
    response = client.post_form(
        "/account/password", {"current": TEST_PASSWORD, "password": password, "confirm": password}
    )
    assert response.status_code == 200
    assert "user.set_password" not in audit_actions(app)
    assert "密码" in response.text and "is-invalid" in response.text


@pytest.mark.parametrize("password", WEAK)
def test_admin_forms_refuse_weak_passwords(app, login_as, make_user, password):
    target = make_user("staff1", "staff")
    client = login_as("root", "admin")
    response = client.post_form(
        f"/admin/users/{target}/password",
        {"password": password, "confirm": password, "reauth_password": TEST_PASSWORD},
    )
    assert response.status_code == 200 and "user.set_password" not in audit_actions(app)
    response = client.post_form(
        "/admin/users/new",
        {
            "login": "office2",
            "display_name": "王芳",
            "department_id": 0,
            "password": password,
            "confirm": password,
        },
    )
    assert response.status_code == 200 and count_rows(app, User) == 2


def test_the_message_is_clear_chinese(app, login_as):
    client = login_as("staff1", "staff")
    response = client.post_form(
        "/account/password", {"current": TEST_PASSWORD, "password": "password12", "confirm": "password12"}
    )
    assert "容易被猜到" in response.text or "常用密码" in response.text
    response = client.post_form(
        "/account/password",
        {"current": TEST_PASSWORD, "password": " " * 12, "confirm": " " * 12},
    )
    assert "空格" in response.text


@pytest.mark.parametrize("password", WEAK)
def test_operations_refuse_weak_passwords(app, make_user, password):
    make_user("staff1", "staff")
    with app.app_context():
        with pytest.raises(OperationError):
            create_user(Actor.system("test"), login="x1", display_name="X", password=password)
        with pytest.raises(OperationError):
            set_password(Actor.system("test"), find_user("staff1"), password)
        db.session.rollback()


@pytest.mark.parametrize("password", WEAK)
def test_cli_refuses_weak_passwords(app, runner, password):
    result = runner.invoke(args=["users", "create", "office2", "--name", "王芳", "--password", password])
    assert result.exit_code != 0
    assert count_rows(app, User) == 0
