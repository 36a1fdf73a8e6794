"""Backups that restore: a snapshot made while writes go on restores into an empty instance
whose audit chain verifies and whose every evidence file matches; a snapshot that does not match
its manifest, or a target that is not empty, is refused with nothing written."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.evidence.models import Evidence
from portal.evidence.operations import add_evidence_file
from portal.evidence.storage import FileStore
from portal.inspections.models import RectificationItem
from tests.conftest import base_config

PDF = b"%PDF-1.4\n% a test evidence file\n"


def _upload(app, item_id: int, n: int) -> None:
    with app.app_context():
        item = db.session.get(RectificationItem, item_id)
        add_evidence_file(
            Actor.system("test"),
            item,
            FileStore(app.config["EVIDENCE_DIR"]),
            io.BytesIO(PDF + str(n).encode()),
            f"佐证材料{n}.pdf",
            ("pdf",),
            note=f"第{n}份",
        )
        db.session.commit()


@pytest.fixture
def restore_target(test_database, tmp_path):
    """An empty instance to restore into (its own database, evidence and checkpoint folders),
    sharing the source's checkpoint key, as a restore on the same host does."""
    if test_database.kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'restored' / 'rectify.db'}"
        (tmp_path / "restored").mkdir()
    else:
        name = sa.engine.make_url(test_database.url).database + "_restore"
        admin = sa.create_engine(test_database.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        url = sa.engine.make_url(test_database.url).set(database=name).render_as_string(hide_password=False)
    config = base_config(tmp_path / "restored", url)
    config["AUDIT_CHECKPOINT_KEY_FILE"] = str(tmp_path / "keys" / "checkpoint.key")
    app = create_app(config)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_snapshot_taken_during_writes_restores_and_verifies(app, world, runner, restore_target, tmp_path):
    item_id = world.new_item(state="in_progress")
    for n in range(3):
        _upload(app, item_id, n)
    stop, written, errors = threading.Event(), [], []

    def writer():
        n = 100
        while not stop.is_set():
            try:
                _upload(app, item_id, n)
                written.append(n)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        result = runner.invoke(args=["backup", "create", str(tmp_path / "snap")])
    finally:
        stop.set()
        thread.join()
    assert errors == [] and written, (errors, written)
    assert result.exit_code == 0, result.output
    assert "snapshot written to" in result.output

    manifest = json.loads((tmp_path / "snap" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["database"] == (
        "sqlite" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") else "postgresql"
    )
    assert any(name.startswith("evidence/") for name in manifest["files"])
    assert any(name.startswith("checkpoints/") for name in manifest["files"])

    target = restore_target.test_cli_runner()
    restored = target.invoke(args=["backup", "restore", str(tmp_path / "snap")])
    assert restored.exit_code == 0, restored.output
    verified = target.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    with restore_target.app_context():
        store = FileStore(restore_target.config["EVIDENCE_DIR"])
        rows = db.session.execute(
            sa.select(Evidence.storage_key, Evidence.sha256).where(Evidence.storage_key.is_not(None))
        ).all()
        assert len(rows) >= 3
        assert all(store.sha256(key) == sha256 for key, sha256 in rows)
        head = db.session.scalar(sa.text("SELECT max(seq) FROM audit_events"))
        assert head >= manifest["checkpoint"]["seq"]
    assert f"evidence files matching their SHA-256: {len(rows)} of {len(rows)}" in restored.output


@pytest.fixture
def snapshot(app, world, runner, tmp_path):
    item_id = world.new_item(state="in_progress")
    _upload(app, item_id, 1)
    result = runner.invoke(args=["backup", "create", str(tmp_path / "snap")])
    assert result.exit_code == 0, result.output
    return tmp_path / "snap"


def _evidence_file(snapshot: Path) -> Path:
    return next(p for p in sorted((snapshot / "evidence").rglob("*")) if p.is_file())


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda s: _evidence_file(s).write_bytes(b"%PDF-1.4 forged"), "does not match its SHA-256"),
        (lambda s: _evidence_file(s).unlink(), "missing"),
        (
            lambda s: (s / "evidence" / "planted.pdf").write_bytes(PDF),
            "evidence/planted.pdf: not in the manifest",
        ),
        (lambda s: (s / "manifest.json").unlink(), "has no manifest.json"),
        (lambda s: (s / "manifest.json").write_text("{", encoding="utf-8"), "cannot be read"),
    ],
    ids=["changed", "missing", "planted", "no-manifest", "bad-manifest"],
)
def test_a_snapshot_that_does_not_match_its_manifest_is_refused(snapshot, restore_target, tamper, message):
    tamper(snapshot)
    result = restore_target.test_cli_runner().invoke(args=["backup", "restore", str(snapshot)])
    assert result.exit_code == 1 and message in result.output, result.output
    with restore_target.app_context():
        assert sa.inspect(db.engine).get_table_names() == []  # nothing restored
    assert not Path(restore_target.config["EVIDENCE_DIR"]).exists()


def test_a_target_that_is_not_empty_is_refused(snapshot, app, runner, tmp_path):
    result = runner.invoke(args=["backup", "restore", str(snapshot)])
    assert result.exit_code == 1 and "not empty" in result.output
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "file").write_text("x")
    again = runner.invoke(args=["backup", "create", str(tmp_path / "used")])
    assert again.exit_code == 1 and "is not empty" in again.output
