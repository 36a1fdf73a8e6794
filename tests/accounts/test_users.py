"""Account administration: operations, the `flask users` CLI and the admin pages."""

import json

import pytest
import sqlalchemy as sa

from portal.accounts.models import Department, User
from portal.accounts.operations import create_user, deactivate_user, find_user, set_roles
from portal.audit.chain import Actor
from portal.audit.models import AuditEvent
from portal.core.errors import OperationError
from portal.core.extensions import db
from tests.conftest import TEST_PASSWORD
from tests.helpers import audit_actions, count_rows


def last_event(app, action):
    with app.app_context():
        event = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq.desc())
        ).first()
        return event, json.loads(event.payload)


def test_password_is_hashed_with_scrypt(app, make_user):
    make_user("staff1", "staff")
    with app.app_context():
        user = find_user("staff1")
        assert user.password_hash.startswith("scrypt:")
        assert user.check_password(TEST_PASSWORD) and not user.check_password("nope")
    _event, payload = last_event(app, "user.create")
    assert "password" not in json.dumps(payload)


def test_cli_create_list_set_roles_deactivate(app, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "zhangsan",
            "--name",
            "张三",
            "--department",
            "财务科",
            "--role",
            "staff",
            "--role",
            "leader",
            "--password",
            "zhangsan-pass-1",
        ]
    )
    assert result.exit_code == 0, result.output
    listing = runner.invoke(args=["users", "list"]).output
    assert "zhangsan" in listing and "leader,staff" in listing and "财务科" in listing
    assert runner.invoke(args=["users", "set-roles", "zhangsan", "office"]).exit_code == 0
    assert runner.invoke(args=["users", "deactivate", "zhangsan"]).exit_code == 0
    assert "inactive" in runner.invoke(args=["users", "list"]).output
    assert audit_actions(app) == ["department.create", "user.create", "user.set_roles", "user.deactivate"]
    event, payload = last_event(app, "user.set_roles")
    assert payload["before"] == ["leader", "staff"] and payload["after"] == ["office"]
    assert event.actor.startswith("cli:")


def test_cli_refuses_bad_input(app, runner, make_user):
    make_user("taken", "staff")
    result = runner.invoke(args=["users", "create", "taken", "--name", "X", "--password", "long-enough-1"])
    assert result.exit_code != 0 and "already taken" in result.output
    result = runner.invoke(
        args=["users", "create", "x1", "--name", "X", "--role", "king", "--password", "long-enough-1"]
    )
    assert result.exit_code != 0 and "king" in result.output
    result = runner.invoke(args=["users", "create", "x2", "--name", "X", "--password", "short"])
    assert result.exit_code != 0 and "at least" in result.output
    result = runner.invoke(args=["users", "deactivate", "ghost"])
    assert result.exit_code != 0 and "no account" in result.output
    assert count_rows(app, User) == 1


def test_the_last_active_admin_cannot_be_removed(app, make_user):
    make_user("root", "admin")
    with app.app_context():
        root = find_user("root")
        with pytest.raises(OperationError):
            set_roles(Actor.system("test"), root, ["staff"])
        other = create_user(
            Actor.system("test"),
            login="second",
            display_name="Second",
            password=TEST_PASSWORD,
            roles=["admin"],
        )
        set_roles(Actor.system("test"), root, ["staff"])
        with pytest.raises(OperationError):
            deactivate_user(Actor.system("test"), other)


def test_nobody_deactivates_themselves(app, make_user):
    make_user("root", "admin")
    make_user("root2", "admin")
    with app.app_context():
        root = find_user("root")
        with pytest.raises(OperationError, match="own account"):
            deactivate_user(Actor.of(root), root)


def test_admin_creates_an_account_through_the_form(app, login_as):
    client = login_as("root", "admin")
    client.post_form("/admin/departments", {"name": "财务科"})
    with app.app_context():
        dept_id = db.session.scalar(sa.select(Department.id))
    response = client.post_form(
        "/admin/users/new",
        {
            "login": "LiSi",
            "display_name": "李四",
            "email": "lisi@example.cn",
            "department_id": dept_id,
            "roles": ["staff", "leader"],
            "password": "lisi-pass-2026",
            "confirm": "lisi-pass-2026",
            "reauth_password": TEST_PASSWORD,  # giving roles asks for the admin's password again
        },
    )
    assert response.status_code == 302, response.text
    with app.app_context():
        user = find_user("lisi")
        assert user.display_name == "李四" and user.roles == {"staff", "leader"}
        assert user.department.name == "财务科"
    _event, payload = last_event(app, "user.create")
    assert payload["roles"] == ["leader", "staff"] and payload["department"] == "财务科"


