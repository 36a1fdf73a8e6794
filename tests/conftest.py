"""Fixtures: one migrated schema per run, a fresh database per test, factories, login helpers.

SQLite: the schema is migrated once into a template file that every test copies.
PostgreSQL (DATABASE_URL set): the schema is dropped and migrated once per run, and every table
is truncated after each test (with triggers off, since the audit table refuses TRUNCATE).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa

from portal import create_app
from portal.accounts.operations import create_user
from portal.audit.chain import Actor
from portal.core import migrations
from portal.core.config import database_url_from_env
from portal.core.extensions import db
from tests.helpers import Client

TEST_PASSWORD = "correct-horse-42"


@dataclass(frozen=True)
class TestDatabase:
    kind: str
    url: str | None = None
    template: Path | None = None
    #: where the template's evidence files are (the demo template has some)
    evidence: Path | None = None


def _postgres_url() -> str | None:
    raw = os.environ.get("DATABASE_URL", "").strip()
    return database_url_from_env(Path("/nonexistent")) if raw.startswith("postgres") else None


def base_config(tmp_path: Path, url: str) -> dict:
    config = {
        "CONFIG": "testing",
        "TASKS_IMMEDIATE": True,  # tasks run at once, in memory (the mail delivery after a commit)
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "AUDIT_CHECKPOINT_KEY_FILE": str(tmp_path / "keys" / "checkpoint.key"),
        "AUDIT_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
    }
    if url.startswith("postgresql"):
        # Tests need no durability across a crash; skipping the WAL flush per commit saves minutes.
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"options": "-c synchronous_commit=off"}}
    return config


@pytest.fixture(scope="session")
def test_database(tmp_path_factory) -> TestDatabase:
    """Migrate an empty schema once for the whole run."""
    tmp = tmp_path_factory.mktemp("schema")
    pg_url = _postgres_url()
    if pg_url:
        engine = sa.create_engine(pg_url)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
        url, database = pg_url, TestDatabase("postgresql", url=pg_url)
    else:
        template = tmp / "template.db"
        url, database = f"sqlite:///{template}", TestDatabase("sqlite", template=template)
    app = create_app(base_config(tmp, url))
    migrations.enable(app)
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    return database


def _pg_admin(url: str):
    """An autocommit engine on `url`'s server, for CREATE/DROP DATABASE."""
    return sa.create_engine(url, isolation_level="AUTOCOMMIT")


def _pg_database_url(url: str, name: str) -> str:
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def demo_template(test_database: TestDatabase, tmp_path_factory) -> TestDatabase:
    """The demo content (`flask demo load`) loaded once per run into a template database."""
    from portal.demo.cli import load_demo

    tmp = tmp_path_factory.mktemp("demo")
    if test_database.kind == "sqlite":
        target = tmp / "demo.db"
        shutil.copyfile(test_database.template, target)
        url, template = f"sqlite:///{target}", TestDatabase("sqlite", template=target)
    else:
        name = f"{sa.make_url(test_database.url).database}_demo_template"
        admin = _pg_admin(test_database.url)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        url = _pg_database_url(test_database.url, name)
        template = TestDatabase("postgresql", url=url)
    app = create_app(base_config(tmp, url))
    migrations.enable(app)
    with app.app_context():
        if test_database.kind == "postgresql":
            flask_migrate.upgrade()
        load_demo()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return TestDatabase(
        template.kind, template.url, template.template, evidence=Path(app.config["EVIDENCE_DIR"])
    )


@pytest.fixture
def demo_app(demo_template: TestDatabase, tmp_path: Path):
    """A fresh app on a copy of the demo database (accounts, the seed notice, feedback …)."""
    config = base_config(tmp_path, "")
    if demo_template.kind == "sqlite":
        target = tmp_path / "rectify.db"
        shutil.copyfile(demo_template.template, target)
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{target}"
    else:
        name = f"{sa.make_url(demo_template.url).database}_{os.getpid()}_{tmp_path.name}"[:63]
        admin = _pg_admin(demo_template.url)
        with admin.connect() as conn:
            conn.exec_driver_sql(
                f'CREATE DATABASE "{name}" TEMPLATE "{sa.make_url(demo_template.url).database}"'
            )
        config["SQLALCHEMY_DATABASE_URI"] = _pg_database_url(demo_template.url, name)
    if demo_template.evidence is not None and demo_template.evidence.exists():
        shutil.copytree(demo_template.evidence, tmp_path / "instance" / "evidence")
    app = create_app(config)
    app.test_client_class = Client
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if demo_template.kind == "postgresql":
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def app(test_database: TestDatabase, tmp_path: Path):
    """A fresh app on an empty, migrated database."""
    if test_database.kind == "sqlite":
        target = tmp_path / "rectify.db"
        shutil.copyfile(test_database.template, target)
        url = f"sqlite:///{target}"
    else:
        url = test_database.url
    app = create_app(base_config(tmp_path, url))
    app.test_client_class = Client
    yield app
    with app.app_context():
        db.session.remove()
        if test_database.kind == "postgresql":
            truncate_all(db.engine)
        db.engine.dispose()


def truncate_all(engine: sa.Engine) -> None:
    """Empty every table and restart every sequence, as a fresh database has them.

    DELETE, not TRUNCATE: on the few rows a test leaves, deleting takes about 9 ms where
    truncating the 40-odd tables takes about 70 ms, which the PostgreSQL run paid a thousand
    times. Triggers (the audit log's refusals, the foreign keys) are off for it (replica role).
    """
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with engine.begin() as conn:
        conn.exec_driver_sql("SET session_replication_role = replica")
        conn.exec_driver_sql("; ".join(f'DELETE FROM "{name}"' for name in tables))
        sequences = conn.exec_driver_sql(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"
        ).scalars()
        restart = "; ".join(f'ALTER SEQUENCE "{name}" RESTART' for name in sequences)
        if restart:
            conn.exec_driver_sql(restart)
        conn.exec_driver_sql("SET session_replication_role = origin")


@pytest.fixture
def client(app) -> Client:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """Return a factory that creates (and commits) an account; returns its id."""

    def factory(
        login: str,
        *roles: str,
        password: str = TEST_PASSWORD,
        display_name: str | None = None,
        active: bool = True,
    ) -> int:
        with app.app_context():
            user = create_user(
                Actor.system("test"),
                login=login,
                display_name=display_name or f"{login} 测试",
                password=password,
                roles=roles,
            )
            user.active = active
            db.session.commit()
            return user.id

    return factory


@pytest.fixture
def login_as(client, make_user):
    """Create an account with `roles` and sign the test client in as it."""

    def factory(login: str, *roles: str) -> Client:
        make_user(login, *roles)
        response = client.login(login, TEST_PASSWORD)
        assert response.status_code == 302, response.text
        return client

    return factory


# The persona world shared by workflow and document tests.
from tests.world import signed_in, world  # noqa: E402, F401


@pytest.fixture(scope="session")
def browser():
    """The session's one Chromium (tests/browser and tests/stack share it: Playwright's sync API
    runs one instance per process)."""
    from tests.browser.conftest import AXE, CHROMIUM, CHROMIUM_ARGS

    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium fonts-noto-cjk)")
    if not AXE.exists():
        missing.append(f"axe-core not found at {AXE} (make install-dev runs npm ci in tests/browser)")
    if missing:
        message = "; ".join(missing)
        if os.environ.get("RECTIFY_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from tests.browser.playwright_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
