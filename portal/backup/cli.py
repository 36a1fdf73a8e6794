"""`flask backup create DIR` and `flask backup restore DIR` (see portal.backup.snapshot)."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from portal.backup.snapshot import BackupError, create, restore
from portal.core.extensions import db
from portal.evidence.models import Evidence
from portal.evidence.storage import FileStore

backup_cli = AppGroup("backup", help="Consistent snapshots of the database, evidence and checkpoints.")


@backup_cli.command("create")
@click.argument("directory", type=click.Path(file_okay=False))
def create_command(directory: str) -> None:
    """Sign a checkpoint, then write the database, the evidence files, the checkpoints and a
    manifest of SHA-256 sums into DIRECTORY (new or empty)."""
    try:
        snapshot = create(directory)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    manifest = snapshot.manifest
    click.echo(
        f"snapshot written to {snapshot.directory}: {manifest['database']} database at migration "
        f"{manifest['migration']}, audit chain signed at seq {manifest['checkpoint']['seq']}, "
        f"{len(manifest['files'])} files in the manifest"
    )


@backup_cli.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
def restore_command(directory: str) -> None:
    """Check DIRECTORY against its manifest, then restore it into this empty instance and
    check every evidence file against its recorded SHA-256."""
    from flask import current_app

    try:
        snapshot = restore(directory)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    store = FileStore(current_app.config["EVIDENCE_DIR"])
    rows = db.session.execute(
        sa.select(Evidence.id, Evidence.storage_key, Evidence.sha256).where(Evidence.storage_key.is_not(None))
    ).all()
    bad = [row.id for row in rows if store.sha256(row.storage_key) != row.sha256]
    click.echo(
        f"restored {snapshot.manifest['database']} snapshot of {snapshot.manifest['created_at']} "
        f"(audit chain signed at seq {snapshot.manifest['checkpoint']['seq']}); "
        f"evidence files matching their SHA-256: {len(rows) - len(bad)} of {len(rows)}"
    )
    if bad:
        raise click.ClickException(f"evidence files missing or changed: {bad}")
    click.echo("next: flask audit verify")
