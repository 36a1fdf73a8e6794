"""/healthz and /readyz: cheap, never writing, telling anonymous callers only the verdict."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.audit.chain import format_time
from portal.auditing.checkpoints import signed_checkpoint
from portal.core.extensions import db
from tests.auditing.test_read_only import count_writes
from tests.conftest import base_config
from tests.helpers import TEST_REDIS_URL, redis_or_skip


@pytest.fixture
def ready(app):
    """An instance that passes every check: an evidence directory and a fresh checkpoint."""
    Path(app.config["EVIDENCE_DIR"]).mkdir(parents=True, exist_ok=True)
    with app.app_context():
        signed_checkpoint()
    return app


def _old_checkpoint(app, minutes: int, seq: int = 999_999) -> None:
    """A newer-named checkpoint file (a higher seq) made `minutes` ago."""
    made = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=minutes)
    path = Path(app.config["AUDIT_CHECKPOINT_DIR"]) / f"checkpoint-{seq:012d}-old.json"
    path.write_text(json.dumps({"seq": seq, "hash": "0" * 64, "created_at": format_time(made)}))


def test_healthz_answers_with_nothing_else_touched(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_a_ready_instance_says_so_and_tells_anonymous_callers_nothing_more(ready, client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready"}
    assert response.headers["Cache-Control"] == "no-store" and "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    ("role", "detailed"), [("admin", True), ("auditor", True), ("staff", False), ("office", False)]
)
def test_details_are_for_administrators_and_auditors(ready, login_as, role, detailed):
    body = login_as(f"{role}1", role).get("/readyz").json
    assert body["status"] == "ready"
    if detailed:
        assert set(body["checks"]) == {"database", "redis", "evidence", "checkpoint"}
        assert all(check["ok"] for check in body["checks"].values())
        assert body["checks"]["redis"]["detail"] == "not configured"
    else:
        assert "checks" not in body


def test_readiness_writes_nothing(ready, client):
    with ready.app_context():
        engine = db.engine
        events = db.session.scalar(sa.text("SELECT count(*) FROM audit_events"))
    files = sorted(Path(ready.config["AUDIT_CHECKPOINT_DIR"]).iterdir())
    with count_writes(engine) as writes:
        for _ in range(3):
            assert client.get("/readyz").status_code == 200
            assert client.get("/healthz").status_code == 200
    assert writes == []
    with ready.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM audit_events")) == events
    assert sorted(Path(ready.config["AUDIT_CHECKPOINT_DIR"]).iterdir()) == files


def _failing(admin) -> dict[str, str]:
    response = admin.get("/readyz")
    assert response.status_code == 503 and response.json["status"] == "not ready"
    return {name: c["detail"] for name, c in response.json["checks"].items() if not c["ok"]}


def test_no_checkpoint_or_an_old_one_is_not_ready(app, login_as, client):
    Path(app.config["EVIDENCE_DIR"]).mkdir(parents=True, exist_ok=True)
    assert app.test_client().get("/readyz").json == {"status": "not ready"}  # nothing more, anonymously
    admin = login_as("admin1", "admin")
    assert list(_failing(admin)) == ["checkpoint"]
    with app.app_context():
        signed_checkpoint()
    _old_checkpoint(app, minutes=app.config["READY_CHECKPOINT_MAX_AGE_MINUTES"] + 5)
    failing = _failing(admin)
    assert list(failing) == ["checkpoint"] and "minutes old" in failing["checkpoint"]


def test_a_missing_or_full_evidence_volume_is_not_ready(ready, login_as):
    admin = login_as("admin1", "admin")
    ready.config["READY_MIN_FREE_MB"] = 10**12  # more than any disk has
    failing = _failing(admin)
    assert list(failing) == ["evidence"] and "MB free" in failing["evidence"]
    ready.config["READY_MIN_FREE_MB"] = 1
    ready.config["EVIDENCE_DIR"] = str(Path(ready.config["EVIDENCE_DIR"]) / "gone")
    assert _failing(admin) == {"evidence": "the evidence directory does not exist"}


def test_redis_is_checked_when_configured(ready, login_as):
    redis_or_skip()
    admin = login_as("admin1", "admin")
    ready.config["REDIS_URL"] = TEST_REDIS_URL
    assert admin.get("/readyz").json["checks"]["redis"] == {"ok": True, "detail": "PONG"}
    ready.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    assert list(_failing(admin)) == ["redis"]


def test_an_unreachable_database_is_not_ready_and_healthz_still_answers(tmp_path):
    """A database that cannot be opened: /readyz says 503 (the other checks still run), and
    the process itself stays healthy."""
    url = f"sqlite:///{tmp_path / 'no-such-dir' / 'rectify.db'}"
    app = create_app(base_config(tmp_path, url))
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json == {"status": "not ready"}
    assert client.get("/healthz").status_code == 200
    with app.test_request_context():
        from portal.shell.health import readiness

        checks = {c.name: c for c in readiness(app.config)}
    assert not checks["database"].ok and "OperationalError" in checks["database"].detail
    assert checks["redis"].ok  # one failing check hides no other
