"""The same data on SQLite (FTS5) and on PostgreSQL (tsvector with GIN): the same results.

Both databases are built here, whichever one the rest of the run uses: the same items through
the same operations, then the same searches as the office, a staff member and the public.
"""

from __future__ import annotations

import os
import random
from datetime import date, timedelta

import flask_migrate
import pytest
import sqlalchemy as sa

from portal import create_app
from portal.accounts.models import User
from portal.accounts.operations import create_department, create_user
from portal.audit.chain import Actor
from portal.core import migrations
from portal.core.extensions import db
from portal.core.transitions import fire
from portal.evidence.operations import add_evidence_note
from portal.inspections.models import RectificationItem
from portal.inspections.operations import create_category, create_inspection, create_item
from portal.search import query
from tests.conftest import TEST_PASSWORD, base_config

ADMIN_URL = os.environ.get("SEARCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
WORDS = [
    "整改",
    "台账",
    "公车",
    "制度",
    "会议",
    "纪要",
    "采购",
    "食堂",
    "资金",
    "审批",
    "PRIVATE",
    "2024年",
    "用房",
]
QUERIES = [
    "整改",
    "台账 制度",
    "公车",
    "纪要",
    "食堂采购",
    "资金审批",
    "priv",
    "2024",
    "2024年",
    "用房",
    "整改台账",
    "不存在的词",
    "Ｐｒｉｖａｔｅ",
    "年",
]


def _build() -> None:
    rng = random.Random(20261204)
    actor = Actor.system("test")
    office = create_user(
        actor, login="office", display_name="办公室", password=TEST_PASSWORD, roles=("office",)
    )
    staff = create_user(actor, login="staff", display_name="张三", password=TEST_PASSWORD, roles=("staff",))
    leader = create_user(
        actor, login="leader", display_name="李四", password=TEST_PASSWORD, roles=("leader",)
    )
    departments = [create_department(actor, name) for name in ("财务科", "办公室", "后勤科")]
    del office
    for n in range(2):
        inspection = create_inspection(actor, title=f"第{n + 1}轮巡察整改")
        category = create_category(actor, inspection, label="一", title="问题")
        for i in range(30):
            words = rng.sample(WORDS, 3)
            item = create_item(
                actor,
                inspection,
                category=category,
                number=str(i + 1),
                title="".join(words[:2]) + "问题",
                feedback_text=f"巡察发现{words[2]}方面存在不足",
                completion_summary=rng.choice(["", f"已完成{words[0]}"]),
                public_summary=rng.choice(["", f"公开：{words[1]}"]),
                responsible_leader=leader,
                staff=staff if i % 3 else None,
                department=departments[i % 3],
                deadline=date(2026, 12, 1) + timedelta(days=rng.randint(-30, 90)) if i % 4 else None,
                measures=[("一是", f"健全{rng.choice(WORDS)}机制", None)],
            )
            if i % 5 == 0:
                add_evidence_note(actor, item, f"{rng.choice(WORDS)}证明材料", public=i % 2 == 0)
            db.session.flush()
            if i % 2 == 0:
                fire(Actor.of(leader), item, "publish")
            if i % 3 == 1:
                fire(Actor.of(staff), item, "start")
    db.session.commit()


def _searches(app) -> dict:
    """Every query as each searcher: the ids found (all pages), totals and facet counts."""
    seen = {}
    with app.app_context():
        users = {u.login: u for u in db.session.scalars(sa.select(User))}
        for who in ("office", "staff", None):
            user = users.get(who) if who else None
            for q in QUERIES:
                for extra in ({}, {"state": "in_progress"}, {"sort": "newest"}, {"due_from": "2026-12-01"}):
                    search, terms, _problems = query.parse_args({"q": q, **extra}, public=user is None)
                    ids, after = [], None
                    while True:
                        page = query.results(search, terms, user, date(2026, 12, 4), after=after, per_page=7)
                        ids += [hit.item.id for hit in page.hits]
                        after = page.next_after
                        if after is None:
                            break
                    snippets = [(hit.item.id, hit.snippets) for hit in page.hits]
                    seen[who, q, tuple(extra.items())] = (ids, page.total, page.facets, snippets)
        seen["items"] = db.session.scalar(sa.select(sa.func.count(RectificationItem.id)))
    return seen


def _app(tmp_path, url):
    app = create_app(base_config(tmp_path, url))
    migrations.enable(app)
    with app.app_context():
        flask_migrate.upgrade()
        _build()
    return app


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory):
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("builds both databases itself: run once, in the SQLite leg")
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"test_search_both_{os.getpid()}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        if os.environ.get("RECTIFY_REQUIRE_REDIS") == "1":  # CI: every service is required
            raise
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    yield sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def test_sqlite_and_postgresql_find_the_same(tmp_path_factory, postgres_url):
    lite_dir, pg_dir = tmp_path_factory.mktemp("lite"), tmp_path_factory.mktemp("pg")
    lite = _searches(_app(lite_dir, f"sqlite:///{lite_dir / 'search.db'}"))
    pg_app = _app(pg_dir, postgres_url)
    try:
        pg = _searches(pg_app)
    finally:
        with pg_app.app_context():
            db.session.remove()
            db.engine.dispose()
    assert lite["items"] == pg["items"] == 60
    assert lite.keys() == pg.keys()
    for key in lite:
        assert lite[key] == pg[key], key
    # and the searches were not all empty: most queries find something, some find nothing
    found = [len(v[0]) for k, v in lite.items() if k != "items"]
    assert sum(1 for n in found if n) > len(found) // 2 and 0 in found
