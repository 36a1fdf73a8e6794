"""The production stack on loopback, as docs/deploy.md runs it: `flask db upgrade`, `flask deploy
check`, gunicorn with several workers under RECTIFY_CONFIG=production, and the task-queue
worker (with its scheduler), on a PostgreSQL database and a Redis database of their own.

Used by the stack journeys (tests/stack/) and by the soak (bench/soak.py)."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def recreate_database(url: str) -> None:
    """Drop and create the PostgreSQL database named at the end of `url`."""
    admin = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        name = url.rsplit("/", 1)[1]
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()


def drop_database(url: str) -> None:
    admin = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    admin.dispose()


@dataclass
class Stack:
    base_url: str
    env: dict[str, str]
    workdir: Path
    seed: dict
    web: subprocess.Popen
    worker: subprocess.Popen
    logs: dict[str, Path] = field(default_factory=dict)

    def flask(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run a `flask` command against the stack's instance."""
        return subprocess.run(  # noqa: S603
            [str(BIN / "flask"), "--app", "app", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
            timeout=300,
        )

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace")

    def web_worker_pids(self) -> list[int]:
        """The gunicorn workers (children of the master)."""
        children = Path(f"/proc/{self.web.pid}/task/{self.web.pid}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []


def _run(args: list[str], env: dict, what: str) -> str:
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _wait_ready(url: str, proc: subprocess.Popen, log: Path, seconds: float = 20) -> None:
    deadline = time.time() + seconds
    last = ""
    while True:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except urllib.error.HTTPError as answer:
            last = f"/readyz: {answer.code} {answer.read()[:500]!r}"
        except OSError as error:
            last = f"/readyz: {error}"
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError(f"the stack did not become ready ({last}):\n{log.read_text(errors='replace')}")
        time.sleep(0.25)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def production_stack(
    workdir: Path,
    database_url: str,
    redis_url: str,
    *,
    web_workers: int = 3,
    items_per_staff: int = 4,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """Start the stack on a fresh database; yield it; stop it (the database is dropped)."""
    import redis

    workdir.mkdir(parents=True, exist_ok=True)
    for folder in ("keys", "evidence", "checkpoints"):  # made by the administrator (deploy.md)
        (workdir / folder).mkdir(exist_ok=True)
    recreate_database(database_url)
    redis.Redis.from_url(redis_url).flushdb()
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("RECTIFY_", "FLASK_"))},
        "RECTIFY_CONFIG": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "EVIDENCE_DIR": str(workdir / "evidence"),
        "AUDIT_CHECKPOINT_DIR": str(workdir / "checkpoints"),
        "AUDIT_CHECKPOINT_KEY_FILE": str(workdir / "keys" / "checkpoint.key"),
        "WEB_CONCURRENCY": str(web_workers),
        "TASKS_DB": str(workdir / "tasks.sqlite3"),  # unused with Redis; kept out of instance/
        **(extra_env or {}),
    }
    flask = [str(BIN / "flask"), "--app", "app"]
    _run([*flask, "db", "upgrade"], env, "flask db upgrade")
    _run([*flask, "audit", "checkpoint"], env, "flask audit checkpoint")
    seed = json.loads(
        _run([str(BIN / "python"), "-m", "tests.stack.seed", str(items_per_staff)], env, "seeding")
    )
    _run([*flask, "deploy", "check"], env, "flask deploy check")

    logs = {"web": workdir / "gunicorn.log", "worker": workdir / "worker.log"}
    web_log, worker_log = (open(logs[k], "wb") for k in ("web", "worker"))  # noqa: SIM115
    web = subprocess.Popen(  # noqa: S603  (the command line of docs/deploy.md's unit)
        [
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "--graceful-timeout",
            "30",
            "app:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=web_log,
        stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(  # noqa: S603  (the scheduler: workers and periodic tasks)
        [str(BIN / "huey_consumer"), "portal.worker.huey", "--workers", "2", "--worker-type", "thread"],
        cwd=ROOT,
        env=env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    stack = Stack(f"http://127.0.0.1:{port}", env, workdir, seed, web, worker, logs)
    try:
        _wait_ready(stack.base_url, web, logs["web"])
        yield stack
    finally:
        for proc in (web, worker):
            _stop(proc)
        web_log.close()
        worker_log.close()
        drop_database(database_url)
