"""The net under forms and operations: what the database refuses becomes a clear 400 or 409
(with the form shown again where the view registered one), never a 500; a fault of ours stays
a 500 and is logged."""

from datetime import datetime

import pytest
import sqlalchemy as sa

from portal.core.extensions import db
from portal.core.handlers import keep_input
from portal.inspections.models import Inspection


@pytest.fixture
def writes(app):
    """A route that writes what it is told to, bypassing every form and operation."""

    def write():
        from flask import request

        keep_input(lambda exc: (f"form again: {exc.message}", exc.status))
        kind = request.form["kind"]
        if kind == "too long":
            db.session.add(Inspection(title="长" * 301, created_at=datetime(2026, 1, 1)))
        elif kind == "nul":
            db.session.add(Inspection(title="标题\x00", created_at=datetime(2026, 1, 1)))
        elif kind == "duplicate":
            for _ in range(2):
                db.session.add(Inspection(id=4242, title="重复", created_at=datetime(2026, 1, 1)))
                db.session.flush()
        elif kind == "no title":
            db.session.add(Inspection(title=None, created_at=datetime(2026, 1, 1)))
        db.session.commit()
        return "saved"

    app.add_url_rule("/test-writes", "test_writes", write, methods=["POST"])
    return app


def test_a_value_the_database_refuses_is_a_400_with_the_form_again(writes, client):
    response = client.post_form("/test-writes", {"kind": "too long"})
    assert response.status_code == 400 and response.text.startswith("form again: 您输入的内容无法保存")
    with writes.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Inspection)) == 0


def test_nul_is_stored_on_sqlite_and_refused_with_a_400_on_postgresql(writes, client):
    response = client.post_form("/test-writes", {"kind": "nul"})
    with writes.app_context():
        postgresql = db.engine.dialect.name == "postgresql"
    if postgresql:
        assert response.status_code == 400 and response.text.startswith("form again: 您输入的内容无法保存")
    else:  # SQLite stores NUL; the forms refuse it before it gets here (tests/security)
        assert response.status_code == 200


def test_a_key_taken_meanwhile_is_a_409(writes, client):
    response = client.post_form("/test-writes", {"kind": "duplicate"})
    assert response.status_code == 409 and response.text.startswith("form again: 该内容已被他人修改")


def test_a_fault_of_ours_stays_a_500(writes, client):
    response = client.post_form("/test-writes", {"kind": "no title"})
    assert response.status_code == 500 and "Traceback" not in response.text
