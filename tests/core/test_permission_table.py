"""One declared table: state × persona × transition → allowed, compared exactly with the engine
(the policy's list of transitions) and with the HTTP endpoint (302 when allowed, else 403)."""

import pytest

from portal.core.policy import allowed_transitions
from portal.inspections.models import APPROVAL_DUAL, APPROVAL_SINGLE
from tests.world import PERSONAS
from workflows import EXTENSION, LIFECYCLE, PUBLICATION, RECTIFICATION

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
        ("active", "withdraw"): {"office"},
        ("withdrawn", "restore"): {"office"},
    }


def manual(wf):
    return [t.id for t in wf.transitions if not t.automatic]


STATES = [(wf, s.id) for wf in (RECTIFICATION, PUBLICATION, LIFECYCLE) for s in wf.states]
#: Who still sees a withdrawn item (and gets 403 rather than 404 for what they may not do).
SEE_WITHDRAWN = {"office", "auditor"}


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
            if state == "withdrawn":
                refused = 403 if persona in SEE_WITHDRAWN else 404
            else:
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


@pytest.mark.parametrize("policy", [APPROVAL_SINGLE, APPROVAL_DUAL])
def test_a_withdrawn_item_offers_nothing_but_restore(app, world, policy):
    """Withdrawal suspends the other workflows: no persona is offered any of their steps."""
    item_id = world.new_item(policy, "in_progress")
    world.fire("office", item_id, "withdraw", comment="重复录入")
    with app.app_context():
        item = world.item(item_id)
        for persona in PERSONAS:
            offered = {t.id for t in allowed_transitions(world.user(persona), item)}
            assert offered == ({"restore"} if persona == "office" else set()), persona


# --- guard rows: measures and 双审制 ----------------------------------------------------------

#: (measure statuses of the item) -> may its workers submit it?
MEASURE_ROWS = {
    (): True,
    ("done",): True,
    ("open",): False,
    ("done", "open"): False,
    ("long_term",): True,  # 长期坚持, with a reason
    ("not_applicable",): True,  # with a reason
    ("done", "long_term", "not_applicable"): True,
}


@pytest.mark.parametrize("statuses", list(MEASURE_ROWS), ids=lambda s: "+".join(s) or "none")
def test_submit_needs_every_measure_closed(app, world, signed_in, statuses):
    item_id = world.new_item(APPROVAL_SINGLE, "in_progress")
    for status in statuses:
        world.add_measure(item_id, status, "建立长效机制" if status != "done" else "")
    allowed = MEASURE_ROWS[statuses]
    with app.app_context():
        item = world.item(item_id)
        for persona in PERSONAS:
            offered = "submit" in {t.id for t in allowed_transitions(world.user(persona), item)}
            assert offered == (allowed and persona in WORKERS), persona
    response = signed_in("staff_resp").post_form(f"/items/{item_id}/transitions/submit", {"comment": ""})
    assert response.status_code == (302 if allowed else 403)
    with app.app_context():
        assert world.item(item_id).state == ("pending_review" if allowed else "in_progress")


def test_a_long_term_measure_needs_its_reason(app, world):
    from portal.audit.chain import Actor
    from portal.core.errors import Invalid
    from portal.inspections.operations import set_measure_status

    item_id = world.new_item(APPROVAL_SINGLE, "in_progress")
    measure_id = world.add_measure(item_id)
    with app.app_context():
        from portal.core.extensions import db
        from portal.inspections.models import Measure

        measure = db.session.get(Measure, measure_id)
        for status in ("long_term", "not_applicable"):
            with pytest.raises(Invalid):
                set_measure_status(Actor.system("test"), measure, status, "  ")
        assert measure.status == "open"


def _one_person_dual_review(app, world) -> int:
    """An item under 双审制 whose responsible leader is also the party secretary: the
    operations refuse to create it, so it stands for data from before the rule."""
    import sqlalchemy as sa

    from portal.core.extensions import db
    from portal.inspections.models import RectificationItem

    item_id = world.new_item(APPROVAL_DUAL, "pending_review")
    with app.app_context():
        db.session.execute(
            sa.update(RectificationItem)
            .where(RectificationItem.id == item_id)
            .values(responsible_leader_id=world.users["secretary"])
        )
        db.session.commit()
    return item_id


def test_dual_review_by_one_person_is_refused_at_approval(app, world, signed_in):
    item_id = _one_person_dual_review(app, world)
    response = signed_in("secretary").post_form(f"/items/{item_id}/transitions/approve", {"comment": "同意"})
    assert response.status_code == 400
    assert "双审制" in response.text
    with app.app_context():
        assert world.item(item_id).state == "pending_review"


def test_dual_review_by_one_person_is_refused_when_created_or_edited(app, world):
    from portal.audit.chain import Actor
    from portal.core.errors import Invalid
    from portal.core.extensions import db
    from portal.inspections.models import Inspection, RectificationItem
    from portal.inspections.operations import create_inspection, create_item, update_document

    actor = Actor.system("test")
    dual_item_id = world.new_item(APPROVAL_DUAL, "assigned")
    world.new_item(APPROVAL_SINGLE, "assigned")
    with app.app_context():
        dual = db.session.get(Inspection, world.inspections[APPROVAL_DUAL])
        with pytest.raises(Invalid, match="双审制"):
            create_item(actor, dual, title="同一人", responsible_leader=world.user("secretary"))
        db.session.rollback()
        with pytest.raises(Invalid, match="双审制"):
            create_inspection(actor, title="无书记", approval_policy=APPROVAL_DUAL)
        db.session.rollback()
        item = db.session.get(RectificationItem, dual_item_id)
        with pytest.raises(Invalid, match="双审制"):
            update_document(actor, item, {"responsible_leader_id": world.users["secretary"]})
        db.session.rollback()
        single = db.session.get(Inspection, world.inspections[APPROVAL_SINGLE])
        with pytest.raises(Invalid, match="双审制"):
            update_document(
                actor,
                single,
                {"approval_policy": APPROVAL_DUAL, "party_secretary_id": world.users["leader_resp"]},
            )


