"""Models and migrations agree, and the migrations run down and up again."""

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal import create_app
from portal.core.extensions import db
from tests.conftest import base_config


def test_models_match_migrations(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_downgrade_and_upgrade_again(tmp_path):
    app = create_app(base_config(tmp_path, f"sqlite:///{tmp_path / 'roundtrip.db'}"))
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
