"""One consistent snapshot of an instance, and its restoration into an empty one.

A snapshot directory holds:

- `database.sqlite3` (SQLite's online backup API: one read transaction, so one moment) or
  `database.pgdump` (`pg_dump --format=custom`, which reads one snapshot of the database);
- `evidence/…`: the evidence files, as the store keeps them (by random id);
- `checkpoints/…`: the signed checkpoints, the newest one signed just before the database was
  read (so the snapshot's chain reaches at least as far as the checkpoint it carries);
- `manifest.json`: the format, when, which database and migration, the chain head signed, and
  the size and SHA-256 of every other file.

Order matters for consistency while writes go on: the checkpoint is signed first, then the
database is read, then the files are copied. An evidence file is written before its row is
committed, so every row in the snapshot finds its file; files uploaded later are copied too and
are harmless orphans. The checkpoint key is never copied: it stays apart from the data (restore
on a host that has it, or verify without the checkpoint).

`restore` refuses a snapshot whose files do not match its manifest (missing, changed, or not
listed), and a target that is not empty; it writes nothing before every check has passed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from portal.audit.chain import format_time, utcnow
from portal.auditing.checkpoints import signed_checkpoint
from portal.core.extensions import db

FORMAT = "rectify-backup/1"
MANIFEST = "manifest.json"
DUMPS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}


class BackupError(RuntimeError):
    """A snapshot that cannot be made or restored; the message says why."""


@dataclass(frozen=True)
class Snapshot:
    directory: Path
    manifest: dict


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _dialect() -> str:
    return db.engine.dialect.name


def _libpq(url: sa.engine.URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string for pg_dump/pg_restore, the password in the environment."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{args[0]} failed: {done.stderr.strip()[-2000:]}")


def _revision() -> str | None:
    try:
        return db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
    finally:
        db.session.rollback()


def _copy_tree(source: Path, target: Path) -> None:
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        if path.is_file():
            out = target / path.relative_to(source)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, out)


def create(directory: str | os.PathLike) -> Snapshot:
    """Write one consistent snapshot of this instance into `directory` (new or empty)."""
    out = Path(directory)
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"{out} is not empty: a snapshot goes into a new or empty directory")
    out.mkdir(parents=True, exist_ok=True)
    config = current_app.config
    _path, checkpoint = signed_checkpoint()  # first: the database read next reaches at least this far
    kind = _dialect()
    dump = out / DUMPS[kind]
    if kind == "sqlite":
        source = sqlite3.connect(db.engine.url.database)
        target = sqlite3.connect(dump)
        try:
            with target:
                source.backup(target)  # all pages in one step: one read transaction, one moment
        finally:
            target.close()
            source.close()
    else:
        url, env = _libpq(db.engine.url)
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(dump), url], env)
    _copy_tree(Path(config["EVIDENCE_DIR"]), out / "evidence")
    _copy_tree(Path(config["AUDIT_CHECKPOINT_DIR"]), out / "checkpoints")
    files = {
        str(path.relative_to(out)): {"size": path.stat().st_size, "sha256": _sha256(path)}
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }
    manifest = {
        "format": FORMAT,
        "created_at": format_time(utcnow()),
        "database": kind,
        "migration": _revision(),
        "checkpoint": {"seq": checkpoint["seq"], "hash": checkpoint["hash"]},
        "files": files,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return Snapshot(out, manifest)


def check(directory: str | os.PathLike) -> Snapshot:
    """The snapshot in `directory` if every file matches its manifest; else BackupError."""
    source = Path(directory)
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{source} has no {MANIFEST}: not a snapshot") from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"{MANIFEST} cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{MANIFEST} is not a {FORMAT} manifest")
    listed = manifest.get("files")
    if not isinstance(listed, dict) or manifest.get("database") not in DUMPS:
        raise BackupError(f"{MANIFEST} is incomplete")
    if DUMPS[manifest["database"]] not in listed:
        raise BackupError(f"the database dump {DUMPS[manifest['database']]} is not in the manifest")
    present = {str(p.relative_to(source)) for p in source.rglob("*") if p.is_file()} - {MANIFEST}
    problems = [f"{name}: not in the manifest" for name in sorted(present - set(listed))]
    for name, expected in sorted(listed.items()):
        path = source / name
        if name not in present:
            problems.append(f"{name}: missing")
        elif path.stat().st_size != expected.get("size") or _sha256(path) != expected.get("sha256"):
            problems.append(f"{name}: does not match its SHA-256 in the manifest")
    if problems:
        raise BackupError("the snapshot does not match its manifest:\n  " + "\n  ".join(problems))
    return Snapshot(source, manifest)


def _database_is_empty() -> bool:
    return not sa.inspect(db.engine).get_table_names()


def restore(directory: str | os.PathLike) -> Snapshot:
    """Restore the snapshot in `directory` into this instance, which must be empty (no tables,
    no evidence files). Everything is checked before anything is written."""
    snapshot = check(directory)
    kind, config = snapshot.manifest["database"], current_app.config
    if kind != _dialect():
        raise BackupError(f"this snapshot is of a {kind} database; this instance runs on {_dialect()}")
    if not _database_is_empty():
        raise BackupError("the target database is not empty: restore into a new, empty database")
    evidence = Path(config["EVIDENCE_DIR"])
    if evidence.is_dir() and any(p.is_file() for p in evidence.rglob("*")):
        raise BackupError(f"the evidence directory {evidence} is not empty")
    dump = snapshot.directory / DUMPS[kind]
    db.session.remove()
    db.engine.dispose()
    if kind == "sqlite":
        source = sqlite3.connect(dump)
        target = sqlite3.connect(db.engine.url.database)
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        url, env = _libpq(db.engine.url)
        _run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                "--dbname",
                url,
                str(dump),
            ],
            env,
        )
    _copy_tree(snapshot.directory / "evidence", evidence)
    checkpoints = Path(config["AUDIT_CHECKPOINT_DIR"])
    for path in sorted((snapshot.directory / "checkpoints").glob("*")):
        if path.is_file() and not (checkpoints / path.name).exists():
            checkpoints.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, checkpoints / path.name)
    return snapshot
