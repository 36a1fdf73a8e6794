"""Worklists are the declared ones, each one SQL query; they agree with the policy item by item."""

from datetime import date, timedelta

import pytest

from portal.audit.chain import Actor
from portal.core import worklists
from portal.core.extensions import db
from portal.core.policy import allowed_transitions, can, has_permission
from portal.core.timeutil import today
from portal.core.transitions import fire
from portal.inspections.models import APPROVAL_DUAL, APPROVAL_SINGLE
from tests.helpers import count_statements, count_writes
from tests.world import PERSONAS
from workflows import WORKFLOWS

TODAY = date(2026, 11, 28)


@pytest.fixture
def spread(world):
    """Items in every state, with deadlines in the past, soon and later."""
    ids = {}
    for n, (policy, state, days) in enumerate(
        [
            (APPROVAL_SINGLE, "assigned", -3),
            (APPROVAL_SINGLE, "in_progress", 2),
            (APPROVAL_SINGLE, "pending_review", -1),
            (APPROVAL_DUAL, "pending_review", 5),
            (APPROVAL_SINGLE, "completed", -10),
            (APPROVAL_DUAL, "follow_up", 1),
            (APPROVAL_SINGLE, "in_progress", 30),
            (APPROVAL_SINGLE, "assigned", 0),
        ]
    ):
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
    "my_items": lambda u, i: i.state in ("assigned", "in_progress") and has_permission(u, "work", i),
    "overdue": lambda u, i: i.state in OPEN and i.deadline < TODAY and can(u, "view", i),
    "due_soon": lambda u, i: (
        i.state in OPEN and TODAY <= i.deadline <= TODAY + timedelta(days=7) and can(u, "view", i)
    ),
}


def sql_list(name, user):
    return worklists.page(name, user, TODAY, per_page=100)


def test_the_portal_has_exactly_the_declared_worklists(app):
    with app.app_context():
        declared = {w.id for wf in WORKFLOWS.values() for w in wf.worklists}
        assert set(worklists.declared()) == declared
        assert set(EXPECTATIONS) < declared


@pytest.mark.parametrize(
    "name",
    [
        "awaiting_review",
        "my_items",
        "overdue",
        "due_soon",
        "not_fixed",
        "follow_up_checks",
        "moderation_queue",
    ],
)
def test_every_declared_worklist_has_a_page_with_its_count(app, world, spread, signed_in, name):
    client = signed_in("office")
    response = client.get(f"/worklists/{name}")
    assert response.status_code == 200
    with app.app_context():
        total = worklists.count(name, world.user("office"), today())
    assert f'data-total="{total}"' in response.text


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
        before = {i.id for i in worklists.page("awaiting_review", reviewer, TODAY).items}
        assert spread[2] in before
        set_inheritance_blocked(Actor.system("test"), world.item(spread[2]), True)
        db.session.commit()
        assert spread[2] not in {i.id for i in worklists.page("awaiting_review", reviewer, TODAY).items}


def test_pagination_and_counts(app, world, spread):
    with app.app_context():
        office = world.user("office")
        # Overdue and open: the assigned item 3 days late and the pending one 1 day late.
        first = worklists.page("overdue", office, TODAY, page=1, per_page=1)
        second = worklists.page("overdue", office, TODAY, page=2, per_page=1)
        assert first.total == second.total == 2 and first.pages == 2
        assert len(first.items) == 1 and len(second.items) == 1
        assert not {i.id for i in first.items} & {i.id for i in second.items}
        assert first.items[0].deadline < second.items[0].deadline  # earliest deadline first
        # leader_resp is the responsible leader of every item in the spread: two await review,
        # four are assigned/in progress, two are late, three fall due within a week.
        counts = worklists.counts(world.user("leader_resp"), TODAY, EXPECTATIONS)
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
            worklists.page("awaiting_review", user, TODAY)  # loads the user and its roles
            statements.clear()
            worklists.page("awaiting_review", user, TODAY)
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
            worklists.counts(world.user("leader_resp"), TODAY, worklists.declared())
        assert writes == []


def test_a_request_counts_each_worklist_once_until_it_writes(app, world, spread):
    """The menu's badge and the home page's list share one COUNT; the next request asks none
    until something is written; a write counts afresh, within the request too."""
    with app.test_request_context("/"), count_statements(db.engine) as statements:
        office = world.user("office")
        assert worklists.count("overdue", office, TODAY) == 2
        assert sum("count(" in s.lower() for s in statements) == 1
        asked = len(statements)
        assert worklists.page("overdue", office, TODAY).total == 2
        assert worklists.counts(office, TODAY, ["overdue"]) == {"overdue": 2}
        assert sum("count(" in s.lower() for s in statements[asked:]) == 0  # the page's rows only
    with app.test_request_context("/"), count_statements(db.engine) as statements:
        assert worklists.count("overdue", world.user("office"), TODAY) == 2
        assert sum("count(" in s.lower() for s in statements) == 0  # kept for this state of the data
    world.fire("staff_resp", spread[6], "submit", comment="已整改")  # in progress -> pending review
    with app.test_request_context("/"), count_statements(db.engine) as statements:
        office = world.user("office")
        assert worklists.count("overdue", office, TODAY) == 2
        assert sum("count(" in s.lower() for s in statements) == 1  # the write moved the head
        # approved, the late item waiting for review is no longer overdue (written, not committed)
        fire(Actor.of(world.user("leader_resp")), world.item(spread[2]), "approve", comment="同意")
        db.session.flush()
        assert worklists.count("overdue", office, TODAY) == 1  # a write in the request: afresh
        db.session.rollback()


def test_a_published_item_joins_no_worklist_of_a_user_without_a_role_on_it(app, world):
    """Worklist guards read permissions in their own workflow's state, as transition guards do:
    publication makes an item public, not part of everyone's overdue list."""
    item_id = world.new_item(APPROVAL_SINGLE, "published", deadline=TODAY - timedelta(days=3))
    with app.app_context():
        stranger, item = world.user("staff_other"), world.item(item_id)
        assert can(stranger, "view_public", item)  # published: anyone reads its public page
        assert not can(stranger, "view", item)  # but not the internal one
        for name in worklists.declared():
            assert not worklists.contains(name, stranger, item, TODAY), name
            assert item_id not in {i.id for i in worklists.page(name, stranger, TODAY).items}, name
        assert item_id in {i.id for i in worklists.page("overdue", world.user("office"), TODAY).items}
