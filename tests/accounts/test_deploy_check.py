"""`flask deploy check`: every unsafe setting listed, exit 1; a safe production setup: OK, exit 0."""

import pytest

from portal import create_app

SAFE_KEY = "k" * 64


@pytest.fixture
def clean_env(monkeypatch):
    for name in (
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "WEB_CONCURRENCY",
        "GUNICORN_CMD_ARGS",
        "FLASK_DEBUG",
        "AUDIT_CHECKPOINT_KEY_FILE",
        "MFA_REQUIRED_ROLES",
        "RECTIFY_CONFIG",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def check(app):
    return app.test_cli_runner().invoke(args=["deploy", "check"])


def test_a_safe_production_setup_is_ok(tmp_path, clean_env):
    clean_env.setenv("SECRET_KEY", SAFE_KEY)
    clean_env.setenv("DATABASE_URL", "postgresql://rectify@db.internal:5432/rectify")
    clean_env.setenv("REDIS_URL", "redis://127.0.0.1:6379/11")
    clean_env.setenv("WEB_CONCURRENCY", "4")
    clean_env.setenv("AUDIT_CHECKPOINT_KEY_FILE", str(tmp_path / "keys" / "checkpoint.key"))
    app = create_app({"CONFIG": "production", "INSTANCE_PATH": str(tmp_path / "instance")})
    result = check(app)
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("OK")


def test_an_unsafe_setup_lists_every_problem(tmp_path, clean_env):
    clean_env.setenv("WEB_CONCURRENCY", "4")
    clean_env.setenv("FLASK_DEBUG", "1")
    app = create_app({"CONFIG": "development", "INSTANCE_PATH": str(tmp_path / "instance")})
    result = check(app)
    assert result.exit_code == 1
    out = result.output
    for expected in (
        "debug",
        "SECRET_KEY",
        "AUDIT_CHECKPOINT_KEY_FILE",
        "SQLite",
        "rate limits",
        "Secure",
        "MFA",
        "production configuration",
        "HSTS",
    ):
        assert expected in out, (expected, out)
    assert "OK" not in out.splitlines()[-1]


def test_gunicorn_arguments_count_as_workers(tmp_path, clean_env):
    clean_env.setenv("SECRET_KEY", SAFE_KEY)
    clean_env.setenv("GUNICORN_CMD_ARGS", "--timeout 120 -w 3")
    clean_env.setenv("AUDIT_CHECKPOINT_KEY_FILE", str(tmp_path / "keys" / "checkpoint.key"))
    app = create_app({"CONFIG": "production", "INSTANCE_PATH": str(tmp_path / "instance")})
    result = check(app)
    assert result.exit_code == 1
    assert "SQLite" in result.output and "3 workers" in result.output
    assert "rate limits" in result.output


def test_a_checkpoint_key_beside_the_sqlite_database_is_unsafe(tmp_path, clean_env):
    clean_env.setenv("SECRET_KEY", SAFE_KEY)
    clean_env.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'data' / 'rectify.db'}")
    clean_env.setenv("AUDIT_CHECKPOINT_KEY_FILE", str(tmp_path / "data" / "checkpoint.key"))
    app = create_app({"CONFIG": "production", "INSTANCE_PATH": str(tmp_path / "instance")})
    result = check(app)
    assert result.exit_code == 1 and "AUDIT_CHECKPOINT_KEY_FILE" in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("UNSAFE")]) == 1


def test_mfa_switched_off_in_production_is_unsafe(tmp_path, clean_env):
    clean_env.setenv("SECRET_KEY", SAFE_KEY)
    clean_env.setenv("MFA_REQUIRED_ROLES", "admin")
    clean_env.setenv("AUDIT_CHECKPOINT_KEY_FILE", str(tmp_path / "keys" / "checkpoint.key"))
    app = create_app({"CONFIG": "production", "INSTANCE_PATH": str(tmp_path / "instance")})
    result = check(app)
    assert result.exit_code == 1
    assert "MFA" in result.output and "auditor" in result.output and "leader" in result.output
