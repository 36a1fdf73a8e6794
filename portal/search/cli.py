"""`flask search reindex`: build the search index again from the items (after a restore from
an older backup, say; the writes keep it up to date themselves)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.core.extensions import db
from portal.search.index import rebuild

search_cli = AppGroup("search", help="The full-text search index.")


@search_cli.command("reindex")
def reindex_command() -> None:
    """Rebuild the whole index in one transaction."""
    with db.engine.begin() as conn:
        n = rebuild(conn)
    click.echo(f"search index rebuilt for {n} items")
