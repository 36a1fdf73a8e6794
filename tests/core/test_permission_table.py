"""One declared table: state × persona × transition → allowed, compared exactly with the engine
(the policy's list of transitions) and with the HTTP endpoint (302 when allowed, else 403)."""

from decimal import Decimal

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
        # Only inside a notice import, as the office (see test_import_transitions_only_inside_an_import):
        # on an item that exists, nobody, so that they never skip the review.
        ("assigned", "import_in_progress"): set(),
        ("assigned", "import_completed"): set(),
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
            # (Publishing exposes the public pages only: the item stays unseen internally.)
            if state == "withdrawn":
                refused = 403 if persona in SEE_WITHDRAWN else 404
            else:
                refused = 403 if persona in CAN_SEE else 404
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
            refused = 403 if persona in CAN_SEE else 404
        assert response.status_code == (302 if allowed else refused), persona
    with app.app_context():
        from portal.deadlines.models import ExtensionRequest

        assert not db_rows(ExtensionRequest, shared)


def db_rows(model, item_id):
    import sqlalchemy as sa

    from portal.core.extensions import db

    return db.session.scalars(sa.select(model).where(model.item_id == item_id)).all()


# --- fields: who may change what, per state (issue 16: field-level permissions) ----------------

#: Fields by the permission that changes them (RectificationItem.__field_permissions__).
FIELD_GROUPS = {
    "assign": (
        "category_id",
        "responsible_leader_id",
        "department_id",
        "staff_id",
        "deadline",
        "money_to_recover",
    ),
    "report": ("progress_override", "money_recovered"),
    "edit": ("title", "completion_summary"),
}
#: Who edits an item's content while it is worked on: the office and its staff (by field or grant).
CONTENT_EDITORS = {"office", "staff_resp", "dept_editor"}


def field_table() -> dict[tuple[str, str], set[str]]:
    """(state, field group) -> personas who may change those fields. Only the office assigns,
    in every state; once submitted, only the office changes anything."""
    table = {}
    for state in (s.id for s in RECTIFICATION.states):
        worked_on = state in ("assigned", "in_progress")
        table[(state, "assign")] = {"office"}
        table[(state, "report")] = CONTENT_EDITORS if worked_on else {"office"}
        table[(state, "edit")] = CONTENT_EDITORS if worked_on else {"office"}
    table[("withdrawn", "assign")] = table[("withdrawn", "report")] = table[("withdrawn", "edit")] = set()
    return table


def _changed_value(world, field: str):
    """A value of `field` that differs from the world's new item, as stored and as posted."""
    from datetime import date

    import sqlalchemy as sa

    from portal.accounts.models import Department
    from portal.core.extensions import db

    with world.app.app_context():
        finance = db.session.scalar(sa.select(Department.id).where(Department.name == "财务科"))
    values = {
        "category_id": (None, "0"),
        "responsible_leader_id": (world.users["leader_other"], str(world.users["leader_other"])),
        "department_id": (finance, str(finance)),
        "staff_id": (world.users["staff_other"], str(world.users["staff_other"])),
        "deadline": (date(2031, 6, 30), "2031-06-30"),
        "money_to_recover": (Decimal("123.45"), "123.45"),
        "progress_override": (40, "40"),
        "money_recovered": (Decimal("10.00"), "10.00"),
        "title": ("规范科创中心产业用房管理", "规范科创中心产业用房管理"),
        "completion_summary": ("已完成制度修订并印发。", "已完成制度修订并印发。"),
    }
    return values[field]


def _edit_form(item) -> dict:
    """The item's edit form as its page would post it unchanged."""
    return {
        "category_id": str(item.category_id or 0),
        "number": item.number or "",
        "title": item.title,
        "feedback_text": item.feedback_text or "",
        "responsible_leader_id": str(item.responsible_leader_id or 0),
        "department_id": str(item.department_id or 0),
        "staff_id": str(item.staff_id or 0),
        "deadline": item.deadline.isoformat() if item.deadline else "",
        "completion_summary": item.completion_summary or "",
        "money_to_recover": "" if item.money_to_recover is None else str(item.money_to_recover),
        "money_recovered": "" if item.money_recovered is None else str(item.money_recovered),
        "public_summary": item.public_summary or "",
        "progress_override": "" if item.progress_override is None else str(item.progress_override),
        "change_note": "",
        "version": str(item.version),
    }


