"""With REDIS_URL set, rate limits live in Redis and so hold across worker processes."""

import pytest

from portal import create_app
from tests.conftest import base_config
from tests.feedback.test_feedback import give
from tests.helpers import TEST_REDIS_URL, redis_or_skip

REDIS_URL = TEST_REDIS_URL


@pytest.fixture
def redis_db():
    client = redis_or_skip(REDIS_URL)
    yield client
    client.flushdb()


def test_limits_are_shared_through_redis(app, world, redis_db, tmp_path, monkeypatch):
    from tests.helpers import Client

    item_id = world.new_item(state="completed")
    world.fire("leader_resp", item_id, "publish")
    target = {"item": item_id, "inspection": world.inspections["single"]}
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    workers = []
    for _ in range(2):  # two workers of one deployment, sharing the database and Redis
        worker = create_app(
            {
                **base_config(tmp_path, app.config["SQLALCHEMY_DATABASE_URI"]),
                "FEEDBACK_RATE_LIMIT": "2 per minute",
            }
        )
        worker.test_client_class = Client
        assert worker.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
        workers.append(worker.test_client())
    assert give(workers[0], target).status_code == 201
    assert give(workers[1], target).status_code == 201
    assert give(workers[0], target).status_code == 429  # the other worker's request counted
    assert list(redis_db.scan_iter("LIMITS*"))  # the counters are in Redis
