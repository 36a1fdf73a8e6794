"""Worklists are SQL queries; they agree with the policy evaluated item by item."""

from datetime import date, timedelta

import pytest

from portal.audit.chain import Actor
from portal.extensions import db
from portal.inspections.models import APPROVAL_DUAL, APPROVAL_SINGLE
from portal.workflow import worklists
from portal.workflow.policy import allowed_transitions, can, has_permission
from tests.helpers import count_writes
from tests.world import PERSONAS

TODAY = date(2026, 11, 28)


@pytest.fixture
def spread(world):
    """Items in every state, with deadlines in the past, soon and later."""
    ids = {}
    for n, (policy, state, days) in enumerate([
        (APPROVAL_SINGLE, "assigned", -3), (APPROVAL_SINGLE, "in_progress", 2),
        (APPROVAL_SINGLE, "pending_review", -1), (APPROVAL_DUAL, "pending_review", 5),
        (APPROVAL_SINGLE, "completed", -10), (APPROVAL_DUAL, "follow_up", 1),
        (APPROVAL_SINGLE, "in_progress", 30), (APPROVAL_SINGLE, "assigned", 0),
    ]):
        ids[n] = world.new_item(policy, state, deadline=TODAY + timedelta(days=days))
    return ids


def python_filter(world, persona, keep):
    from portal.inspections.models import RectificationItem

    user = world.user(persona)
    items = db.session.scalars(db.select(RectificationItem).order_by(RectificationItem.id)).all()
    return {i.id for i in items if keep(user, i)}


OPEN = ("assigned", "in_progress", "pending_review")
EXPECTATIONS = {
    "awaiting_review": lambda u, i: "approve" in {t.id for t in allowed_transitions(u, i)},
    "my_items": lambda u, i: i.state in ("assigned", "in_progress")
    and has_permission(u, "work", i),
    "overdue": lambda u, i: i.state in OPEN and i.deadline < TODAY and can(u, "view", i),
    "due_soon": lambda u, i: i.state in OPEN and TODAY <= i.deadline <= TODAY + timedelta(days=7)
    and can(u, "view", i),
}


def sql_list(name, user):
    if name == "awaiting_review":
        return worklists.awaiting_my_review(user, per_page=100)
    if name == "my_items":
        return worklists.my_items(user, per_page=100)
    if name == "overdue":
        return worklists.overdue(user, TODAY, per_page=100)
    return worklists.due_within(user, 7, TODAY, per_page=100)


@pytest.mark.parametrize("name", list(EXPECTATIONS))
def test_sql_worklists_agree_with_the_policy(app, world, spread, name):
    with app.app_context():
        for persona in PERSONAS:
            page = sql_list(name, world.user(persona))
            expected = python_filter(world, persona, EXPECTATIONS[name])
            assert {i.id for i in page.items} == expected, (name, persona)
            assert page.total == len(expected)


def test_worklists_see_through_blocked_inheritance(app, world, spread):
    from portal.sharing.operations import set_inheritance_blocked

    with app.app_context():
        reviewer = world.user("leader_reviewer")
        before = {i.id for i in worklists.awaiting_my_review(reviewer).items}
        assert spread[2] in before
        set_inheritance_blocked(Actor.system("test"), world.item(spread[2]), True)
        db.session.commit()
        assert spread[2] not in {i.id for i in worklists.awaiting_my_review(reviewer).items}


def test_pagination_and_counts(app, world, spread):
    with app.app_context():
        office = world.user("office")
        # Overdue and open: the assigned item 3 days late and the pending one 1 day late.
        first = worklists.overdue(office, TODAY, page=1, per_page=1)
        second = worklists.overdue(office, TODAY, page=2, per_page=1)
        assert first.total == second.total == 2 and first.pages == 2
        assert len(first.items) == 1 and len(second.items) == 1
        assert not {i.id for i in first.items} & {i.id for i in second.items}
        assert first.items[0].deadline < second.items[0].deadline  # earliest deadline first
        # leader_resp is the responsible leader of every item in the spread: two await review,
        # four are assigned/in progress, two are late, three fall due within a week.
        counts = worklists.counts(world.user("leader_resp"), TODAY)
        assert counts == {"awaiting_review": 2, "my_items": 4, "overdue": 2, "due_soon": 3}


def test_worklists_run_a_constant_number_of_queries(app, world, spread):
    """Each worklist costs the same number of statements whatever the number of items."""
    with app.app_context():
        engine = db.engine
        statements = []

        def count(*_args):
            statements.append(1)

        import sqlalchemy as sa

        def measure() -> int:
            user = world.user("leader_resp")
            worklists.awaiting_my_review(user)  # loads the user and its roles
            statements.clear()
            worklists.awaiting_my_review(user)
            measured = len(statements)
            db.session.rollback()  # end our transaction: other sessions write items below
            return measured

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            few = measure()
            for _ in range(5):
                world.new_item(APPROVAL_SINGLE, "pending_review")
            assert measure() == few == 3  # one count, one page, the page's inspections
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        with count_writes(engine) as writes:
            worklists.counts(world.user("leader_resp"), TODAY)
        assert writes == []
