"""Signing the chain's head: what `flask audit checkpoint`, the worker's periodic task and every
full verification do; and the warnings a verification gives about checkpoints.

Without a checkpoint, events deleted from the end of the log, or a chain recomputed from
scratch, leave a self-consistent chain: only a signed record of an earlier head catches them.
So a verification that has checked the whole chain signs the head it checked, and says loudly
when it had no checkpoint to check against, or when the key signing them lies beside the
database (whoever can rewrite the database there can forge checkpoints too).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.audit.chain import latest_checkpoint, load_checkpoint_key, verify_chain, write_checkpoint
from portal.core.database import read_only

#: the setting that moves the key (named in the warning)
KEY_SETTING = "AUDIT_CHECKPOINT_KEY_FILE"


class BrokenChain(RuntimeError):
    """The chain does not verify: a checkpoint would sign a tampered head."""


def signed_checkpoint(out_file: str | None = None) -> tuple[Path, dict[str, Any]]:
    """Verify the chain, then write a signed checkpoint of its head (to AUDIT_CHECKPOINT_DIR
    unless `out_file` is given); the key is created on first use, outside the database."""
    key = load_checkpoint_key(current_app.config[KEY_SETTING], create=True)
    with read_only():
        result = verify_chain()
        if not result.ok:
            raise BrokenChain(
                f"refusing to checkpoint a broken chain (first bad seq {result.bad_seq}: {result.problem})"
            )
        return write_checkpoint(current_app.config["AUDIT_CHECKPOINT_DIR"], key, out_file)


def checkpoint_verified_head(head_seq: int, head_hash: str) -> tuple[Path, dict[str, Any]] | None:
    """Sign the head a verification has just found intact (the whole chain checked, and
    matching the newest checkpoint); None when there is nothing new to sign."""
    if head_seq <= 0:
        return None
    directory = current_app.config["AUDIT_CHECKPOINT_DIR"]
    newest = latest_checkpoint(directory)
    if newest is not None and (newest[1].get("seq"), newest[1].get("hash")) == (head_seq, head_hash):
        return None
    key = load_checkpoint_key(current_app.config[KEY_SETTING], create=True)
    return write_checkpoint(directory, key, head=(head_seq, head_hash))


def has_checkpoint() -> bool:
    return latest_checkpoint(current_app.config["AUDIT_CHECKPOINT_DIR"]) is not None


def no_checkpoint_warning() -> str:
    return _(
        "No signed checkpoint exists: without one, events deleted from the end of the audit log or a "
        "chain recomputed from scratch cannot be detected. A full verification whose chain check "
        "passes writes one (so do “flask audit checkpoint” and the worker); keep copies where the "
        "database's administrators cannot write."
    )


def key_beside_database() -> Path | None:
    """The checkpoint key's path when it lies in the instance folder or beside the SQLite
    database file, else None."""
    key = Path(current_app.config[KEY_SETTING]).resolve()
    if key.is_relative_to(Path(current_app.instance_path).resolve()):
        return key
    url = sa.engine.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    database = url.database if url.get_backend_name() == "sqlite" else None
    if database not in (None, "", ":memory:") and Path(database).resolve().parent == key.parent:
        return key
    return None


def key_location_warning() -> str | None:
    key = key_beside_database()
    if key is None:
        return None
    return _(
        "The checkpoint key %(path)s lies in the application's instance folder, next to the "
        "database: whoever can rewrite the database there can forge checkpoints too. Move the key "
        "to a place the database's administrators cannot reach and set %(setting)s to it.",
        path=str(key),
        setting=KEY_SETTING,
    )
