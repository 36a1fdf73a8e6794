"""`flask supervise run`: one supervision pass (what the worker runs every morning)."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.core.timeutil import today as portal_today
from portal.supervision.levels import BY_ID
from portal.supervision.warnings import run_pass

supervise_cli = AppGroup("supervise", help="Supervision (督办): deadline warnings, follow-up checks.")


def supervise(day: date | None = None):
    """Run and commit one pass for `day` (default: today in the portal's time zone)."""
    result = run_pass(Actor.system("supervision"), day or portal_today())
    db.session.commit()
    return result


@supervise_cli.command("run")
@click.option("--today", "day", type=click.DateTime(formats=["%Y-%m-%d"]), help="The day to run for.")
def run_command(day) -> None:
    """Issue the warnings due today, once each, and move the items whose follow-up check (回头看)
    is due (safe to run again, or twice at once)."""
    result = supervise(day.date() if day else None)
    for level_id, count in result.issued.items():
        level = BY_ID[level_id]
        click.echo(f"{level.title_zh} ({level.title_en}): {count}")
    click.echo(f"回头看 (follow-up checks due): {result.follow_ups}")
    click.echo(f"warnings issued: {result.total}")
