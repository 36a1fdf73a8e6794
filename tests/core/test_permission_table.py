"""One declared table: state × persona × transition → allowed, compared exactly with the engine
(the policy's list of transitions) and with the HTTP endpoint (302 when allowed, else 403)."""

import pytest

from portal.core.policy import allowed_transitions
from portal.inspections.models import APPROVAL_DUAL, APPROVAL_SINGLE
from tests.world import PERSONAS
from workflows import PUBLICATION, RECTIFICATION

WORKERS = {"staff_resp", "dept_editor", "leader_resp"}
REVIEWERS = {"leader_resp", "leader_reviewer"}
FOLLOW_UP = {"office"} | REVIEWERS
#: Everyone but staff_other and admin sees the items (global viewers, local or derived roles).
CAN_SEE = set(PERSONAS) - {"staff_other", "admin"}


def allowed_table(policy: str) -> dict[tuple[str, str], set[str]]:
    """(state, transition) -> personas allowed. Anything not listed: nobody."""
    reviewers = REVIEWERS | ({"secretary"} if policy == APPROVAL_DUAL else set())
    follow_up = FOLLOW_UP | ({"secretary"} if policy == APPROVAL_DUAL else set())
    return {
        ("assigned", "start"): WORKERS,
        ("in_progress", "submit"): WORKERS,
        ("pending_review", "approve"): reviewers,
        ("pending_review", "return"): reviewers,
        ("completed", "schedule_follow_up"): follow_up,
        ("follow_up", "confirm"): follow_up,
        ("follow_up", "reopen"): follow_up,
        ("private", "publish"): reviewers,
        ("published", "retract"): reviewers,
    }


def manual(wf):
    return [t.id for t in wf.transitions if not t.automatic]


STATES = [(RECTIFICATION, s.id) for s in RECTIFICATION.states] + [
    (PUBLICATION, s.id) for s in PUBLICATION.states
]


def expected(policy, state, persona):
    return {t for (s, t), who in allowed_table(policy).items() if s == state and persona in who}


@pytest.mark.parametrize("policy", [APPROVAL_SINGLE, APPROVAL_DUAL])
@pytest.mark.parametrize(("wf", "state"), STATES, ids=[s for _wf, s in STATES])
def test_engine_matches_table(app, world, policy, wf, state):
    item_id = world.new_item(policy, state)
    with app.app_context():
        item = world.item(item_id)
        assert getattr(item, wf.state_attribute) == state
        for persona in PERSONAS:
            offered = {
                t.id for t in allowed_transitions(world.user(persona), item) if wf.has_transition(t.id)
            }
            assert offered == expected(policy, state, persona), persona


@pytest.mark.parametrize("policy", [APPROVAL_SINGLE, APPROVAL_DUAL])
@pytest.mark.parametrize(("wf", "state"), STATES, ids=[s for _wf, s in STATES])
def test_http_matches_table(app, world, signed_in, policy, wf, state):
    shared = world.new_item(policy, state)  # refusals change nothing, so they can share one item
    for persona in PERSONAS:
        client = signed_in(persona)
        for transition in manual(wf):
            allowed = transition in expected(policy, state, persona)
            item_id = world.new_item(policy, state) if allowed else shared
            response = client.post_form(f"/items/{item_id}/transitions/{transition}", {"comment": "同意。"})
            # Refused: 403 to those who can see the item, 404 to those it is not shared with.
            # (A published item is public: everyone sees it.)
            refused = 403 if persona in CAN_SEE or state == "published" else 404
            assert response.status_code == (302 if allowed else refused), (persona, transition)
    with app.app_context():
        item = world.item(shared)
        assert getattr(item, wf.state_attribute) == state
        assert item.version == 1 + len([p for p in _path(policy, wf, state)])


def _path(policy, wf, state):
    from tests.world import PATHS

    return [
        step for step in PATHS[state] if not (step == ("secretary", "approve") and policy == APPROVAL_SINGLE)
    ]


def test_local_role_cases(app, world):
    """A leader who is not the item's reviewer cannot approve it; blocking inheritance removes
    a category grant; a department grant reaches its members."""
    from portal.audit.chain import Actor
    from portal.core.extensions import db
    from portal.sharing.operations import set_inheritance_blocked

    item_id = world.new_item(APPROVAL_SINGLE, "pending_review")
    with app.app_context():
        item = world.item(item_id)
        ids = lambda p: {t.id for t in allowed_transitions(world.user(p), item)}  # noqa: E731
        assert "approve" not in ids("leader_other")
        assert "approve" in ids("leader_reviewer")
        set_inheritance_blocked(Actor.system("test"), item, True)
        db.session.commit()
        assert "approve" not in ids("leader_reviewer")  # the category grant no longer reaches
        assert "approve" in ids("leader_resp")  # the field-derived role does