# --- the extension workflow (延期申请) ---------------------------------------------------------

#: Who may file a request on an item, by the item's state: its staff (主办人), by field or grant.
EXTENSION_FILERS = {"assigned": {"staff_resp", "dept_editor"}, "in_progress": {"staff_resp", "dept_editor"}}


def extension_table(filer: str) -> dict[tuple[str, str], set[str]]:
    """(request state, transition) -> personas allowed: the responsible leader, then the office;
    whoever filed it may withdraw it while it is open."""
    return {
        ("requested", "leader_approve"): {"leader_resp"},
        ("requested", "reject"): {"leader_resp"},
        ("requested", "withdraw"): {filer},
        ("leader_approved", "office_approve"): {"office"},
        ("leader_approved", "reject"): {"office"},
        ("leader_approved", "withdraw"): {filer},
    }


def extension_expected(filer, state, persona):
    return {t for (s, t), who in extension_table(filer).items() if s == state and persona in who}


#: Who sees a request: the global viewers, the item's staff and leader, and who filed it.
def sees_request(filer: str) -> set[str]:
    return {
        "office",
        "auditor",
        "leader_resp",
        "leader_reviewer",
        "leader_other",
        "secretary",
        "staff_resp",
        filer,
    }


EXTENSION_STATES = [s.id for s in EXTENSION.states]


@pytest.mark.parametrize("filer", ["staff_resp", "dept_editor"])
@pytest.mark.parametrize("state", EXTENSION_STATES)
def test_extension_engine_matches_table(app, world, filer, state):
    from tests.deadlines.helpers import new_request, request

    request_id = new_request(world, state, filer)
    with app.app_context():
        obj = request(request_id)
        assert obj.extension_state == state
        for persona in PERSONAS:
            offered = {t.id for t in allowed_transitions(world.user(persona), obj)}
            assert offered == extension_expected(filer, state, persona), persona


@pytest.mark.parametrize("filer", ["staff_resp", "dept_editor"])
@pytest.mark.parametrize("state", EXTENSION_STATES)
def test_extension_http_matches_table(app, world, signed_in, filer, state):
    from tests.deadlines.helpers import new_request, request

    shared = new_request(world, state, filer)
    for persona in PERSONAS:
        client = signed_in(persona)
        for transition in manual(EXTENSION):
            allowed = transition in extension_expected(filer, state, persona)
            request_id = new_request(world, state, filer) if allowed else shared
            response = client.post_form(
                f"/extensions/{request_id}/transitions/{transition}", {"comment": "同意。"}
            )
            refused = 403 if persona in sees_request(filer) else 404
            assert response.status_code == (302 if allowed else refused), (persona, transition)
    with app.app_context():
        obj = request(shared)
        assert obj.extension_state == state
        assert obj.version == 1 + len(_extension_path(state))


def _extension_path(state):
    from tests.deadlines.helpers import PATHS

    return PATHS[state]


@pytest.mark.parametrize(("wf", "state"), STATES, ids=[s for _wf, s in STATES])
def test_who_may_file_an_extension_matches_table(app, world, signed_in, wf, state):
    """Filing (`request_extension` on the item) in each state of the item's workflows, in the
    policy and over HTTP; a refused filing writes nothing."""
    from portal.core.policy import can
    from tests.deadlines.helpers import in_days

    def filers(item):
        return EXTENSION_FILERS.get(item.state, set()) if item.lifecycle_state == "active" else set()

    shared = world.new_item(APPROVAL_SINGLE, state, deadline=in_days(30))
    with app.app_context():
        item = world.item(shared)
        allowed_personas = filers(item)
        for persona in PERSONAS:
            assert can(world.user(persona), "request_extension", item) == (persona in allowed_personas), (
                persona
            )
    form = {"proposed_deadline": in_days(60).isoformat(), "reason": "协调预算", "progress_note": "已完成方案"}
    for persona in PERSONAS:
        allowed = persona in allowed_personas
        item_id = world.new_item(APPROVAL_SINGLE, state, deadline=in_days(30)) if allowed else shared
        response = signed_in(persona).post_form(f"/items/{item_id}/extensions", form)
        if allowed:
            refused = None
        elif state == "withdrawn":
            refused = 403 if persona in SEE_WITHDRAWN else 404
        else:
            refused = 403 if persona in CAN_SEE or state == "published" else 404
        assert response.status_code == (302 if allowed else refused), persona
    with app.app_context():
        from portal.deadlines.models import ExtensionRequest

        assert not db_rows(ExtensionRequest, shared)


def db_rows(model, item_id):
    import sqlalchemy as sa

    from portal.core.extensions import db

    return db.session.scalars(sa.select(model).where(model.item_id == item_id)).all()
