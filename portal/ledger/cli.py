"""`flask ledger export ID --out FILE` and `flask ledger import FILE --title TITLE`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from portal.accounts.cli import cli_actor
from portal.core.extensions import db
from portal.inspections.models import Inspection
from portal.ledger.operations import LedgerInvalid, import_ledger, ledger_items, ledger_rows, not_carried
from portal.ledger.xlsx import read_ledger, write_ledger

ledger_cli = AppGroup("ledger", help="Export and import the rectification ledger (整改台账).")


@ledger_cli.command("export")
@click.argument("inspection_id", type=int)
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False))
def export_command(inspection_id: int, out_file: str) -> None:
    """Write the ledger of an inspection as .xlsx."""
    inspection = db.session.get(Inspection, inspection_id)
    if inspection is None:
        raise click.ClickException(f"no inspection {inspection_id}")
    items = ledger_items(inspection)
    Path(out_file).write_bytes(write_ledger(inspection.title, ledger_rows(inspection, items)))
    click.echo(f"{len(items)} rows written to {out_file}")


@ledger_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--title", default="", help="Title of the new inspection (default: the sheet's).")
def import_command(file: str, title: str) -> None:
    """Create an inspection from a ledger; nothing is saved if any row has a problem."""
    with open(file, "rb") as stream:
        ledger = read_ledger(stream)
    try:
        inspection = import_ledger(cli_actor(), ledger, title)
        db.session.commit()
    except LedgerInvalid as exc:
        db.session.rollback()
        for error in exc.errors:
            click.echo(f"row {error.row} {error.column}: {error.message}", err=True)
        raise click.ClickException(f"{len(exc.errors)} problem(s); nothing was imported") from exc
    click.echo(f"imported inspection {inspection.id}: {len(ledger.rows)} items")
    skipped = not_carried(ledger)
    if skipped:
        click.echo(
            "every item begins as assigned (已交办); the reported state or 100% progress was not "
            f"taken over for row(s) {', '.join(str(r.row) for r in skipped)} (kept in the audit log)"
        )
