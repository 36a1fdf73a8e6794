"""The schema migrations (Flask-Migrate over Alembic), loaded only where they are used.

Alembic, with the Mako and Pygments it brings, is about 10 MiB in every process that imports
it, and serving pages or running tasks never migrates. So the app carries a `flask db` command
group that loads Flask-Migrate when one of its commands is called, and code that migrates
in-process (tests, bench scripts) calls `enable(app)` first; after that `flask_migrate.upgrade()`
and the rest work in the app's context, as usual.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import ScriptInfo

from portal.core.config import PROJECT_ROOT
from portal.core.extensions import db

DIRECTORY = PROJECT_ROOT / "migrations"


def enable(app: Flask) -> None:
    """Attach Flask-Migrate to `app`, once (batch mode for SQLite's ALTER, types compared)."""
    if "migrate" in app.extensions:
        return
    from flask_migrate import Migrate

    Migrate(render_as_batch=True, compare_type=True, include_name=include_name).init_app(
        app, db, directory=str(DIRECTORY)
    )


def include_name(name, type_, parent_names) -> bool:
    """Whether Alembic compares this schema object with the models: not what each database
    keeps for full-text search beside the models' tables (migration 0021), SQLite's FTS5 table
    with its shadow tables and PostgreSQL's tsvector column with its GIN index."""
    if type_ == "table":
        return not (name or "").startswith("search_fts")
    if type_ == "column":
        return not (parent_names.get("table_name") == "search_documents" and name == "tsv")
    if type_ == "index":
        return name != "ix_search_documents_tsv"
    return True


class MigrationCommands(click.Group):
    """`flask db …`: stands for Flask-Migrate's command group, which is loaded (and attached to
    the app) when `flask db` is called, and then parses and runs the command line itself."""

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        if parent is not None:
            enable(parent.ensure_object(ScriptInfo).load_app())
        from flask_migrate.cli import db as commands

        return commands.make_context(info_name, args, parent=parent, **extra)


def register_commands(app: Flask) -> None:
    app.cli.add_command(MigrationCommands("db", help="Perform database migrations (Flask-Migrate)."))
