"""Shared by the benches: an empty, migrated database of the kind asked for."""

from __future__ import annotations

import flask_migrate
import sqlalchemy as sa


def recreate_postgres_database(url: str) -> None:
    """Drop and create the database named at the end of `url` (never the test database)."""
    admin = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        name = url.rsplit("/", 1)[1]
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()


def migrated_app(url: str, instance: str):
    """An app on `url`, migrated to the head revision (PostgreSQL databases are recreated)."""
    from portal import create_app

    if url.startswith("postgresql"):
        recreate_postgres_database(url)
    app = create_app(
        {
            "CONFIG": "testing",
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": instance,
            "SQLALCHEMY_DATABASE_URI": url,
        }
    )
    with app.app_context():
        flask_migrate.upgrade()
    return app
