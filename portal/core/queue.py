"""The task queue (Huey): background work — checkpoints now, warnings and mail next — never a
thread or a loop written by hand.

Huey is small, well kept and has the two storages this project needs behind one API: SQLite
(the embedded default: a file beside the database, no extra service, one worker host) and
Redis (when `REDIS_URL` is set: workers on any number of hosts). Celery would bring a broker
and far more machinery than a daily pass and a few mails need; RQ has no embedded storage.
The worker is `huey_consumer portal.worker.huey` (`make worker`). Instead of a worker, cron
can run the same work as commands (`flask audit checkpoint`, the supervision pass).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey

QUEUE_NAME = "rectify"


def make_queue(config: Mapping[str, Any]) -> Huey:
    """The queue the configuration asks for: Redis when `REDIS_URL` is set, else SQLite."""
    immediate = bool(config.get("TASKS_IMMEDIATE"))  # tests: run tasks at once, in memory
    redis_url = (config.get("REDIS_URL") or "").strip()
    if redis_url:
        return RedisHuey(QUEUE_NAME, url=redis_url, immediate=immediate)
    return SqliteHuey(QUEUE_NAME, filename=config["TASKS_DB"], immediate=immediate)
