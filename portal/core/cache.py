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
from typing import TypeVar

from portal.core.extensions import cache

log = logging.getLogger(__name__)
T = TypeVar("T")
#: how long an entry may stay unread (entries of older generations are simply never read)
TIMEOUT_SECONDS = 15 * 60


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
