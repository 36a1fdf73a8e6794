"""Configuration: database URL, secret key, production refusals, SQLite engine behaviour."""

import os
import stat

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.core.config import ConfigError, database_url_from_env
from portal.core.extensions import db


def test_sqlite_in_instance_folder_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert database_url_from_env(tmp_path) == f"sqlite:///{tmp_path / 'rectify.db'}"


@pytest.mark.parametrize("given", ["postgres://u@h/db", "postgresql://u@h/db", "postgresql+psycopg://u@h/db"])
def test_database_url_selects_psycopg3(given, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", given)
    assert database_url_from_env(tmp_path) == "postgresql+psycopg://u@h/db"


def test_secret_key_generated_once_into_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    first = create_app({"CONFIG": "development", "INSTANCE_PATH": str(tmp_path)})
    second = create_app({"CONFIG": "development", "INSTANCE_PATH": str(tmp_path)})
    key_file = tmp_path / "secret_key"
    assert first.secret_key == second.secret_key == key_file.read_text().strip()
    assert len(first.secret_key) == 64
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_secret_key_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    app = create_app({"CONFIG": "development", "INSTANCE_PATH": str(tmp_path)})
    assert app.secret_key == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_production_refuses_to_start_without_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"CONFIG": "production", "INSTANCE_PATH": str(tmp_path)})
    assert not (tmp_path / "secret_key").exists()


def test_production_cookies_are_secure(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s3cret-for-production")
    app = create_app({"CONFIG": "production", "INSTANCE_PATH": str(tmp_path)})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["DEMO_ALLOWED"] is False


def test_unknown_configuration_name_is_refused():
    with pytest.raises(ConfigError, match="unknown configuration"):
        create_app("staging")


def test_sqlite_pragmas(tmp_path):
    app = create_app(
        {
            "CONFIG": "testing",
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}",
        }
    )
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_sqlite_write_transactions_begin_immediate(tmp_path):
    """A write transaction holds the write lock from BEGIN; a read transaction does not."""
    from portal.core.database import read_only

    path = tmp_path / "lock.db"
    app = create_app(
        {
            "CONFIG": "testing",
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        }
    )
    with app.app_context():
        with db.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        import sqlite3

        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        with db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))  # begins the transaction
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            conn.rollback()
        with read_only(), db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            other.execute("BEGIN IMMEDIATE")  # a reader does not block a writer
            other.execute("ROLLBACK")
            conn.rollback()
        other.close()


def test_passwords_use_scrypt_at_full_strength_outside_tests(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s3cret-for-production")
    app = create_app({"CONFIG": "production", "INSTANCE_PATH": str(tmp_path)})
    assert app.config["PASSWORD_HASH_METHOD"] == "scrypt"
    from portal.accounts.models import User

    with app.app_context():
        user = User()
        user.set_password("a-long-password-1")
    assert user.password_hash.startswith("scrypt:32768:8:1$")


def test_sign_in_security_settings_default_per_configuration(tmp_path, monkeypatch):
    """MFA is required for admin, office, leader and auditor in production; not elsewhere, so
    that the demo and the suite sign in with a password alone (tests that need it set it)."""
    monkeypatch.setenv("SECRET_KEY", "s3cret-for-production")
    monkeypatch.delenv("MFA_REQUIRED_ROLES", raising=False)
    production = create_app({"CONFIG": "production", "INSTANCE_PATH": str(tmp_path)})
    assert set(production.config["MFA_REQUIRED_ROLES"]) == {"admin", "office", "leader", "auditor"}
    assert production.config["HSTS_SECONDS"] == 365 * 24 * 3600
    development = create_app({"CONFIG": "development", "INSTANCE_PATH": str(tmp_path)})
    assert tuple(development.config["MFA_REQUIRED_ROLES"]) == ()
    assert development.config["HSTS_SECONDS"] == 0
    monkeypatch.setenv("MFA_REQUIRED_ROLES", "admin, auditor")
    chosen = create_app({"CONFIG": "development", "INSTANCE_PATH": str(tmp_path)})
    assert tuple(chosen.config["MFA_REQUIRED_ROLES"]) == ("admin", "auditor")


def test_unknown_mfa_roles_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("MFA_REQUIRED_ROLES", "admin,king")
    with pytest.raises(ConfigError, match="king"):
        create_app({"CONFIG": "development", "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})