FIELD_STATES = [s.id for s in RECTIFICATION.states] + ["withdrawn"]


@pytest.mark.parametrize("state", FIELD_STATES)
def test_fields_policy_matches_table(app, world, state):
    from portal.core.content import field_permission
    from portal.core.policy import can
    from portal.inspections.models import RectificationItem

    item_id = world.new_item(APPROVAL_SINGLE, state)
    with app.app_context():
        item = world.item(item_id)
        for group, fields in FIELD_GROUPS.items():
            assert {field_permission(RectificationItem, f) for f in fields} == {group}
            for persona in PERSONAS:
                assert can(world.user(persona), group, item) == (persona in field_table()[(state, group)]), (
                    persona,
                    group,
                )


@pytest.mark.parametrize("state", ["in_progress", "completed"])
def test_fields_http_matches_table(app, world, signed_in, state):
    """Posting the edit form with one field changed: saved where the table allows it; where the
    persona edits the item but not that field, the form does not offer the field and the post
    leaves it as it was; where the persona may not edit at all, 403 or 404. (Refusals change
    nothing, so they share one item; each allowed change gets a fresh one.)"""
    shared = world.new_item(APPROVAL_SINGLE, state)
    for group, fields in FIELD_GROUPS.items():
        for field in fields:
            stored, posted = _changed_value(world, field)
            for persona in PERSONAS:
                may_edit = persona in field_table()[(state, "edit")]
                allowed = may_edit and persona in field_table()[(state, group)]
                item_id = world.new_item(APPROVAL_SINGLE, state) if allowed else shared
                with app.app_context():
                    form = {**_edit_form(world.item(item_id)), field: posted}
                response = signed_in(persona).post_form(f"/items/{item_id}/edit", form)
                with app.app_context():
                    now = getattr(world.item(item_id), field)
                if not may_edit:
                    assert response.status_code == (403 if persona in CAN_SEE else 404), (persona, field)
                else:
                    assert response.status_code == 302, (persona, field, response.text[:300])
                assert (now == stored) == allowed, (persona, field, now)


def test_a_field_refused_by_the_operation_says_why(app, world):
    """The operation refuses too (a crafted call, a revert): nothing changes."""
    from portal.audit.chain import Actor
    from portal.core.errors import NotAllowed
    from portal.core.extensions import db
    from portal.inspections.operations import update_document

    item_id = world.new_item(APPROVAL_SINGLE, "in_progress")
    with app.app_context():
        item = world.item(item_id)
        staff = Actor.of(world.user("staff_resp"))
        with pytest.raises(NotAllowed, match="只有巡察办|inspection office"):
            update_document(staff, item, {"responsible_leader_id": world.users["leader_other"]})
        db.session.rollback()
        update_document(staff, world.item(item_id), {"money_recovered": Decimal("5.00")})  # reported: fine
        db.session.commit()
        assert world.item(item_id).responsible_leader_id == world.users["leader_resp"]


def test_the_reviewed_attack_no_longer_completes_an_item(app, world, signed_in):
    """The review's attack: the staff re-points the item at another leader, sets 100% and a
    large amount, and submits; that leader cannot approve it, and the real leader still can."""
    item_id = world.new_item(APPROVAL_SINGLE, "in_progress")
    staff = signed_in("staff_resp")
    with app.app_context():
        form = _edit_form(world.item(item_id))
    form |= {
        "responsible_leader_id": str(world.users["leader_other"]),
        "progress_override": "100",
        "money_recovered": "999999",
    }
    staff.post_form(f"/items/{item_id}/edit", form)
    assert staff.post_form(f"/items/{item_id}/transitions/submit", {"comment": ""}).status_code == 302
    with app.app_context():
        assert world.item(item_id).responsible_leader_id == world.users["leader_resp"]
    other = signed_in("leader_other").post_form(f"/items/{item_id}/transitions/approve", {"comment": "同意"})
    assert other.status_code == 403
    assert (
        signed_in("leader_resp")
        .post_form(f"/items/{item_id}/transitions/approve", {"comment": "同意"})
        .status_code
        == 302
    )


