"""The database goes away mid-request, then comes back: a clear page (503, no traceback),
nothing half-written, and the next request works."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.core.extensions import db
from portal.core.models import WorkflowHistory


def _counts(app, item_id):
    with app.app_context():
        item_state = db.session.scalar(sa.text("SELECT state FROM items WHERE id = :i"), {"i": item_id})
        history = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(WorkflowHistory)
            .where(WorkflowHistory.object_id == item_id)
        )
        events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        return item_state, history, events


def _start(client, item_id):
    return client.post_form(f"/items/{item_id}/transitions/start", {"comment": "开始整改", "version": "1"})


def _unavailable(response):
    text = response.get_data(as_text=True)
    assert response.status_code == 503, text[:500]
    assert "暂时无法连接数据库" in text and "本次操作没有保存任何内容" in text
    assert "Traceback" not in text and "psycopg" not in text and "sqlite3" not in text
    assert response.headers["Retry-After"] == "60"


def test_postgresql_going_away_mid_transition(app, world, signed_in):
    """Every connection to the database is cut while the transition writes (an administrator's
    restart, a failover): the request gets the 503 page, the step is not half-written, and the
    next requests work on fresh connections."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL's own fault; SQLite's is below")
        engine, name = db.engine, db.engine.url.database
    item_id = world.new_item(state="assigned")
    client = signed_in("staff_resp")
    before = _counts(app, item_id)
    killer = sa.create_engine(engine.url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")

    def cut(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO WORKFLOW_HISTORY"):
            with killer.connect() as admin:
                admin.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )

    sa.event.listen(engine, "before_cursor_execute", cut)
    try:
        _unavailable(_start(client, item_id))
    finally:
        sa.event.remove(engine, "before_cursor_execute", cut)
        killer.dispose()
    assert _counts(app, item_id) == before  # nothing of the step was kept
    page = client.get(f"/items/{item_id}")
    assert page.status_code == 200  # the next request works (signed in still)
    assert _start(client, item_id).status_code == 302
    state, history, events = _counts(app, item_id)
    assert state == "in_progress" and history == before[1] + 1 and events > before[2]


def test_a_sqlite_database_file_that_goes_away_and_comes_back(app, world, signed_in):
    """The database file is out of reach (its volume gone): 503, then it is back and the
    portal works again without a restart."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's own fault; PostgreSQL's is above")
        path = Path(db.engine.url.database)
    item_id = world.new_item(state="assigned")
    client = signed_in("staff_resp")
    before = _counts(app, item_id)
    aside = path.parent.parent / "moved-away"
    client._cached_token = client.csrf_token()  # the form's token, while the database is there
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # its connections closed, as a lost volume closes them
    shutil.move(path.parent, aside)
    try:
        _unavailable(_start(client, item_id))
        _unavailable(client.get(f"/items/{item_id}"))
    finally:
        shutil.move(aside, path.parent)
    assert _counts(app, item_id) == before
    assert client.get(f"/items/{item_id}").status_code == 200
    assert _start(client, item_id).status_code == 302
    assert _counts(app, item_id)[0] == "in_progress"
