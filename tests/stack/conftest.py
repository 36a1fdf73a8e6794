"""The production stack (tests/stack/launch.py) for the journeys over HTTP: started once per
run, on PostgreSQL (`STACK_DATABASE_URL`, its own database) and Redis (`STACK_REDIS_URL`, its
own db), whatever database the rest of the suite runs on. .ci/run runs it in one of its two
legs only. Locally it skips when PostgreSQL or Redis is not there; with
RECTIFY_REQUIRE_REDIS=1 (CI) that is a failure."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from tests.feedback.test_feedback_mail import Inbox, free_port
from tests.helpers import redis_or_skip
from tests.stack.launch import production_stack

DATABASE_URL = os.environ.get("STACK_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test_stack")
REDIS_URL = os.environ.get("STACK_REDIS_URL", "redis://127.0.0.1:6379/12")


def _postgres_or_skip() -> None:
    engine = sa.create_engine(DATABASE_URL.rsplit("/", 1)[0] + "/postgres")
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        if os.environ.get("RECTIFY_REQUIRE_REDIS") == "1":
            pytest.fail(f"PostgreSQL is required for the production stack: {exc}")
        pytest.skip(f"PostgreSQL not reachable for the production stack: {exc}")
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def smtp():
    """A real SMTP server the stack's worker sends to."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory, smtp):
    _postgres_or_skip()
    redis_or_skip(REDIS_URL)
    with production_stack(
        tmp_path_factory.mktemp("stack"),
        DATABASE_URL,
        REDIS_URL,
        web_workers=3,
        extra_env={"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port), "SMTP_FROM": "rectify@example.cn"},
    ) as running:
        yield running
