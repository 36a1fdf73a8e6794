"""Engine behaviour: SQLite pragmas and IMMEDIATE write transactions; write intent per request.

SQLite's default DEFERRED transaction starts as a reader and upgrades to a writer on its first
write. When two connections do that at once, one of them cannot upgrade without breaking the
other's snapshot and fails at once with "database is locked" - the busy timeout does not help.
Beginning write transactions with BEGIN IMMEDIATE takes the write lock up front, so a second
writer simply waits (up to the busy timeout) instead of failing. Read-only requests keep
DEFERRED transactions so that readers never queue behind each other under WAL.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine

_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=True)


def write_intent() -> bool:
    """Return whether transactions begun now should take the write lock up front."""
    return _write_intent.get()


def set_write_intent(value: bool) -> contextvars.Token:
    """Set the write intent for this context; return a token for `reset_write_intent`."""
    return _write_intent.set(value)


def reset_write_intent(token: contextvars.Token) -> None:
    _write_intent.reset(token)


@contextlib.contextmanager
def read_only() -> Iterator[None]:
    """Begin transactions inside this block as DEFERRED (readers)."""
    token = set_write_intent(False)
    try:
        yield
    finally:
        reset_write_intent(token)


def configure_sqlite_engine(engine: Engine, busy_timeout_ms: int) -> None:
    """Install WAL, busy timeout, foreign keys and IMMEDIATE write transactions on `engine`."""
    in_memory = engine.url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take over transaction control from pysqlite so that we can choose the BEGIN mode.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write_intent() else "BEGIN")
