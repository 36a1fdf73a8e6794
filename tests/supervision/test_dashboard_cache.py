"""The dashboard's figures are computed once per state of the data, user, day and choice: any
committed write (a new item, a grant) shows at once; Redis shares them between processes; a
cache that fails costs only the computation."""

from __future__ import annotations

import pickle
import re
from datetime import timedelta

import pytest

import portal.supervision.dashboard as figures
from portal import create_app
from portal.audit.chain import Actor
from portal.core.config import cache_settings
from portal.core.extensions import cache, db
from portal.core.timeutil import today
from portal.inspections.models import APPROVAL_SINGLE, Category
from portal.sharing.operations import grant_local_role
from tests.conftest import base_config
from tests.helpers import TEST_REDIS_URL, redis_or_skip
from tests.supervision.test_dashboard import ITEMS, new_item


@pytest.fixture
def computations(monkeypatch):
    """The (user id, inspection) of each computation the dashboard actually runs."""
    runs = []
    compute = figures.compute

    def counted(user, day, inspection_id, limit):
        runs.append((user.id, inspection_id))
        return compute(user, day, inspection_id, limit)

    monkeypatch.setattr(figures, "compute", counted)
    return runs


def test_the_figures_are_computed_once_per_state_of_the_data(app, world, computations):
    for row in ITEMS[:5]:
        new_item(world, *row)
    with app.app_context():
        office, day = world.user("office"), today()
        first = figures.dashboard(office, day)
        assert figures.dashboard(office, day) == first and len(computations) == 1
        figures.dashboard(office, day, world.inspections[APPROVAL_SINGLE])  # another choice
        figures.dashboard(world.user("leader_resp"), day)  # another user
        figures.dashboard(office, day + timedelta(days=1))  # another day: other levels
        assert len(computations) == 4
    new_item(world, APPROVAL_SINGLE, "in_progress", -2, "财务科")  # a committed write
    with app.app_context():
        after = figures.dashboard(world.user("office"), today())
    assert len(computations) == 5 and after.total == first.total + 1
    assert after.overdue_count == first.overdue_count + 1


def test_a_new_grant_widens_a_leaders_dashboard_at_once(app, world):
    for row in ITEMS[:3]:
        new_item(world, *row)
    with app.app_context():
        assert figures.dashboard(world.user("leader_other"), today()).total == 0
        category = db.session.get(Category, world.categories[APPROVAL_SINGLE])
        grant_local_role(Actor.system("test"), category, "Reader", user=world.user("leader_other"))
        db.session.commit()
        assert figures.dashboard(world.user("leader_other"), today()).total == 3


def test_the_page_serves_what_the_figures_say_from_the_cache(app, world, signed_in, computations):
    for row in ITEMS:
        new_item(world, *row)
    client = signed_in("office")
    pages = [client.get("/dashboard") for _ in range(3)]
    assert {p.status_code for p in pages} == {200} and len(computations) == 1
    # (the first carries the sign-in message; the CSRF token carries the second it was signed in)
    assert _without_tokens(pages[1].text) == _without_tokens(pages[2].text)


def _without_tokens(page: str) -> str:
    """The page without its CSRF token (in the meta tag and in every form)."""
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    return page.replace(token, "")


def test_the_figures_keep_no_database_rows(app, world):
    for row in ITEMS:
        new_item(world, *row)
    with app.app_context():
        d = figures.compute(world.user("office"), today(), None, figures.LIST_LIMIT)
    assert d.overdue and d.inspections
    assert pickle.loads(pickle.dumps(d)) == d  # noqa: S301 (our own data: plain, so it can go to Redis and back)


def test_redis_shares_the_figures_between_processes(app, world, tmp_path, computations):
    client = redis_or_skip()
    for row in ITEMS:
        new_item(world, *row)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    apps = [
        create_app({**base_config(tmp_path / name, url), **cache_settings(TEST_REDIS_URL)}) for name in "ab"
    ]
    seen = []
    for other in apps:  # two processes' apps on the same database and the same Redis
        with other.app_context():
            seen.append(figures.dashboard(world.user("office"), today()))
            db.session.remove()
    for other in apps:
        with other.app_context():
            db.engine.dispose()
    assert len(computations) == 1 and seen[0] == seen[1]
    assert any(key.startswith(b"rectify:dashboard:") for key in client.keys("rectify:*"))


def test_a_cache_that_fails_costs_only_the_computation(app, world, tmp_path, computations):
    for row in ITEMS[:4]:
        new_item(world, *row)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    broken = create_app({**base_config(tmp_path / "c", url), **cache_settings("redis://127.0.0.1:9/0")})
    with broken.app_context():
        first = figures.dashboard(world.user("office"), today())
        second = figures.dashboard(world.user("office"), today())
        db.session.remove()
        db.engine.dispose()
    assert first == second and first.total == 4 and len(computations) == 2
    with app.app_context():
        assert cache.get("nothing-here") is None  # the fixture's app keeps its own cache
