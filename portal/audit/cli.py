"""`flask audit verify` and `flask audit checkpoint`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from portal.audit.chain import load_checkpoint_key, make_checkpoint, verify_chain
from portal.database import read_only

audit_cli = AppGroup("audit", help="Verify and checkpoint the audit chain.")


def _key_file() -> str:
    return current_app.config["AUDIT_CHECKPOINT_KEY_FILE"]


@audit_cli.command("verify")
@click.option("--checkpoint", "checkpoint_file", type=click.Path(dir_okay=False),
              help="Also check the chain against this signed checkpoint file.")
def verify_command(checkpoint_file: str | None) -> None:
    """Check seq contiguity, the hash links and every hash; exit 1 at the first bad seq."""
    checkpoint = key = None
    if checkpoint_file:
        try:
            checkpoint = json.loads(Path(checkpoint_file).read_text(encoding="utf-8"))
            key = load_checkpoint_key(_key_file())
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"cannot read the checkpoint: {exc}") from exc

    def progress(n: int) -> None:
        click.echo(f"  ... {n} events verified", err=True)

    with read_only():
        result = verify_chain(checkpoint, key, progress=progress)
    if result.ok:
        suffix = f" and matches checkpoint seq {checkpoint['seq']}" if checkpoint else ""
        click.echo(f"OK: {result.checked} events, head seq {result.head_seq} "
                   f"hash {result.head_hash}{suffix}")
        return
    where = f"first bad seq: {result.bad_seq}" if result.bad_seq else "checkpoint rejected"
    click.echo(f"FAILED: {where}: {result.problem} ({result.checked} events verified before it)",
               err=True)
    sys.exit(1)


@audit_cli.command("checkpoint")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False),
              help="Where to write the signed checkpoint (keep it outside the database).")
def checkpoint_command(out_file: str) -> None:
    """Write the chain head (seq, hash), HMAC-signed with the checkpoint key."""
    key = load_checkpoint_key(_key_file(), create=True)
    with read_only():
        result = verify_chain()
        if not result.ok:
            raise click.ClickException(
                f"refusing to checkpoint a broken chain (first bad seq {result.bad_seq}: "
                f"{result.problem})")
        checkpoint = make_checkpoint(key)
    Path(out_file).write_text(json.dumps(checkpoint, indent=2) + "\n", encoding="utf-8")
    click.echo(f"checkpoint written to {out_file}: seq {checkpoint['seq']} hash {checkpoint['hash']}")