def test_the_edit_form_shows_what_the_office_sets_and_does_not_offer_it(app, world, signed_in):
    item_id = world.new_item(APPROVAL_SINGLE, "in_progress")
    page = signed_in("staff_resp").get(f"/items/{item_id}/edit")
    assert page.status_code == 200 and 'id="fixed-fields"' in page.text
    for field in FIELD_GROUPS["assign"]:
        assert f'name="{field}"' not in page.text, field
    for field in FIELD_GROUPS["report"] + FIELD_GROUPS["edit"]:
        assert f'name="{field}"' in page.text, field
    fixed = page.text.split('id="fixed-fields"')[1].split("</dl>")[0]
    with app.app_context():
        leader = world.user("leader_resp").display_name
    assert "由巡察整改办指定" in fixed and leader in fixed
    office = signed_in("office").get(f"/items/{item_id}/edit")
    assert 'id="fixed-fields"' not in office.text and 'name="responsible_leader_id"' in office.text


# --- separation of duties: nobody approves what they carry out as its staff ---------------------


def test_a_leader_who_is_the_items_staff_may_not_approve_it(app, world, signed_in):
    from portal.audit.chain import Actor
    from portal.core.extensions import db
    from portal.inspections.operations import update_document

    item_id = world.new_item(APPROVAL_SINGLE, "in_progress")
    with app.app_context():  # leader_reviewer (Reviewer through the category) is also its staff
        update_document(
            Actor.system("test"), world.item(item_id), {"staff_id": world.users["leader_reviewer"]}
        )
        db.session.commit()
    world.fire("leader_reviewer", item_id, "submit")
    with app.app_context():
        item = world.item(item_id)
        assert "approve" not in {t.id for t in allowed_transitions(world.user("leader_reviewer"), item)}
        assert "approve" in {t.id for t in allowed_transitions(world.user("leader_resp"), item)}
    response = signed_in("leader_reviewer").post_form(
        f"/items/{item_id}/transitions/approve", {"comment": "同意"}
    )
    assert response.status_code == 403
    # nor is it in their worklist of items awaiting their review
    home = signed_in("leader_reviewer").get("/")
    assert (
        f'href="/items/{item_id}"'
        not in home.text.split('data-worklist="awaiting_review"')[-1].split("</section>")[0]
    )


# --- sharing: who may grant, revoke whose grants, and block inheritance ------------------------

SHARING_STATES = ("in_progress", "completed")


def sharing_table() -> dict[tuple[str, str], set[str]]:
    """(item state, action) -> personas allowed. Sharing is for the office, the item's staff
    (while it is worked on) and its responsible leader; they remove only the grants they made;
    only the office removes other people's grants or blocks inheritance."""
    sharers = {
        "in_progress": {"office", "staff_resp", "dept_editor", "leader_resp"},
        "completed": {"office", "leader_resp"},
    }
    return {
        (state, action): who
        for state in SHARING_STATES
        for action, who in (
            ("grant", sharers[state]),
            ("revoke_own", sharers[state]),
            ("revoke_others", {"office"}),
            ("block", {"office"}),
        )
    }


def _grant_as(app, world, persona: str, item_id: int):
    """A Reader grant on the item made by `persona`, to a department nobody in the table is in
    (so that it changes no persona's view of the item)."""
    import sqlalchemy as sa

    from portal.accounts.models import Department
    from portal.accounts.operations import create_department
    from portal.audit.chain import Actor
    from portal.core.extensions import db
    from portal.sharing.operations import grant_local_role

    with app.app_context():
        outside = db.session.scalar(sa.select(Department).where(Department.name == "档案室"))
        outside = outside or create_department(Actor.system("test"), "档案室")
        grant = grant_local_role(
            Actor.of(world.user(persona)), world.item(item_id), "Reader", department=outside
        )
        db.session.commit()
        return grant.id


