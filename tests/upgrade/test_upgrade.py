"""Upgrades: a database made by an earlier release, carrying the demo and the seed notice, is
upgraded by `flask db upgrade` of this one, verifies, and serves its pages.

Each release named below is a commit that landed (CI passed) at the end of a session; its own
code, taken from git, builds the database with its own migrations and demo loader.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.core.extensions import db
from portal.demo.cli import demo_password
from tests.conftest import base_config
from tests.helpers import Client

ROOT = Path(__file__).resolve().parents[2]
#: commit -> what it was; the newest is the previous release
RELEASES = {
    "f9ad4fe": "session of 2026-12-01 evening (migrations up to 0015)",
    "24a81be": "session of 2026-12-01 night (migrations up to 0017)",
}


def _head(migrations: Path) -> str:
    return sorted(p.stem for p in (migrations / "versions").glob("0*.py"))[-1]


def _flask(cwd: Path, env: dict, *args: str) -> str:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, (
        f"flask {' '.join(args)} in {cwd}:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    )
    return done.stdout


def _database(test_database, tmp_path: Path) -> str:
    if test_database.kind == "sqlite":
        return f"sqlite:///{tmp_path / 'upgrade.db'}"
    url = sa.engine.make_url(test_database.url)
    name = f"{url.database}_upgrade"
    admin = sa.create_engine(test_database.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.mark.timeout(900)
@pytest.mark.parametrize("release", list(RELEASES))
def test_a_database_made_by_an_earlier_release_upgrades(release, test_database, tmp_path):
    old = tmp_path / "release"
    old.mkdir()
    archive = subprocess.run(  # noqa: S603
        ["git", "-C", str(ROOT), "archive", "--format=tar", release],  # noqa: S607
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(old, filter="data")
    url = _database(test_database, tmp_path)
    instance = tmp_path / "instance"
    env = {
        **os.environ,
        "RECTIFY_CONFIG": "development",
        "SECRET_KEY": "upgrade-test",
        "DATABASE_URL": url,
        "EVIDENCE_DIR": str(instance / "evidence"),
        "AUDIT_CHECKPOINT_KEY_FILE": str(tmp_path / "keys" / "checkpoint.key"),
        "AUDIT_CHECKPOINT_DIR": str(instance / "checkpoints"),
        "TASKS_DB": str(instance / "tasks.sqlite3"),
        "REDIS_URL": "",
    }
    earlier = {**env, "PYTHONPATH": str(old)}
    # the release's own code, not this checkout's
    where = subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import portal; print(portal.__file__)"],
        cwd=old,
        env=earlier,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(old)), where
    _flask(old, earlier, "db", "upgrade")
    _flask(old, earlier, "demo", "load")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT version_num FROM alembic_version")) == _head(old / "migrations")
        items_before = conn.scalar(sa.text("SELECT count(*) FROM items"))
    assert items_before > 0

    _flask(ROOT, env, "db", "upgrade")
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT version_num FROM alembic_version")) == _head(ROOT / "migrations")
        assert conn.scalar(sa.text("SELECT count(*) FROM items")) == items_before
    engine.dispose()
    verified = _flask(ROOT, env, "audit", "verify")
    assert "OK" in verified or "ok" in verified.lower(), verified

    config = base_config(tmp_path / "now", url)
    config.update(
        EVIDENCE_DIR=env["EVIDENCE_DIR"],
        AUDIT_CHECKPOINT_KEY_FILE=env["AUDIT_CHECKPOINT_KEY_FILE"],
        AUDIT_CHECKPOINT_DIR=env["AUDIT_CHECKPOINT_DIR"],
    )
    app = create_app(config)
    app.test_client_class = Client
    try:
        client = app.test_client()
        assert client.login("office", demo_password("office")).status_code == 302
        with app.app_context():
            item_id = db.session.scalar(sa.text("SELECT min(id) FROM items"))
        for path in ("/", f"/items/{item_id}", "/dashboard", "/public/"):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