def test_account_form_errors_keep_what_was_typed(app, login_as):
    client = login_as("root", "admin")
    response = client.post_form(
        "/admin/users/new",
        {
            "login": "wang wu",
            "display_name": "王五<script>",
            "email": "not-an-email",
            "department_id": 0,
            "password": "wangwu-pass-1",
            "confirm": "different-1",
        },
    )
    assert response.status_code == 200
    text = response.text
    assert 'value="王五&lt;script&gt;"' in text  # kept, and escaped
    assert "两次输入的密码不一致" in text
    assert "请输入有效的电子邮箱地址" in text
    assert "<script>" not in text.split("</head>")[1].replace('<script src="', "")
    assert count_rows(app, User) == 1


def test_duplicate_login_is_a_form_error(app, login_as, make_user):
    make_user("lisi", "staff")
    client = login_as("root", "admin")
    response = client.post_form(
        "/admin/users/new",
        {
            "login": "lisi",
            "display_name": "李四",
            "department_id": 0,
            "password": "lisi-pass-2026",
            "confirm": "lisi-pass-2026",
        },
    )
    assert response.status_code == 200 and "lisi" in response.text
    assert "用户名“lisi”已被占用" in response.text


def test_admin_edits_roles_and_deactivates(app, login_as, make_user):
    staff_id = make_user("staff1", "staff")
    client = login_as("root", "admin")
    response = client.post_form(
        f"/admin/users/{staff_id}",
        {
            "display_name": "李强",
            "email": "",
            "department_id": 0,
            "roles": ["staff", "leader"],
            "reauth_password": TEST_PASSWORD,
        },
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, staff_id)
        assert user.roles == {"staff", "leader"} and user.active is False
    actions = audit_actions(app)
    assert actions[-3:] == ["user.update", "user.set_roles", "user.deactivate"]
    _event, payload = last_event(app, "user.update")
    assert payload["changes"]["display_name"]["after"] == "李强"


def test_admin_cannot_lock_themselves_out(app, login_as):
    """Not by dropping their own admin role (nobody changes their own roles), nor by
    deactivating themselves."""
    client = login_as("root", "admin")
    with app.app_context():
        root_id = find_user("root").id
    response = client.post_form(
        f"/admin/users/{root_id}",
        {"display_name": "Root", "department_id": 0, "roles": ["staff"], "active": "y"},
    )
    assert response.status_code == 200
    assert "您不能修改自己的角色" in response.text
    response = client.post_form(
        f"/admin/users/{root_id}", {"display_name": "Root", "department_id": 0, "roles": ["admin"]}
    )
    assert response.status_code == 200
    assert "不能停用自己的账号" in response.text
    with app.app_context():
        assert find_user("root").roles == {"admin"}


def test_admin_sets_a_password(app, login_as, make_user):
    staff_id = make_user("staff1", "staff")
    client = login_as("root", "admin")
    response = client.post_form(
        f"/admin/users/{staff_id}/password",
        {"password": "brand-new-pass-1", "confirm": "brand-new-pass-1", "reauth_password": TEST_PASSWORD},
    )
    assert response.status_code == 302
    other = app.test_client()
    assert other.login("staff1", "brand-new-pass-1").status_code == 302
    event, payload = last_event(app, "user.set_password")
    assert event.actor == "root" and payload["by_self"] is False


def test_departments_are_created_once(app, login_as):
    client = login_as("office1", "office")
    assert client.post_form("/admin/departments", {"name": "财务科"}).status_code == 302
    response = client.post_form("/admin/departments", {"name": "财务科"})
    assert response.status_code == 200 and "名为“财务科”的部门已存在" in response.text
    assert count_rows(app, Department) == 1
    assert "财务科" in client.get("/admin/departments").text


def test_edit_page_shows_current_values_and_password_errors(app, login_as, make_user):
    staff_id = make_user("staff1", "staff", display_name="李强")
    client = login_as("root", "admin")
    page = client.get(f"/admin/users/{staff_id}").text
    assert 'value="李强"' in page
    assert 'checked class="form-check-input" id="roles-3" name="roles" type="checkbox" value="staff"' in page
    response = client.post_form(
        f"/admin/users/{staff_id}/password", {"password": "short", "confirm": "short"}
    )
    assert response.status_code == 200
    assert "密码长度不能少于 10 个字符" in response.text and 'value="李强"' in response.text
    assert "user.set_password" not in audit_actions(app)