@pytest.mark.parametrize("state", SHARING_STATES)
def test_sharing_http_matches_table(app, world, signed_in, state):
    from portal.core.extensions import db
    from portal.core.models import LocalRole
    from portal.sharing.operations import grantable_roles

    table = sharing_table()
    for persona in PERSONAS:
        client = signed_in(persona)
        sees = persona in CAN_SEE
        refused = 403 if sees else 404
        # grant: a role the persona holds on the item (the office: any)
        item_id = world.new_item(APPROVAL_SINGLE, state)
        with app.app_context():
            roles = grantable_roles(world.user(persona), world.item(item_id))
        allowed = persona in table[(state, "grant")]
        assert bool(roles) == allowed, (persona, roles)
        response = client.post_form(
            f"/sharing/item/{item_id}",
            {"principal": f"u:{world.users['staff_other']}", "role": roles[0] if roles else "Reader"},
        )
        assert response.status_code == (302 if allowed else refused), (persona, "grant")
        # revoke a grant the persona made, then one the office made, then block inheritance
        for action, maker in (("revoke_own", persona), ("revoke_others", "office")):
            item_id = world.new_item(APPROVAL_SINGLE, state)
            grant_id = _grant_as(
                app, world, maker if action == "revoke_others" or persona != "office" else "office", item_id
            )
            if action == "revoke_others" and persona == "office":
                grant_id = _grant_as(app, world, "leader_resp", item_id)  # the office removes anyone's
            allowed = persona in table[(state, action)]
            response = client.post_form(f"/sharing/grants/{grant_id}/revoke")
            assert response.status_code == (302 if allowed else refused), (persona, action)
            with app.app_context():
                assert (db.session.get(LocalRole, grant_id) is None) == allowed, (persona, action)
        item_id = world.new_item(APPROVAL_SINGLE, state)
        allowed = persona in table[(state, "block")]
        response = client.post_form(f"/sharing/item/{item_id}/inheritance", {"blocked": "y"})
        assert response.status_code == (302 if allowed else refused), (persona, "block")
        with app.app_context():
            assert world.item(item_id).local_roles_blocked == allowed, (persona, "block")


# --- a published item: the public sees the public page only -----------------------------------


def test_publishing_exposes_the_public_pages_only(app, world, signed_in, client):
    """Everyone (and every account) reads a published item's public page and its public
    evidence; its internal page, versions and non-public evidence stay with those who see the
    item (before, any signed-in account read them once the item was published)."""
    import io

    from portal.audit.chain import Actor
    from portal.core.extensions import db
    from portal.evidence.operations import add_evidence_file
    from portal.evidence.storage import FileStore

    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    item_id = world.new_item(APPROVAL_SINGLE, "published")
    with app.app_context():
        store, actor = FileStore(app.config["EVIDENCE_DIR"]), Actor.system("test")
        private = add_evidence_file(
            actor, world.item(item_id), store, io.BytesIO(pdf), "内部.pdf", ("pdf",)
        ).id
        public = add_evidence_file(
            actor, world.item(item_id), store, io.BytesIO(pdf), "公开.pdf", ("pdf",), public=True
        ).id
        db.session.commit()
    internal = [f"/items/{item_id}", f"/versions/item/{item_id}", f"/evidence/{private}/download"]
    for persona in PERSONAS:
        session = signed_in(persona)
        for path in internal:
            status = session.get(path).status_code
            assert status == (200 if persona in CAN_SEE else 404), (persona, path, status)
        assert session.get(f"/public/items/{item_id}").status_code == 200, persona
        assert session.get(f"/public/evidence/{public}").status_code == 200, persona
        assert session.get(f"/public/evidence/{private}").status_code == 404, persona
    assert client.get(f"/public/items/{item_id}").status_code == 200
    assert client.get(f"/public/evidence/{public}").status_code == 200
    for path in internal:
        assert client.get(path).status_code in (302, 404), path  # the public is sent to sign in


