"""`flask deploy check`: every unsafe setting of this installation, before it goes live.

Run it with the environment the server will have (the same variables, the same
`RECTIFY_CONFIG`): it prints one `UNSAFE:` line per problem and exits 1, or prints `OK` and
exits 0. It reads settings only; it opens no connection.

The worker count is gunicorn's: `WEB_CONCURRENCY` (which gunicorn reads as its default) or
`-w N` / `--workers N` in `GUNICORN_CMD_ARGS`. Pass `--workers N` when the count is given on
gunicorn's command line instead.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from portal.core.config import MFA_ROLES_IN_PRODUCTION

deploy_cli = AppGroup("deploy", help="Check an installation before it goes live.")

#: Werkzeug's scrypt default (n=2**15); below it, password hashes are cheaper to crack
_SCRYPT_DEFAULT_N = 2**15
_MIN_SECRET_LENGTH = 32


def gunicorn_workers(environ: Mapping[str, str]) -> int:
    """The worker count gunicorn will start with, from the environment (1 when not given)."""
    count = 1
    raw = (environ.get("WEB_CONCURRENCY") or "").strip()
    if raw.isdigit():
        count = int(raw)
    try:
        args = shlex.split(environ.get("GUNICORN_CMD_ARGS") or "")
    except ValueError:
        args = []
    for i, arg in enumerate(args):
        value = None
        if arg in ("-w", "--workers") and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--workers="):
            value = arg.split("=", 1)[1]
        elif re.fullmatch(r"-w\d+", arg):
            value = arg[2:]
        if value and value.isdigit():
            count = int(value)
    return count


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _sqlite_file(url: str) -> Path | None:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _weak_hash_method(method: str) -> bool:
    parts = method.split(":")
    if parts[0] == "scrypt" and len(parts) > 1:
        return parts[1].isdigit() and int(parts[1]) < _SCRYPT_DEFAULT_N
    if parts[0] == "pbkdf2" and len(parts) > 2:
        return parts[2].isdigit() and int(parts[2]) < 600_000
    return parts[0] not in ("scrypt", "pbkdf2")


def unsafe_settings(
    app: Flask, environ: Mapping[str, str] | None = None, workers: int | None = None
) -> list[str]:
    """Every unsafe setting of `app` under `environ` (the process environment by default)."""
    environ = os.environ if environ is None else environ
    config = app.config
    problems: list[str] = []

    if not config.get("PRODUCTION"):
        problems.append(
            f"the {config.get('NAME', '?')!r} configuration is running, not the production "
            "configuration (set RECTIFY_CONFIG=production)"
        )
    if (
        app.debug
        or config.get("DEBUG")
        or (environ.get("FLASK_DEBUG") or "").strip().lower() in ("1", "true")
    ):
        problems.append("debug mode is on (it shows tracebacks and runs code on request): unset FLASK_DEBUG")
    if config.get("TESTING"):
        problems.append("TESTING is on")

    secret = (environ.get("SECRET_KEY") or "").strip()
    if not secret:
        problems.append(
            "SECRET_KEY does not come from the environment (a key file in the instance folder "
            "travels with backups of it): set SECRET_KEY"
        )
    elif len(secret) < _MIN_SECRET_LENGTH:
        problems.append(f"SECRET_KEY is shorter than {_MIN_SECRET_LENGTH} characters")

    key_file = Path(config.get("AUDIT_CHECKPOINT_KEY_FILE") or Path(app.instance_path) / "checkpoint.key")
    database = _sqlite_file(config.get("SQLALCHEMY_DATABASE_URI") or "")
    if _inside(key_file, Path(app.instance_path)):
        problems.append(
            f"AUDIT_CHECKPOINT_KEY_FILE ({key_file}) is inside the instance folder, next to the "
            "database: whoever can rewrite the database could sign forged checkpoints. Keep the "
            "key where the database's administrators cannot read it"
        )
    elif database is not None and _inside(key_file, database.parent):
        problems.append(
            f"AUDIT_CHECKPOINT_KEY_FILE ({key_file}) is next to the SQLite database ({database}): "
            "keep the key where the database's administrators cannot read it"
        )

    workers = gunicorn_workers(environ) if workers is None else workers
    if workers > 1 and database is not None:
        problems.append(
            f"SQLite with {workers} workers (WEB_CONCURRENCY / GUNICORN_CMD_ARGS): use PostgreSQL "
            "(DATABASE_URL) for several workers"
        )
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if workers > 1 and storage.startswith("memory://"):
        problems.append(
            f"rate limits are kept in each worker's memory with {workers} workers, so each "
            "worker counts alone: set REDIS_URL"
        )
    if not config.get("RATELIMIT_ENABLED", True):
        problems.append("rate limits are off (RATELIMIT_ENABLED)")

    insecure = [name for name in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE") if not config.get(name)]
    if insecure:
        problems.append(f"cookies are not Secure ({', '.join(insecure)}): they would travel over plain HTTP")
    if not config.get("SESSION_COOKIE_HTTPONLY"):
        problems.append("the session cookie is readable by scripts (SESSION_COOKIE_HTTPONLY)")
    if not config.get("HSTS_SECONDS"):
        problems.append("HSTS is off (HSTS_SECONDS): browsers may reach the site over plain HTTP")

    required = set(config.get("MFA_REQUIRED_ROLES") or ())
    missing = [role for role in MFA_ROLES_IN_PRODUCTION if role not in required]
    if missing:
        problems.append(
            f"MFA (two-step verification) is not required for: {', '.join(missing)} (MFA_REQUIRED_ROLES)"
        )
    if config.get("DEMO_ALLOWED"):
        problems.append(
            "the demo loader is allowed (`flask demo load` creates accounts with known passwords)"
        )
    if _weak_hash_method(str(config.get("PASSWORD_HASH_METHOD") or "scrypt")):
        problems.append(f"passwords are hashed with a reduced work factor ({config['PASSWORD_HASH_METHOD']})")
    return problems


@deploy_cli.command("check")
@click.option(
    "--workers", type=int, default=None, help="gunicorn's worker count, when not in the environment."
)
def check_command(workers):
    """List every unsafe setting; exit 1 if there is any, else print OK."""
    problems = unsafe_settings(current_app, workers=workers)
    for problem in problems:
        click.echo(f"UNSAFE: {problem}")
    if problems:
        click.echo(f"{len(problems)} unsafe setting(s) found.")
        raise SystemExit(1)
    click.echo("OK: no unsafe setting found.")
