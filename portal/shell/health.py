"""Liveness and readiness for load balancers and monitoring: `/healthz` and `/readyz`.

`/healthz` answers as long as the process serves requests; it touches nothing else.
`/readyz` says whether this instance can do its work: the database answers, Redis answers (when
`REDIS_URL` is set: rate limits, the cache and the queue live there), the evidence directory
exists, is writable and has room (`READY_MIN_FREE_MB`), and the newest signed checkpoint of the
audit chain is recent (`READY_CHECKPOINT_MAX_AGE_MINUTES`; an old one means the worker that
signs them has stopped). 200 when every check passes, else 503.

Both are cheap (one `SELECT 1`, one PING, two `stat`s, one directory listing and the newest
checkpoint file read), never write (no session, no audit event, no file), are exempt from rate
limits and are never cached. Anonymous callers get the verdict alone; the details (which check
failed and why) are for signed-in administrators and auditors.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify
from flask_login import current_user

from portal.core.extensions import db, limiter

bp = Blueprint("health", __name__)

#: who may read why an instance is not ready
DETAIL_ROLES = ("admin", "auditor")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/healthz")
@limiter.exempt
def healthz():
    return _no_store(jsonify(status="ok"))


@bp.route("/readyz")
@limiter.exempt
def readyz():
    checks = readiness(current_app.config)
    ready = all(c.ok for c in checks)
    body = {"status": "ready" if ready else "not ready"}
    if current_user.is_authenticated and current_user.has_role(*DETAIL_ROLES):
        body["checks"] = {c.name: {"ok": c.ok, "detail": c.detail} for c in checks}
    return _no_store(jsonify(body)), 200 if ready else 503


def readiness(config) -> list[Check]:
    """Every readiness check, each caught: one failing never hides the others."""
    checks = []
    for name, probe in (
        ("database", _database),
        ("redis", _redis),
        ("evidence", _evidence),
        ("checkpoint", _checkpoint),
    ):
        try:
            ok, detail = probe(config)
        except Exception as exc:  # noqa: BLE001 - a probe's failure is its verdict
            ok, detail = False, f"{type(exc).__name__}: {exc}"[:300]
        checks.append(Check(name, ok, detail))
    return checks


def _database(config) -> tuple[bool, str]:
    try:
        db.session.execute(sa.text("SELECT 1"))
    finally:
        db.session.rollback()
    return True, db.engine.dialect.name


def _redis(config) -> tuple[bool, str]:
    url = config.get("REDIS_URL")
    if not url:
        return True, "not configured"
    import redis

    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return True, "PONG"


def _evidence(config) -> tuple[bool, str]:
    directory = Path(config["EVIDENCE_DIR"])
    if not directory.is_dir():
        return False, "the evidence directory does not exist"
    if not os.access(directory, os.W_OK | os.X_OK):
        return False, "the evidence directory is not writable"
    free_mb = shutil.disk_usage(directory).free // (1024 * 1024)
    least = config["READY_MIN_FREE_MB"]
    if free_mb < least:
        return False, f"{free_mb} MB free, under the {least} MB required"
    return True, f"{free_mb} MB free"


def _checkpoint(config) -> tuple[bool, str]:
    newest = _newest_checkpoint(Path(config["AUDIT_CHECKPOINT_DIR"]))
    if newest is None:
        return False, "no signed checkpoint yet (is the worker running?)"
    created = datetime.fromisoformat(newest["created_at"].replace("Z", "+00:00"))
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    age = int((datetime.now(UTC) - created).total_seconds() // 60)
    limit = config["READY_CHECKPOINT_MAX_AGE_MINUTES"]
    if age > limit:
        return False, f"the newest checkpoint (seq {newest['seq']}) is {age} minutes old, over {limit}"
    return True, f"seq {newest['seq']}, {age} minutes old"


def _newest_checkpoint(directory: Path) -> dict | None:
    """The newest readable checkpoint, read alone: their names sort by seq, then time."""
    if not directory.is_dir():
        return None
    for path in sorted(directory.glob("checkpoint-*.json"), reverse=True):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if "created_at" in data and "seq" in data:
                return data
        except (OSError, ValueError):
            continue
    return None