# --- the import transitions: the office, inside a notice import only -------------------------

#: (transition) -> personas allowed while the item is being created by a notice import
IMPORT_TABLE = {"import_in_progress": {"office"}, "import_completed": {"office"}}


@pytest.mark.parametrize("transition", list(IMPORT_TABLE))
def test_import_transitions_only_inside_an_import(app, world, transition):
    """Inside an import (the item marked freshly imported, no step taken) the office alone is
    offered them; outside, or once the item has moved, nobody is."""
    from portal.notices.workflow import importing

    item_id = world.new_item(APPROVAL_SINGLE, "assigned")
    moved_id = world.new_item(APPROVAL_SINGLE, "in_progress")
    with app.app_context():
        item, moved = world.item(item_id), world.item(moved_id)
        with importing({item_id, moved_id}):
            for persona in PERSONAS:
                offered = {t.id for t in allowed_transitions(world.user(persona), item)}
                assert (transition in offered) == (persona in IMPORT_TABLE[transition]), persona
                assert transition not in {t.id for t in allowed_transitions(world.user(persona), moved)}
        assert transition not in {t.id for t in allowed_transitions(world.user("office"), item)}


# --- feedback: forwarding (转办) and its handling ---------------------------------------------

#: (moderation state, forwarded to 财务科?, transition) -> personas allowed. The office moderates,
#: replies and forwards; the department it was forwarded to (dept_editor is 财务科) marks it
#: handled, once. Publish, reject and spam only leave pending; nothing moves rejected or spam.
FEEDBACK_STATES = ["pending", "published", "rejected", "spam"]


def feedback_table(forwarded: bool) -> dict[tuple[str, str], set[str]]:
    open_states = ("pending", "published")
    table = {(s, "forward"): {"office"} for s in open_states}
    table |= {(s, "reply"): {"office"} for s in open_states}
    table |= {("pending", t): {"office"} for t in ("publish", "reject", "mark_spam")}
    table |= {(s, "mark_handled"): {"dept_editor"} if forwarded else set() for s in open_states}
    return table


def feedback_expected(forwarded, state, persona):
    return {t for (s, t), who in feedback_table(forwarded).items() if s == state and persona in who}


def _feedback_in(app, world, state: str, forwarded: bool) -> int:
    import sqlalchemy as sa

    from portal.accounts.models import Department
    from portal.audit.chain import Actor
    from portal.core.extensions import db
    from portal.core.transitions import fire
    from portal.feedback.operations import forward_feedback, submit_feedback

    item_id = world.new_item(state="completed")
    world.fire("leader_resp", item_id, "publish")
    with app.app_context():
        item, office = world.item(item_id), Actor.of(world.user("office"))
        feedback, _code = submit_feedback(item.inspection, item, kind="suggestion", text="请公开修订稿全文。")
        if forwarded:
            finance = db.session.scalar(sa.select(Department).where(Department.name == "财务科"))
            forward_feedback(office, feedback, finance)
        if state != "pending":
            fire(
                office,
                feedback,
                {"published": "publish", "rejected": "reject", "spam": "mark_spam"}[state],
                comment="不属于本次巡察范围。",
            )
        db.session.commit()
        return feedback.id


@pytest.mark.parametrize("forwarded", [False, True], ids=["not_forwarded", "forwarded"])
@pytest.mark.parametrize("state", FEEDBACK_STATES)
def test_feedback_engine_matches_table(app, world, state, forwarded):
    from portal.core.extensions import db
    from portal.feedback.models import Feedback

    feedback_id = _feedback_in(app, world, state, forwarded)
    with app.app_context():
        feedback = db.session.get(Feedback, feedback_id)
        for persona in PERSONAS:
            offered = {t.id for t in allowed_transitions(world.user(persona), feedback)}
            assert offered == feedback_expected(forwarded, state, persona), persona


