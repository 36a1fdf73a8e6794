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


def build_structure(actor, party_secretary) -> dict:
    """12 departments and 5 inspections of 4 categories each (inside an app context; the
    caller commits): {"departments": [id], "categories": [(inspection id, category id)]}."""
    from portal.accounts.operations import create_department
    from portal.inspections.operations import create_category, create_inspection

    departments = [create_department(actor, f"责任部门{n:02d}") for n in range(12)]
    categories = []
    for n in range(5):
        inspection = create_inspection(actor, title=f"第{n + 1}轮巡察整改", party_secretary=party_secretary)
        categories += [
            (inspection.id, create_category(actor, inspection, label=label, title=f"第{label}类问题").id)
            for label in ("一", "二", "三", "四")
        ]
    return {"departments": [d.id for d in departments], "categories": categories}
