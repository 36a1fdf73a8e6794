"""`flask audit verify` and `flask audit checkpoint`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from portal.audit.chain import (
    checkpoint_problem,
    latest_checkpoint,
    load_checkpoint_key,
    verify_chain,
)
from portal.auditing.checkpoints import (
    BrokenChain,
    checkpoint_verified_head,
    key_location_warning,
    no_checkpoint_warning,
    signed_checkpoint,
)
from portal.auditing.integrity import IntegrityReport, verify_everything, verify_inspection
from portal.core.database import read_only
from portal.evidence.storage import FileStore

audit_cli = AppGroup("audit", help="Verify and checkpoint the audit chain.")


def _key_file() -> str:
    return current_app.config["AUDIT_CHECKPOINT_KEY_FILE"]


def _read_checkpoint(checkpoint_file: str | None) -> tuple[str | None, dict | None, bytes | None]:
    """The checkpoint to check against: the file given, else the newest in the directory."""
    try:
        if checkpoint_file:
            data = json.loads(Path(checkpoint_file).read_text(encoding="utf-8"))
            return checkpoint_file, data, load_checkpoint_key(_key_file())
        found = latest_checkpoint(current_app.config["AUDIT_CHECKPOINT_DIR"])
        if found is None:
            return None, None, None
        return str(found[0]), found[1], load_checkpoint_key(_key_file())
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read the checkpoint: {exc}") from exc


@audit_cli.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(dir_okay=False),
    help="Check the chain against this signed checkpoint file "
    "(default: the newest one in AUDIT_CHECKPOINT_DIR, if any).",
)
@click.option(
    "--inspection", "inspection_id", type=int, help="Only the events, states and evidence of this inspection."
)
@click.option("--chain-only", is_flag=True, help="Only the chain (no state replay, no evidence re-hashing).")
def verify_command(checkpoint_file: str | None, inspection_id: int | None, chain_only: bool) -> None:
    """Check the chain, replay every item's states, reconcile the stored rows with the history
    and re-hash every evidence file; then sign the head checked (a checkpoint).

    Exits 1 naming the first bad seq of the chain and every object that disagrees with its
    history. A run that checked the whole chain and found it intact writes a signed checkpoint
    of that head to AUDIT_CHECKPOINT_DIR.
    """
    source, checkpoint, key = _read_checkpoint(checkpoint_file)
    _warn_about_checkpoints(checkpoint)

    def progress(message) -> None:
        click.echo(
            f"  ... {message}" if isinstance(message, str) else f"  ... {message} events verified", err=True
        )

    with read_only():
        if chain_only:
            result = verify_chain(checkpoint, key, progress=progress)
            if not result.ok:
                _fail_chain(result.bad_seq, result.problem, result.checked)
        else:
            store = FileStore(current_app.config["EVIDENCE_DIR"])
            if inspection_id is None:
                report = verify_everything(store, progress=progress)
            else:
                report = verify_inspection(inspection_id, store)
            cp = checkpoint_problem(checkpoint, key, report.head_seq) if checkpoint else None
    if chain_only:
        _sign(result.head_seq, result.head_hash)
        click.echo(_ok_line(result.checked, result.head_seq, result.head_hash, checkpoint))
        return
    if source:
        click.echo(f"checkpoint: {source}", err=True)
    if report.scope == "all" and report.chain_intact and cp is None:
        _sign(report.head_seq, report.head_hash)
    _print_report(report, cp, checkpoint)


def _warn_about_checkpoints(checkpoint) -> None:
    """Say loudly what the checkpoints cannot catch here (on the error stream, as problems)."""
    key_warning = key_location_warning()
    if key_warning:
        click.echo(f"WARNING: {key_warning}", err=True)
    if checkpoint is None:
        click.echo(f"WARNING: {no_checkpoint_warning()}", err=True)


def _sign(head_seq: int, head_hash: str) -> None:
    """Write a checkpoint of the head just verified (never of a broken chain)."""
    try:
        written = checkpoint_verified_head(head_seq, head_hash)
    except OSError as exc:
        click.echo(f"WARNING: no checkpoint written: {exc}", err=True)
        return
    if written is not None:
        click.echo(f"checkpoint written to {written[0]}: seq {head_seq}", err=True)


def _ok_line(checked: int, head_seq: int, head_hash: str, checkpoint) -> str:
    suffix = f" and matches checkpoint seq {checkpoint['seq']}" if checkpoint else ""
    return f"OK: {checked} events, head seq {head_seq} hash {head_hash}{suffix}"


def _fail_chain(bad_seq, problem, checked) -> None:
    where = f"first bad seq: {bad_seq}" if bad_seq else "checkpoint rejected"
    click.echo(f"FAILED: {where}: {problem} ({checked} events verified before it)", err=True)
    sys.exit(1)


def _print_report(report: IntegrityReport, cp, checkpoint) -> None:
    chain = [p for p in report.problems if p.kind == "chain"]
    others = [p for p in report.problems if p.kind != "chain"]
    if report.scope == "all" and chain:
        click.echo(
            f"FAILED: first bad seq: {chain[0].seq}: {chain[0].message} "
            f"({report.events_checked} events verified before it)",
            err=True,
        )
    else:
        for p in chain:
            click.echo(f"FAILED: chain: {p.message}", err=True)
    if cp:
        where = f"first bad seq: {cp[0]}" if cp[0] else "checkpoint rejected"
        click.echo(f"FAILED: {where}: {cp[1]}", err=True)
    for p in others:
        click.echo(f"FAILED: {p.kind}: {p.message}", err=True)
    if report.problem_count > len(report.problems):
        click.echo(f"... and {report.problem_count - len(report.problems)} more problems", err=True)
    scope = "" if report.scope == "all" else f" ({report.scope})"
    click.echo(
        f"states: {report.objects_replayed} items, feedback and extension requests replayed; "
        f"rows: {report.rows_reconciled} reconciled with the history; evidence: "
        f"{report.evidence_checked} files re-hashed; {report.seconds:.1f} s{scope}"
    )
    if report.problem_count or cp:
        sys.exit(1)
    click.echo(_ok_line(report.events_checked, report.head_seq, report.head_hash, checkpoint))


@audit_cli.command("checkpoint")
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False),
    help="Where to write the signed checkpoint (default: AUDIT_CHECKPOINT_DIR).",
)
def checkpoint_command(out_file: str | None) -> None:
    """Write the chain head (seq, hash), HMAC-signed with the checkpoint key."""
    try:
        path, checkpoint = signed_checkpoint(out_file)
    except BrokenChain as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"checkpoint written to {path}: seq {checkpoint['seq']} hash {checkpoint['hash']}")