# --- the same table through the REST API (portal.api): a write token per persona ----------------


def _api_tokens(app, world) -> dict[str, dict]:
    """Authorization headers of a write token for each persona."""
    from portal.accounts.tokens import create_token
    from portal.audit.chain import Actor
    from portal.core.extensions import db

    headers = {}
    with app.app_context():
        for persona in PERSONAS:
            user = world.user(persona)
            new = create_token(Actor.of(user), user, "权限表", "write", 1)
            headers[persona] = {"Authorization": f"Bearer {new.secret}"}
        db.session.commit()
    return headers


@pytest.mark.parametrize("policy", [APPROVAL_SINGLE, APPROVAL_DUAL])
@pytest.mark.parametrize(("wf", "state"), STATES, ids=[s for _wf, s in STATES])
def test_api_matches_table(app, world, policy, wf, state):
    """The API offers (`@workflow`) and fires exactly what the table allows; it hides the item
    from those who may not see it (404) and refuses the others (403), as the pages do."""
    headers = _api_tokens(app, world)
    client = app.test_client()
    shared = world.new_item(policy, state)
    seen = SEE_WITHDRAWN if state == "withdrawn" else CAN_SEE
    for persona in PERSONAS:
        response = client.get(f"/api/items/{shared}/@workflow", headers=headers[persona])
        if persona not in seen:
            assert response.status_code == 404, persona
        else:
            assert response.status_code == 200, persona
            offered = {t["id"] for t in response.json["transitions"] if wf.has_transition(t["id"])}
            assert offered == expected(policy, state, persona), persona
        for transition in manual(wf):
            allowed = transition in expected(policy, state, persona)
            item_id = world.new_item(policy, state) if allowed else shared
            response = client.post(
                f"/api/items/{item_id}/@workflow/{transition}",
                json={"comment": "同意。"},
                headers=headers[persona],
            )
            refused = 403 if persona in seen else 404
            assert response.status_code == (200 if allowed else refused), (persona, transition, response.json)
    with app.app_context():
        item = world.item(shared)
        assert getattr(item, wf.state_attribute) == state
        assert item.version == 1 + len(_path(policy, wf, state))


def _json_value(world, field: str):
    """`_changed_value`'s value as a PATCH body carries it (ids as numbers, none as null)."""
    stored, posted = _changed_value(world, field)
    if field == "category_id":
        return None
    if field.endswith("_id") or field == "progress_override":
        return int(posted)
    return posted


@pytest.mark.parametrize("state", ["in_progress", "completed"])
def test_api_fields_match_table(app, world, state):
    """PATCH /api/items/<id> with one field changed: saved where the table allows it; where the
    persona edits the item but not that field, 403 naming the field; where the persona may not
    edit at all, 403 or 404, as the edit form. Refusals share one item, as above."""
    headers = _api_tokens(app, world)
    client = app.test_client()
    shared = world.new_item(APPROVAL_SINGLE, state)
    for group, fields in FIELD_GROUPS.items():
        for field in fields:
            stored, _posted = _changed_value(world, field)
            for persona in PERSONAS:
                may_edit = persona in field_table()[(state, "edit")]
                allowed = may_edit and persona in field_table()[(state, group)]
                item_id = world.new_item(APPROVAL_SINGLE, state) if allowed else shared
                response = client.patch(
                    f"/api/items/{item_id}", json={field: _json_value(world, field)}, headers=headers[persona]
                )
                with app.app_context():
                    now = getattr(world.item(item_id), field)
                if allowed:
                    assert response.status_code == 200, (persona, field, response.json)
                elif may_edit:
                    assert response.status_code == 403 and "只能由" in response.json["message"], (
                        persona,
                        field,
                    )
                else:
                    assert response.status_code == (403 if persona in CAN_SEE else 404), (persona, field)
                assert (now == stored) == allowed, (persona, field, now)
