"""Models and migrations agree, and the migrations run down and up again."""

import subprocess
import sys
from pathlib import Path

import flask_migrate
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from portal import create_app
from portal.core import migrations
from portal.core.extensions import db
from tests.conftest import base_config

ROOT = Path(__file__).resolve().parents[2]


def test_models_match_migrations(app):
    with app.app_context(), db.engine.connect() as conn:
        opts = {"compare_type": True, "include_name": migrations.include_name}
        context = MigrationContext.configure(conn, opts=opts)
        assert compare_metadata(context, db.metadata) == []


def test_downgrade_and_upgrade_again(tmp_path):
    app = create_app(base_config(tmp_path, f"sqlite:///{tmp_path / 'roundtrip.db'}"))
    migrations.enable(app)
    with app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        with db.engine.connect() as conn:
            tables = (
                conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type='table' AND name != 'alembic_version'"
                )
                .scalars()
                .all()
            )
        assert tables == []
        flask_migrate.upgrade()
        db.engine.dispose()


def test_serving_does_not_load_the_migration_toolkit(tmp_path):
    """A served app never imports Alembic (10 MiB a process, with Mako and Pygments)."""
    script = (
        "import sys; from portal import create_app; "
        f"create_app({{'SECRET_KEY': 'x', 'SQLALCHEMY_DATABASE_URI': 'sqlite:///{tmp_path / 'x.db'}'}}); "
        "print(sorted(m for m in ('alembic', 'flask_migrate', 'mako', 'pygments') if m in sys.modules))"
    )
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "[]"


def test_flask_db_loads_flask_migrate_when_called(tmp_path):
    app = create_app(base_config(tmp_path, f"sqlite:///{tmp_path / 'cli.db'}"))
    assert "migrate" not in app.extensions
    runner = app.test_cli_runner()
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert "migrate" in app.extensions
    head = ScriptDirectory(str(ROOT / "migrations")).get_current_head()
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT version_num FROM alembic_version")) == head
        db.engine.dispose()
