"""Eight reviewers approve or return the same item at the same moment, each in its own process:
exactly one wins, the other seven get 409, nobody sees "database is locked", and the audit chain
still verifies. Runs on whichever database the suite runs on (a SQLite file, or PostgreSQL)."""

import multiprocessing

import pytest

from portal.accounts.models import User
from portal.audit.chain import Actor, verify_chain
from portal.core.extensions import db
from portal.core.models import WorkflowHistory
from portal.inspections.models import APPROVAL_DUAL, Category
from portal.sharing.operations import grant_local_role
from tests.conftest import TEST_PASSWORD
from tests.workflow.race_worker import review

REVIEWERS = [f"reviewer{n}" for n in range(8)]


@pytest.mark.timeout(180)
def test_eight_concurrent_reviewers(app, world, make_user, tmp_path):
    item_id = world.new_item(APPROVAL_DUAL, "pending_review")
    user_ids = [make_user(login, "leader") for login in REVIEWERS]
    with app.app_context():
        category = db.session.get(Category, world.categories[APPROVAL_DUAL])
        for user_id in user_ids:
            grant_local_role(Actor.system("test"), category, "Reviewer", user=db.session.get(User, user_id))
        db.session.commit()
        url = db.engine.url.render_as_string(hide_password=False)
        history_before = db.session.query(WorkflowHistory).count()

    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier, results = manager.Barrier(len(REVIEWERS)), manager.dict()
        workers = [
            ctx.Process(
                target=review,
                args=(
                    url,
                    str(tmp_path / f"instance-{n}"),
                    item_id,
                    login,
                    TEST_PASSWORD,
                    "approve" if n % 2 == 0 else "return",
                    barrier,
                    results,
                ),
            )
            for n, login in enumerate(REVIEWERS)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=150)
        outcome = dict(results)

    assert len(outcome) == len(REVIEWERS), outcome
    statuses = sorted(status for _t, status, _locked in outcome.values())
    assert statuses == [302] + [409] * 7, outcome
    assert not any(locked for _t, _s, locked in outcome.values())
    winner = next(t for t, status, _l in outcome.values() if status == 302)
    with app.app_context():
        item = world.item(item_id)
        assert item.state == ("pending_review" if winner == "approve" else "in_progress")
        assert db.session.query(WorkflowHistory).count() == history_before + 1
        assert verify_chain().ok
