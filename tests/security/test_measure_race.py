"""Concurrent measure edits: every request gets a 302 or a clear 409, never a 500, on whichever
database the suite runs on; the audit chain still verifies."""

import multiprocessing

import pytest

from portal.accounts.models import User
from portal.audit.chain import Actor, verify_chain
from portal.core.extensions import db
from portal.inspections.models import Inspection
from portal.sharing.operations import grant_local_role
from tests.conftest import TEST_PASSWORD
from tests.security.race_worker import edit_measure

EDITORS = [f"editor{n}" for n in range(8)]


@pytest.mark.timeout(240)
def test_concurrent_measure_edits_are_302_or_409(app, world, make_user, tmp_path):
    _run(app, world, make_user, tmp_path, mixed=True)


@pytest.mark.timeout(240)
def test_concurrent_edits_of_one_measure_are_302_or_409(app, world, make_user, tmp_path):
    _run(app, world, make_user, tmp_path, mixed=False)


def _run(app, world, make_user, tmp_path, mixed):
    item_id = world.new_item(state="in_progress")
    measures = [world.add_measure(item_id) for _ in range(3)]
    user_ids = [make_user(login, "staff") for login in EDITORS]
    with app.app_context():
        inspection = db.session.get(Inspection, world.inspections["single"])
        for user_id in user_ids:  # each may edit and work on the item (Editor)
            grant_local_role(Actor.system("test"), inspection, "Editor", user=db.session.get(User, user_id))
        db.session.commit()
        url = db.engine.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier, results = manager.Barrier(len(EDITORS)), manager.dict()
        workers = []
        for n, login in enumerate(EDITORS):
            posts = []
            for round_ in range(6 if mixed else 25):
                if not mixed:
                    posts.append(
                        (f"/measures/{measures[0]}/edit", {"label": "一是", "text": f"{login}{round_}"})
                    )
                    continue
                measure_id = measures[(n + round_) % len(measures)]
                posts += [
                    (f"/measures/{measure_id}/edit", {"label": "一是", "text": f"{login} 第{round_}次修改"}),
                    (f"/measures/{measure_id}/done", {"done": "y" if round_ % 2 else ""}),
                    (
                        f"/measures/{measure_id}/status",
                        {"status": "long_term", "reason": f"{login}：长期坚持"},
                    ),
                    (f"/items/{item_id}/measures", {"label": "", "text": f"{login} 新增措施{round_}"}),
                ]
            workers.append(
                ctx.Process(
                    target=edit_measure,
                    args=(
                        url,
                        str(tmp_path / f"instance-{n}"),
                        login,
                        TEST_PASSWORD,
                        posts,
                        barrier,
                        results,
                    ),
                )
            )
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=200)
        outcome = dict(results)
    assert len(outcome) == len(EDITORS), outcome
    statuses = [s for each in outcome.values() for s in each]
    assert all(isinstance(s, int) for s in statuses), outcome
    assert set(statuses) <= {302, 409}, outcome
    assert 302 in statuses
    with app.app_context():
        assert verify_chain().ok
