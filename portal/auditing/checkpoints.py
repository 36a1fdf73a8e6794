"""Signing the chain's head: what `flask audit checkpoint` and the worker's periodic task do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app

from portal.audit.chain import load_checkpoint_key, verify_chain, write_checkpoint
from portal.core.database import read_only


class BrokenChain(RuntimeError):
    """The chain does not verify: a checkpoint would sign a tampered head."""


def signed_checkpoint(out_file: str | None = None) -> tuple[Path, dict[str, Any]]:
    """Verify the chain, then write a signed checkpoint of its head (to AUDIT_CHECKPOINT_DIR
    unless `out_file` is given); the key is created on first use, outside the database."""
    key = load_checkpoint_key(current_app.config["AUDIT_CHECKPOINT_KEY_FILE"], create=True)
    with read_only():
        result = verify_chain()
        if not result.ok:
            raise BrokenChain(
                f"refusing to checkpoint a broken chain (first bad seq {result.bad_seq}: {result.problem})"
            )
        return write_checkpoint(current_app.config["AUDIT_CHECKPOINT_DIR"], key, out_file)
