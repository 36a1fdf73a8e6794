"""The task queue: SQLite storage by default, Redis with REDIS_URL, and a real worker process
(`huey_consumer portal.worker.huey`) running a task on each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from huey import RedisHuey, SqliteHuey

from portal.audit.chain import checkpoint_problem, load_checkpoint_key
from portal.core.config import ConfigError, _minutes_of_day_divisor
from portal.core.queue import make_queue
from portal.worker import every_minutes
from tests.helpers import TEST_REDIS_URL, redis_or_skip

ROOT = Path(__file__).resolve().parents[2]
CONSUMER = Path(sys.executable).with_name("huey_consumer")
REDIS_URL = TEST_REDIS_URL


def test_sqlite_by_default_and_redis_when_configured(tmp_path):
    assert isinstance(make_queue({"TASKS_DB": str(tmp_path / "t.sqlite3")}), SqliteHuey)
    assert isinstance(make_queue({"TASKS_DB": "-", "REDIS_URL": REDIS_URL}), RedisHuey)


def test_periods_divide_the_day(monkeypatch):
    due = every_minutes(15)
    assert [m for m in range(60) if due(datetime(2026, 12, 1, 9, m))] == [0, 15, 30, 45]
    assert every_minutes(240)(datetime(2026, 12, 1, 8, 0)) and not every_minutes(240)(
        datetime(2026, 12, 1, 9, 0)
    )
    monkeypatch.setenv("AUDIT_CHECKPOINT_EVERY_MINUTES", "7")
    with pytest.raises(ConfigError, match="1440"):
        _minutes_of_day_divisor("AUDIT_CHECKPOINT_EVERY_MINUTES", 60)


def _worker_env(app, **settings) -> dict:
    """The environment of a worker process (and of the process that enqueues) for this test's
    database; `settings` add to it."""
    return {
        **os.environ,
        "RECTIFY_CONFIG": "testing",
        "SECRET_KEY": "worker-test",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": "",
        **settings,
    }


def _start_consumer(env) -> subprocess.Popen:
    return subprocess.Popen(
        [str(CONSUMER), "portal.worker.huey", "--workers", "1", "--worker-type", "thread"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _enqueue(env, code: str) -> subprocess.CompletedProcess:
    """Run `code` (which enqueues a task and prints its result) in a process of its own."""
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=150
    )


@pytest.mark.timeout(180)
@pytest.mark.parametrize("storage", ["sqlite", "redis"])
def test_a_real_worker_signs_a_checkpoint(app, world, tmp_path, storage):
    """The web side enqueues, a separate consumer process runs the task against the same
    database, and the checkpoint it writes verifies with the key."""
    env = _worker_env(
        app,
        AUDIT_CHECKPOINT_DIR=str(tmp_path / "checkpoints"),
        AUDIT_CHECKPOINT_KEY_FILE=str(tmp_path / "checkpoint.key"),
        TASKS_DB=str(tmp_path / "tasks.sqlite3"),
    )
    if storage == "redis":
        client = redis_or_skip(REDIS_URL)
        env["REDIS_URL"] = REDIS_URL
    consumer = _start_consumer(env)
    try:
        enqueue = _enqueue(
            env,
            "from portal.worker import write_checkpoint; "
            "print(write_checkpoint().get(blocking=True, timeout=90))",
        )
        assert enqueue.returncode == 0, enqueue.stderr
        path = Path(enqueue.stdout.strip().splitlines()[-1])
        assert path.parent == tmp_path / "checkpoints" and path.exists()
    finally:
        consumer.terminate()
        output = consumer.communicate(timeout=30)[0].decode(errors="replace")
        if storage == "redis":
            client.flushdb()
    assert "write_checkpoint" in output  # the consumer ran it, not the enqueuing process
    checkpoint = json.loads(path.read_text(encoding="utf-8"))
    key = load_checkpoint_key(tmp_path / "checkpoint.key")
    with app.app_context():
        assert checkpoint_problem(checkpoint, key, checkpoint["seq"]) is None


@pytest.mark.timeout(180)
def test_a_scheduled_pass_on_a_redis_worker_sends_mail(app, world, tmp_path):
    """A supervision pass scheduled on the queue runs in a consumer process on Redis and its
    warning reaches the responsible staff by e-mail through a real SMTP server."""
    from datetime import date, timedelta

    from aiosmtpd.controller import Controller

    from portal.accounts.operations import update_user
    from portal.audit.chain import Actor
    from portal.core.extensions import db
    from tests.feedback.test_feedback_mail import Inbox, free_port

    client = redis_or_skip(REDIS_URL)
    day = date(2026, 12, 1)
    world.new_item("single", "in_progress", deadline=day + timedelta(days=5))  # 预警
    with app.app_context():
        staff = world.user("staff_resp")
        update_user(
            Actor.system("test"), staff, display_name="李强", email="liqiang@example.cn", department=None
        )
        db.session.commit()
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    env = _worker_env(
        app,
        REDIS_URL=REDIS_URL,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp.port),
        SMTP_FROM="rectify@example.cn",
    )
    consumer = _start_consumer(env)
    try:
        enqueue = _enqueue(
            env,
            "from portal.worker import supervision_pass; "
            f"r = supervision_pass.schedule(args=('{day.isoformat()}',), delay=1); "
            "print(r.get(blocking=True, timeout=90))",
        )
        assert enqueue.returncode == 0, enqueue.stderr
        assert "'warn': 1" in enqueue.stdout
    finally:
        consumer.terminate()
        consumer.communicate(timeout=30)
        smtp.stop()
        client.flushdb()
    assert [m["To"] for m in inbox.messages] == ["liqiang@example.cn"]
    body = inbox.messages[0].get_payload(decode=True).decode("utf-8")
    assert "预警" in body and "加强科创中心产业用房管理" in body and "2026-12-06" in body


def _blocked_writes(app):
    """Hold the database's write lock (SQLite) or the warnings table (PostgreSQL), so that a
    pass stops at its first write; return the release."""
    import sqlite3

    import sqlalchemy as sa

    from portal.core.extensions import db

    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        holder = sqlite3.connect(engine.url.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        return lambda: (holder.rollback(), holder.close())
    conn = sa.create_engine(engine.url.render_as_string(hide_password=False)).connect()
    conn.exec_driver_sql("LOCK TABLE supervision_warnings, items IN EXCLUSIVE MODE")
    return lambda: (conn.rollback(), conn.close(), conn.engine.dispose())


@pytest.mark.timeout(240)
def test_a_worker_killed_mid_pass_keeps_nothing_and_the_catch_up_issues_each_warning_once(
    app, world, tmp_path
):
    """SIGKILL while the pass waits at its first write: nothing of it is kept (its transaction
    never committed), and the next hour's catch-up runs the whole pass, each warning once; a
    further catch-up finds the day's pass done."""
    import signal
    import time
    from datetime import date, timedelta

    import sqlalchemy as sa

    from portal.core.extensions import db
    from portal.notifications.models import Notification
    from portal.supervision.models import SupervisionWarning
    from portal.supervision.warnings import pass_completed

    day = date(2026, 12, 1)
    items = [world.new_item("single", "in_progress", deadline=day + timedelta(days=5)) for _ in range(3)]
    env = _worker_env(app, TASKS_DB=str(tmp_path / "tasks.sqlite3"), SUPERVISION_HOUR_UTC="0")
    log = tmp_path / "consumer.log"
    release = _blocked_writes(app)
    with open(log, "wb") as out:
        consumer = subprocess.Popen(  # noqa: S603
            [str(CONSUMER), "portal.worker.huey", "--workers", "1", "--worker-type", "thread"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        enqueue = _enqueue(env, f"from portal.worker import supervision_pass; supervision_pass('{day}')")
        assert enqueue.returncode == 0, enqueue.stderr
        deadline = time.monotonic() + 60
        while b"Executing portal.worker.supervision_pass" not in log.read_bytes():
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.1)
        time.sleep(1)  # inside the pass, waiting for the lock
        consumer.send_signal(signal.SIGKILL)
        consumer.wait(timeout=30)
    finally:
        release()
        if consumer.poll() is None:
            consumer.kill()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SupervisionWarning)) == 0
        assert not pass_completed(day)

    consumer = _start_consumer(env)
    try:
        catch_up = (
            "from portal.worker import catch_up_supervision as c; "
            "print(c('{now}').get(blocking=True, timeout=90))"
        )
        first = _enqueue(env, catch_up.format(now="2026-12-01T09:00:00+08:00"))
        assert first.returncode == 0, first.stderr
        assert "'warn': 3" in first.stdout
        again = _enqueue(env, catch_up.format(now="2026-12-01T10:00:00+08:00"))
        assert again.returncode == 0 and again.stdout.strip().splitlines()[-1] == "{}", again.stdout
        early = _enqueue(env, catch_up.format(now="2026-12-02T07:00:00+08:00"))  # before the hour
        assert early.returncode == 0 and early.stdout.strip().splitlines()[-1] == "{}", early.stdout
    finally:
        consumer.terminate()
        consumer.communicate(timeout=30)
    with app.app_context():
        warnings = db.session.execute(sa.select(SupervisionWarning.item_id, SupervisionWarning.level)).all()
        assert sorted(warnings) == sorted((i, "warn") for i in items)
        notes = db.session.execute(
            sa.select(Notification.user_id, Notification.item_id).where(Notification.kind == "warning")
        ).all()
        assert len(notes) == len(set(notes))  # nobody told twice
        assert {item for _user, item in notes} == set(items)
        assert pass_completed(day)
