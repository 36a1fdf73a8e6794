"""`flask demo load`."""

from portal import create_app
from portal.accounts.models import User
from portal.demo.cli import DEMO_ACCOUNTS, demo_password
from tests.helpers import count_rows


def test_demo_creates_one_account_per_role(app, runner, client):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    for login, *_rest in DEMO_ACCOUNTS:
        assert f"{login:<8} / {demo_password(login)}" in result.output
    assert count_rows(app, User) == 5
    assert client.login("office", demo_password("office")).status_code == 302


def test_demo_is_idempotent(app, runner):
    runner.invoke(args=["demo", "load"])
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0 and "already there" in again.output
    assert count_rows(app, User) == 5


def test_demo_is_refused_in_production(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s3cret-for-production")
    app = create_app(
        {
            "CONFIG": "production",
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}",
        }
    )
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0 and "refused under the production" in result.output
