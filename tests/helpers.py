"""Test helpers: a test client that knows how to fetch CSRF tokens and sign in."""

from __future__ import annotations

import re
from contextlib import contextmanager

import sqlalchemy as sa
from flask.testing import FlaskClient

from portal.core.extensions import db

_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Client(FlaskClient):
    """FlaskClient with CSRF-aware form posting."""

    _cached_token: str | None = None

    def csrf_token(self, path: str = "/") -> str:
        page = self.get(path)
        match = _CSRF_META.search(page.get_data(as_text=True))
        assert match, f"no CSRF token on {path} ({page.status_code})"
        return match.group(1)

    def post_form(self, path: str, data: dict | None = None, **kwargs):
        """POST `data` with a valid CSRF token (fetched once per signed-in session)."""
        if self._cached_token is None:
            self._cached_token = self.csrf_token()
        return self.post(path, data={**(data or {}), "csrf_token": self._cached_token}, **kwargs)

    def login(self, login: str, password: str, **kwargs):
        self._cached_token = None
        response = self.post_form("/login", {"login": login, "password": password}, **kwargs)
        self._cached_token = None  # signing in starts a new session with a new token
        return response

    def logout(self):
        response = self.post_form("/logout")
        self._cached_token = None
        return response

    def session_cookie(self) -> str | None:
        cookie = self.get_cookie("rectify_session")
        return cookie.value if cookie else None

    def replace_session_cookie(self, value: str) -> None:
        self.set_cookie("rectify_session", value)


def count_rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def audit_actions(app) -> list[str]:
    from portal.audit.models import AuditEvent

    with app.app_context():
        return db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.seq)).all()


@contextmanager
def _statements(engine, keep=lambda _statement: True):
    """The SQL statements sent through `engine` inside the block that `keep` accepts, in order."""
    seen: list[str] = []

    def before_cursor_execute(_conn, _cursor, statement, *_args):
        if keep(statement):
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", before_cursor_execute)


def count_statements(engine):
    """Every SQL statement sent through `engine` inside the block, in order."""
    return _statements(engine)


def render_every_time(app) -> None:
    """Pages rendered for each request rather than served from the page caches
    (portal.core.http_cache): what a page's statements or cost are measured on."""
    app.config.update(PUBLIC_PAGE_CACHE=False, PRIVATE_PAGE_CACHE=False)


def count_writes(engine):
    """Count INSERT/UPDATE/DELETE statements sent through `engine` inside the block."""

    def is_write(statement: str) -> bool:
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        return verb in {"INSERT", "UPDATE", "DELETE", "REPLACE", "TRUNCATE"}

    return _statements(engine, is_write)


#: The Redis database the tests may flush (CI gives each database's run its own).
TEST_REDIS_URL = __import__("os").environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_or_skip(url: str = TEST_REDIS_URL):
    """A client of the test Redis, flushed; skip without one, except where CI requires it
    (RECTIFY_REQUIRE_REDIS=1 turns the missing service into a failure)."""
    import os

    import pytest
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("RECTIFY_REQUIRE_REDIS") == "1":
            raise
        pytest.skip(f"no Redis at {url} (CI sets RECTIFY_REQUIRE_REDIS=1: there it fails)")
    client.flushdb()
    return client


def examples(sqlite: int) -> int:
    """How many Hypothesis examples a property test over the database runs: `sqlite` on the
    embedded database, a third of them on PostgreSQL, where each example (a world built row by
    row over the network, then every query of the table) costs several times more. The SQL the
    examples exercise is the same; the PostgreSQL run keeps the whole CI under its 30 minutes."""
    import os

    on_postgres = os.environ.get("DATABASE_URL", "").startswith("postgres")
    return max(1, sqlite // 3) if on_postgres else sqlite
