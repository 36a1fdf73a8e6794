"""Figures that are costly to compute and change only with the data, computed once per state of
the data (the dashboard's, say).

Flask-Caching holds them: in each process by default (SimpleCache), in Redis when `REDIS_URL`
is set, so that every worker and host shares them. An entry's key carries a *generation* of the
data, which the caller reads first (for the audit chain's head: every write goes through an
operation that records its audit event in the same transaction, so any committed write moves
the head). Older entries are then never read again and expire; nothing has to be invalidated,
and no write path has to know which figures it changes. Read the generation before the data: a
write committed in between makes the entry newer than its key, never older.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple, TypeVar

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import g, has_request_context

from portal.audit.chain import appended_head
from portal.audit.models import AuditEvent
from portal.core.extensions import cache, db

log = logging.getLogger(__name__)
T = TypeVar("T")
#: how long an entry may stay unread (entries of older generations are simply never read)
TIMEOUT_SECONDS = 15 * 60


class Head(NamedTuple):
    """The audit chain's last event: the generation of the data (seq 0 for an empty chain)."""

    seq: int
    hash: str
    at: datetime | None

    @property
    def key(self) -> str:
        """What a cache key holds of it."""
        return f"{self.seq}.{self.hash[:16]}"


_EVENTS = AuditEvent.__table__
#: built once; a Core statement on the session's connection skips the ORM's per-statement work
#: (a third of the time of a page answered from the page cache)
_HEAD = sa.select(_EVENTS.c.seq, _EVENTS.c.hash, _EVENTS.c.at).order_by(_EVENTS.c.seq.desc()).limit(1)


def data_head() -> Head:
    """The audit chain's head as this session sees it, read once per request: the page caches,
    the worklist counts and the figures all key on it. A write in the request (it moves the
    head) makes the next call read it again (see request_memo)."""
    memo = request_memo()
    if memo is not None and "data_head" in memo:
        return memo["data_head"]
    row = db.session.connection().execute(_HEAD).first()
    head = Head(row.seq, row.hash, row.at) if row else Head(0, "", None)
    if memo is not None:
        memo["data_head"] = head
    return head


def request_memo() -> dict | None:
    """Values remembered for the current request alone (None outside a request), read from the
    data as it stands: forgotten when a request begins and ends (`forget_request_memo`,
    installed by the app), and whenever this session writes or rolls back.

    Ask for it before reading what is remembered: a change not yet flushed would otherwise be
    flushed by the next ORM query, after the memo was read, so it is flushed first (nothing to
    do in a read); a flush, a rollback, or events appended in bulk (past the ORM's flush) since
    the head was remembered forget everything remembered."""
    if not has_request_context():
        return None
    db.session.flush()
    memo = g.get("_request_memo")
    if memo is not None and "data_head" in memo:
        appended = appended_head()
        if appended is not None and appended[0] != memo["data_head"].seq:
            memo = None
    if memo is None:
        memo = g._request_memo = {}
    return memo


def forget_request_memo(*_args) -> None:
    g.pop("_request_memo", None)


@sa.event.listens_for(so.Session, "after_flush")
def _forget_after_a_write(_session, _context) -> None:
    if has_request_context():
        forget_request_memo()


@sa.event.listens_for(so.Session, "after_soft_rollback")
def _forget_after_a_rollback(_session, _previous_transaction) -> None:
    if has_request_context():
        forget_request_memo()


def _failures() -> tuple[type[BaseException], ...]:
    """What a failing cache raises: Redis's errors once Redis is in use (its client is imported
    with the Redis cache; not at every start otherwise, 70 ms), and OSError."""
    errors = sys.modules.get("redis.exceptions")
    return (OSError,) if errors is None else (errors.RedisError, OSError)


def computed_once(key: tuple, compute: Callable[[], T], *, timeout: int = TIMEOUT_SECONDS) -> T:
    """The value cached under `key` (which must name the generation of the data it reads), or
    `compute()`, cached. A cache that fails (Redis gone) only costs the computation."""
    name = ":".join(str(part) for part in key)
    try:
        found = cache.get(name)
    except _failures() as exc:
        log.warning("cache unavailable, computing %s: %s", key[0], exc)
        return compute()
    if found is None:
        found = compute()
        try:
            cache.set(name, found, timeout=timeout)
        except _failures() as exc:
            log.warning("cache unavailable, not keeping %s: %s", key[0], exc)
    return found
