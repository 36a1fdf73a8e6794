"""The text a notice is known by: line endings, width and trailing spaces do not make another
notice; the migration that rehashes old imports agrees with the application."""

import hashlib
import importlib.util
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa

from portal import create_app
from portal.core import migrations
from portal.core.extensions import db
from portal.notices.operations import text_sha256
from portal.notices.text import normalise_source
from tests.conftest import base_config
from tests.notices.test_parser import NOTICE

SEED = NOTICE.read_text(encoding="utf-8")
MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0009_notice_previews.py"


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("一、标题\r\n正文\r\n", "一、标题\n正文"),  # CRLF (a textarea sent back by a browser)
        ("一、标题\r正文\r", "一、标题\n正文"),  # CR (old Mac files)
        ("一、标题\r\n\r\n正文", "一、标题\n\n正文"),  # blank lines stay
        ("（一）２０２０年１２月，ＡＢＣ", "(一)2020年12月,ABC"),  # NFKC: full-width forms
        ("标题　\n正文 \t\n", "标题\n正文"),  # trailing spaces, full-width ones too
        ("\n\n  标题\n  正文  \n\n\n", "标题\n  正文"),  # around the text; indentation kept
    ],
)
def test_normalise_source(raw, normalised):
    assert normalise_source(raw) == normalised


def test_the_same_notice_has_one_hash():
    variants = [
        SEED,
        SEED.replace("\n", "\r\n"),
        SEED.replace("\n", "\r"),
        SEED.replace("\n", "  \n") + "\n\n",
        SEED.replace(",", "，").replace("2019", "２０１９"),
    ]
    assert len({text_sha256(v) for v in variants}) == 1
    assert text_sha256(SEED) != text_sha256(SEED.replace("区委第二巡察组", "区委第三巡察组"))
    assert text_sha256(SEED) == hashlib.sha256(normalise_source(SEED).encode("utf-8")).hexdigest()


def test_the_migrations_frozen_copy_agrees():
    spec = importlib.util.spec_from_file_location("migration_0009", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    for text in (SEED, SEED.replace("\n", "\r\n"), "（一）２０２０年　\r\n", " x \r\r"):
        assert migration._normalised_sha256(text) == text_sha256(text)


def test_the_migration_rehashes_old_imports(tmp_path):
    """An import stored before 0009 (hash over the raw text) is found after the upgrade."""
    app = create_app(base_config(tmp_path, f"sqlite:///{tmp_path / 'old.db'}"))
    migrations.enable(app)
    crlf = SEED.replace("\n", "\r\n")
    with app.app_context():
        flask_migrate.upgrade(revision="0008_feedback_version")
        old_hash = hashlib.sha256(crlf.strip().encode("utf-8")).hexdigest()
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO inspections (title, source_text, source_sha256, created_at)"
                    " VALUES ('旧导入', :text, :sha, '2026-01-01 00:00:00')"
                ),
                {"text": crlf, "sha": old_hash},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO inspections (title, created_at) VALUES ('手工新建', '2026-01-01 00:00:00')"
                )
            )
        flask_migrate.upgrade(revision="0009_notice_previews")
        with db.engine.connect() as conn:
            rows = dict(conn.execute(sa.text("SELECT title, source_sha256 FROM inspections")).all())
        assert rows == {"旧导入": text_sha256(SEED), "手工新建": None}
        flask_migrate.downgrade(revision="0008_feedback_version")
        with db.engine.connect() as conn:
            old = conn.execute(sa.text("SELECT source_sha256 FROM inspections WHERE title = '旧导入'"))
            assert old.scalar() == old_hash
        db.engine.dispose()
