"""Worker for the two-process SQLite test: read a counter, then write it back plus one."""

from __future__ import annotations

import contextlib
import threading
import time

import sqlalchemy as sa

from portal.core.database import configure_sqlite_engine, set_write_intent


def bump_counter(url: str, immediate: bool, barrier, results, name: str) -> None:
    engine = sa.create_engine(url)
    configure_sqlite_engine(engine, busy_timeout_ms=5000)
    set_write_intent(immediate)
    try:
        with engine.begin() as conn:
            value = conn.execute(sa.text("SELECT n FROM counter")).scalar_one()
            # Both readers hold their snapshot before either writes (the racy case); with
            # IMMEDIATE the second worker is still waiting in BEGIN, so the wait times out.
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=1.0)
            time.sleep(0.1)
            conn.execute(sa.text("UPDATE counter SET n = :n"), {"n": value + 1})
        results[name] = "ok"
    except sa.exc.OperationalError as exc:
        results[name] = str(exc.orig)
    finally:
        engine.dispose()
