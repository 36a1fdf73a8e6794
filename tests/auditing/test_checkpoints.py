"""Checkpoints written by every full verification, and the warnings about them: none yet (a
truncated or recomputed chain cannot be caught), or a key beside the database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.audit.chain import Actor, chain_head, latest_checkpoint, record_event
from portal.audit.models import AuditEvent
from portal.core.extensions import db
from portal.demo.cli import demo_password
from tests.audit.tampering import delete_from, edit_payload, recompute_chain

NO_CHECKPOINT = "No signed checkpoint exists"


@pytest.fixture
def app(demo_app):
    return demo_app


@pytest.fixture
def auditor(app, client):
    assert client.login("auditor", demo_password("auditor")).status_code == 302
    return client


def checkpoints(app) -> list[Path]:
    return sorted(Path(app.config["AUDIT_CHECKPOINT_DIR"]).glob("checkpoint-*.json"))


def head(app) -> tuple[int, str]:
    with app.app_context():
        return chain_head()


def test_the_command_warns_without_a_checkpoint_then_writes_one(app, runner):
    assert checkpoints(app) == []
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"WARNING: {NO_CHECKPOINT}" in result.output
    [written] = checkpoints(app)
    seq, head_hash = head(app)
    assert (
        json.loads(written.read_text())["seq"] == seq and json.loads(written.read_text())["hash"] == head_hash
    )
    assert f"checkpoint written to {written}: seq {seq}" in result.output
    again = runner.invoke(args=["audit", "verify"])
    assert again.exit_code == 0 and NO_CHECKPOINT not in again.output
    assert f"matches checkpoint seq {seq}" in again.output
    assert checkpoints(app) == [written]  # nothing new to sign


def test_the_automatic_checkpoint_catches_a_truncated_chain(app, runner):
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    seq, _hash = head(app)
    with app.app_context():
        delete_from(seq - 2)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"events {seq - 2}..{seq} were removed" in result.output
    assert len(checkpoints(app)) == 1  # a broken chain is never signed


def test_the_automatic_checkpoint_catches_a_recomputed_chain(app, runner):
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    with app.app_context():
        edit_payload(3, '{"login":"someone-else"}')
        recompute_chain()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "rewritten" in result.output
    assert len(checkpoints(app)) == 1


def test_state_problems_do_not_stop_the_head_being_signed(app, runner):
    """The chain is intact: its head is signed, so that the events cannot be removed later."""
    from portal.inspections.models import RectificationItem

    with app.app_context():
        db.session.execute(sa.update(RectificationItem).where(RectificationItem.id == 1).values(title="改"))
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "FAILED: row: item:1" in result.output
    assert len(checkpoints(app)) == 1


def test_chain_only_and_one_inspection(app, runner):
    result = runner.invoke(args=["audit", "verify", "--inspection", "1"])
    assert result.exit_code == 0 and NO_CHECKPOINT in result.output
    assert checkpoints(app) == []  # one inspection's check does not read the whole chain
    result = runner.invoke(args=["audit", "verify", "--chain-only"])
    assert result.exit_code == 0 and len(checkpoints(app)) == 1


def test_a_key_in_the_instance_folder_is_warned_about(app, runner):
    app.config["AUDIT_CHECKPOINT_KEY_FILE"] = str(Path(app.instance_path) / "checkpoint.key")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    assert "WARNING: The checkpoint key" in result.output and "AUDIT_CHECKPOINT_KEY_FILE" in result.output


def test_a_key_beside_the_sqlite_file_is_warned_about(app, runner):
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        pytest.skip("a PostgreSQL database has no file to lie beside")
    app.config["AUDIT_CHECKPOINT_KEY_FILE"] = str(Path(url.database).parent / "checkpoint.key")
    result = runner.invoke(args=["audit", "verify"])
    assert "WARNING: The checkpoint key" in result.output


def test_a_key_elsewhere_is_not(app, runner):
    result = runner.invoke(args=["audit", "verify"])
    assert "The checkpoint key" not in result.output


# --- the verification page ------------------------------------------------------------------


def test_the_page_warns_without_a_checkpoint_and_the_run_writes_one(app, auditor):
    body = auditor.get("/audit/verify").get_data(as_text=True)
    assert body.count("data-checkpoint-warning") == 1
    assert "没有已签名的检查点" in body
    response = auditor.post_form("/audit/verify", {"scope": "all"}, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "核验通过" in body and "已写入序号" in body
    [written] = checkpoints(app)
    with app.app_context():
        verified = db.session.scalar(sa.select(sa.func.max(AuditEvent.seq))) - 1  # before audit.verify
    assert json.loads(written.read_text())["seq"] == verified
    assert "data-checkpoint-warning" not in body
    assert 'id="rows-reconciled"' in body


def test_the_page_warns_about_a_key_beside_the_database(app, auditor):
    app.config["AUDIT_CHECKPOINT_KEY_FILE"] = str(Path(app.instance_path) / "checkpoint.key")
    body = auditor.get("/audit/verify").get_data(as_text=True)
    assert body.count("data-checkpoint-warning") == 2
    assert "AUDIT_CHECKPOINT_KEY_FILE" in body


def test_one_inspection_from_the_page_writes_no_checkpoint(app, auditor):
    auditor.post_form("/audit/verify", {"scope": "1"})
    assert checkpoints(app) == []


def test_the_page_signs_nothing_over_a_broken_chain(app, auditor, runner):
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    with app.app_context():
        record_event(Actor.system("test"), "test.event", "item", 1, {})
        db.session.commit()
        seq = chain_head()[0]
        db.session.rollback()  # end the read before another connection writes
        edit_payload(seq, '{"x":1}')
    auditor.post_form("/audit/verify", {"scope": "all"})
    assert len(checkpoints(app)) == 1
    with app.app_context():
        assert latest_checkpoint(app.config["AUDIT_CHECKPOINT_DIR"]) is not None
