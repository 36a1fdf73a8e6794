"""The generated SQL permission filters agree with the Python policy, for every (user, object).

Worklist pages themselves (ordering, pagination, counts) are tested in test_worklists.py.

The property test builds random content trees (inspections, categories, items, measures;
blocked inheritance anywhere), random accounts (global roles, departments) and the anonymous
visitor, random local grants to users and departments, random field-derived roles, states,
deadlines, approvals, public answers, feedback in every moderation state and extension requests
(延期申请) in every state; then it asks every
permission of every content type and every worklist both ways. Its rows are test data written
straight to the tables inside one transaction that is rolled back: no operation is exercised.
"""

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.accounts.models import Department, User, UserRole
from portal.audit.chain import Actor
from portal.core import worklists
from portal.core.extensions import db
from portal.core.filters import permitted, visible
from portal.core.models import LocalRole, WorkflowHistory
from portal.core.policy import ANONYMOUS, PolicyContext, can, has_permission, roles_on
from portal.deadlines.models import ExtensionRequest
from portal.feedback.models import Feedback, FixCheck
from portal.inspections.models import APPROVAL_DUAL, APPROVAL_SINGLE, Category, Inspection, Measure
from portal.inspections.models import RectificationItem as Item
from portal.sharing.operations import grant_local_role
from portal.workflow.models import Approval
from tests.helpers import examples
from workflows import EXTENSION, LIFECYCLE, MODERATION, PUBLICATION, RECTIFICATION
from workflows.containers import CONTAINER_PERMISSIONS
from workflows.roles import GLOBAL_ROLES, LOCAL_ROLES

TODAY = date(2026, 12, 1)
ITEM_PERMISSIONS = sorted(RECTIFICATION.permissions | PUBLICATION.permissions | LIFECYCLE.permissions)
CONTAINER_PERMISSIONS_ALL = sorted(set(CONTAINER_PERMISSIONS) | LIFECYCLE.permissions)
LIFECYCLE_STATES = [s.id for s in LIFECYCLE.states]
ITEM_WORKLISTS = [w.id for w in RECTIFICATION.worklists]
#: an extension request (延期申请) is suspended with its item: the lifecycle map applies then
EXTENSION_PERMISSIONS = sorted(EXTENSION.permissions | LIFECYCLE.permissions)


def test_a_blocked_category_elsewhere_leaves_inspection_grants_alone(world):
    """Regression: blocking one category switched off every inspection-level grant in SQL."""
    actor = Actor.system("test")
    for _ in range(5):
        world.new_item(APPROVAL_SINGLE)
    world.new_item(APPROVAL_DUAL)
    with world.app.app_context():
        reader = world.user("staff_other")
        grant_local_role(
            actor, db.session.get(Inspection, world.inspections[APPROVAL_SINGLE]), "Reader", user=reader
        )
        db.session.commit()

        def sql_visible():
            return set(db.session.scalars(sa.select(Item.id).where(visible(reader, Item))))

        expected = {i.id for i in db.session.scalars(sa.select(Item)) if can(reader, "view", i)}
        assert len(sql_visible()) == 5 == len(expected)

        db.session.get(Category, world.categories[APPROVAL_DUAL]).local_roles_blocked = True
        db.session.commit()
        python_visible = {i.id for i in db.session.scalars(sa.select(Item)) if can(reader, "view", i)}
        assert len(python_visible) == 5
        assert sql_visible() == python_visible


# --- the property: SQL filter == Python policy -----------------------------------------------

maybe = st.booleans()
user_spec = st.fixed_dictionaries(
    {
        "roles": st.sets(st.sampled_from(GLOBAL_ROLES), max_size=2),
        "department": st.sampled_from([None, 0, 1]),
    }
)
item_spec = st.fixed_dictionaries(
    {
        "inspection": st.integers(0, 1),
        "category": st.sampled_from([None, 0, 1, 2]),
        "blocked": maybe,
        "state": st.sampled_from([s.id for s in RECTIFICATION.states]),
        "publication": st.sampled_from([s.id for s in PUBLICATION.states]),
        "lifecycle": st.sampled_from(LIFECYCLE_STATES),  # withdrawn (撤销) or not
        "staff": st.sampled_from([None, 0, 1, 2]),
        "leader": st.sampled_from([None, 0, 1, 2]),
        "deadline": st.sampled_from([None, -20, -1, 0, 3, 7, 8, 30]),
        "approved_by": st.sets(st.integers(0, 2), max_size=2),
        "not_fixed": st.sampled_from([None, "before", "after"]),
    }
)
grant_spec = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["inspection", "category", "item"]),
        "target": st.integers(0, 5),
        "role": st.sampled_from(LOCAL_ROLES),
        "to_user": maybe,
        "who": st.integers(0, 2),
    }
)
extension_spec = st.fixed_dictionaries(
    {
        "item": st.integers(0, 4),
        "state": st.sampled_from([s.id for s in EXTENSION.states]),
        "by": st.sampled_from([None, 0, 1, 2]),
    }
)
feedback_spec = st.fixed_dictionaries(
    {"inspection": st.integers(0, 1), "state": st.sampled_from([s.id for s in MODERATION.states])}
)
world_spec = st.fixed_dictionaries(
    {
        "users": st.lists(user_spec, min_size=3, max_size=3),
        "inspections": st.lists(
            st.fixed_dictionaries(
                {
                    "dual": maybe,
                    "secretary": st.sampled_from([None, 0, 1, 2]),
                    "lifecycle": st.sampled_from(LIFECYCLE_STATES),
                }
            ),
            min_size=2,
            max_size=2,
        ),
        "categories": st.lists(
            st.fixed_dictionaries({"inspection": st.integers(0, 1), "blocked": maybe}), max_size=3
        ),
        "items": st.lists(item_spec, min_size=1, max_size=5),
        "grants": st.lists(grant_spec, max_size=6),
        "measures": st.lists(st.integers(0, 4), max_size=3),  # the item each belongs to
        "feedback": st.lists(feedback_spec, max_size=3),
        "extensions": st.lists(extension_spec, max_size=3),
    }
)


def _build(spec) -> tuple[list[User], list, list, list[Item]]:
    now = datetime(2026, 11, 1)
    departments = [Department(name=f"部门{n}", created_at=now) for n in range(2)]
    db.session.add_all(departments)
    db.session.flush()
    users = []
    for n, u in enumerate(spec["users"]):
        user = User(
            login=f"prop{n}",
            display_name=f"prop{n}",
            password_hash="-",
            created_at=now,
            department_id=None if u["department"] is None else departments[u["department"]].id,
            role_rows=[UserRole(role=r) for r in sorted(u["roles"])],
        )
        users.append(user)
    db.session.add_all(users)
    db.session.flush()

    def person(index):
        return None if index is None else users[index].id

    inspections = [
        Inspection(
            title=f"巡察{n}",
            created_at=now,
            approval_policy=APPROVAL_DUAL if i["dual"] else APPROVAL_SINGLE,
            party_secretary_id=person(i["secretary"]),
            lifecycle_state=i["lifecycle"],
        )
        for n, i in enumerate(spec["inspections"])
    ]
    db.session.add_all(inspections)
    db.session.flush()
    categories = [
        Category(
            inspection_id=inspections[c["inspection"]].id, title=f"类别{n}", local_roles_blocked=c["blocked"]
        )
        for n, c in enumerate(spec["categories"])
    ]
    db.session.add_all(categories)
    db.session.flush()
    items = []
    for n, i in enumerate(spec["items"]):
        category = (
            categories[i["category"]]
            if i["category"] is not None and i["category"] < len(categories)
            else None
        )
        inspection = category.inspection_id if category else inspections[i["inspection"]].id
        items.append(
            Item(
                inspection_id=inspection,
                category_id=category.id if category else None,
                title=f"事项{n}",
                local_roles_blocked=i["blocked"],
                state=i["state"],
                publication_state=i["publication"],
                lifecycle_state=i["lifecycle"],
                staff_id=person(i["staff"]),
                responsible_leader_id=person(i["leader"]),
                created_at=now,
                deadline=None if i["deadline"] is None else TODAY + timedelta(days=i["deadline"]),
            )
        )
    db.session.add_all(items)
    db.session.flush()
    for item, i in zip(items, spec["items"], strict=True):
        db.session.add_all(
            Approval(item_id=item.id, user_id=users[u].id, approved_at=now) for u in sorted(i["approved_by"])
        )
        if i["not_fixed"]:
            completed_at = datetime(2026, 11, 10)
            db.session.add(
                WorkflowHistory(
                    object_type="item",
                    object_id=item.id,
                    workflow="rectification",
                    action="complete",
                    from_state="pending_review",
                    to_state="completed",
                    at=completed_at,
                    evidence_ids=[],
                )
            )
            answered = completed_at + timedelta(days=1 if i["not_fixed"] == "after" else -1)
            db.session.add(FixCheck(item_id=item.id, answer="not_fixed", created_at=answered))
    targets = {"inspection": inspections, "category": categories, "item": items}
    for g in spec["grants"]:
        objects = targets[g["kind"]]
        if not objects:
            continue
        obj = objects[g["target"] % len(objects)]
        db.session.add(
            LocalRole(
                object_type=g["kind"],
                object_id=obj.id,
                role=g["role"],
                granted_at=now,
                user_id=users[g["who"]].id if g["to_user"] else None,
                department_id=None if g["to_user"] else departments[g["who"] % 2].id,
            )
        )
    measures = [
        Measure(item_id=items[n % len(items)].id, text=f"措施{k}") for k, n in enumerate(spec["measures"])
    ]
    feedback = [
        Feedback(
            inspection_id=inspections[f["inspection"]].id,
            kind="suggestion",
            text="意见",
            code_hash=f"{k:064d}",
            moderation_state=f["state"],
            created_at=now,
        )
        for k, f in enumerate(spec["feedback"])
    ]
    extensions = []
    for e in spec["extensions"]:
        item = items[e["item"] % len(items)]
        extensions.append(
            ExtensionRequest(
                item_id=item.id,
                inspection_id=item.inspection_id,
                requested_by_id=person(e["by"]),
                reason="理由",
                old_deadline=TODAY,
                proposed_deadline=TODAY + timedelta(days=30),
                extension_state=e["state"],
                created_at=now,
            )
        )
    db.session.add_all(measures + feedback + extensions)
    db.session.flush()
    return users, inspections, categories, items, measures, feedback, extensions


def _sql_ids(model, clause) -> set[int]:
    return set(db.session.scalars(sa.select(model.id).where(clause)))


@pytest.mark.timeout(900)
@settings(
    max_examples=examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=world_spec)
def test_sql_filters_and_worklists_agree_with_the_python_policy(app, spec):
    with app.app_context():
        try:
            users, inspections, categories, items, measures, feedback, extensions = _build(spec)
            for user in [*users, ANONYMOUS]:
                for model, rows, permissions in (
                    (Measure, measures, ITEM_PERMISSIONS),
                    (Feedback, feedback, sorted(MODERATION.permissions)),
                    (ExtensionRequest, extensions, EXTENSION_PERMISSIONS),
                ):
                    held = {r.id: roles_on(user, r) for r in rows}  # a measure's: its item's
                    for permission in permissions:
                        expected = {r.id for r in rows if has_permission(user, permission, r, held[r.id])}
                        assert _sql_ids(model, permitted(user, model, permission)) == expected, (
                            model.__name__,
                            permission,
                        )
                if user is ANONYMOUS:
                    expected = {i.id for i in items if can(user, "view", i)}
                    assert _sql_ids(Item, permitted(user, Item, "view")) == expected
                    continue
                expected = {f.id for f in feedback if worklists.contains("moderation_queue", user, f, TODAY)}
                assert (
                    set(
                        db.session.scalars(
                            worklists.query("moderation_queue", user, TODAY).with_only_columns(Feedback.id)
                        )
                    )
                    == expected
                )
                contexts = {i.id: PolicyContext(user, i, TODAY) for i in items}
                for permission in ITEM_PERMISSIONS:
                    expected = {
                        i.id for i in items if has_permission(user, permission, i, contexts[i.id].roles())
                    }
                    assert _sql_ids(Item, permitted(user, Item, permission)) == expected, (
                        user.roles,
                        permission,
                    )
                for model, rows in ((Inspection, inspections), (Category, categories)):
                    for permission in CONTAINER_PERMISSIONS_ALL:
                        expected = {r.id for r in rows if can(user, permission, r)}
                        assert _sql_ids(model, permitted(user, model, permission)) == expected
                expected = {
                    e.id for e in extensions if worklists.contains("extensions_to_decide", user, e, TODAY)
                }
                listed = worklists.query("extensions_to_decide", user, TODAY).with_only_columns(
                    ExtensionRequest.id
                )
                assert set(db.session.scalars(listed)) == expected
                for name in ITEM_WORKLISTS:
                    expected = {
                        i.id for i in items if worklists.contains(name, user, i, TODAY, contexts[i.id])
                    }
                    listed = set(
                        db.session.scalars(worklists.query(name, user, TODAY).with_only_columns(Item.id))
                    )
                    assert listed == expected, (name, user.roles)
        finally:
            db.session.rollback()


@pytest.mark.parametrize("permission", ITEM_PERMISSIONS)
def test_the_public_sees_published_items_only(world, permission):
    """The anonymous visitor: a filter of its own, equal to the policy (view_public: published
    only; view and everything else: nothing, since publishing exposes the public pages only)."""
    from portal.core.policy import ANONYMOUS

    world.new_item(APPROVAL_SINGLE)
    world.new_item(APPROVAL_SINGLE, "published")
    with world.app.app_context():
        rows = db.session.scalars(sa.select(Item)).all()
        expected = {i.id for i in rows if can(ANONYMOUS, permission, i)}
        assert _sql_ids(Item, permitted(ANONYMOUS, Item, permission)) == expected
        if permission == "view_public":
            assert expected == {i.id for i in rows if i.publication_state == "published"}
        else:
            assert expected == set()


def test_a_term_is_kept_once_but_two_aliases_keep_their_own(app):
    """_all leaves out a term it already holds (the filters' "not withdrawn" came twice), never
    the same condition on another alias of the table."""
    import sqlalchemy.orm as so

    from portal.core.filters import all_of

    first, second = so.aliased(Item), so.aliased(Item)
    both = all_of(first.state == "assigned", second.state == "assigned", Item.state.in_(["a", "b"]))
    again = all_of(both, Item.state.in_(["a", "b"]), sa.and_(first.state == "assigned"))
    assert len(again.clauses) == 3
    assert all_of(Item.state == "a", Item.state == "b") is not None
    assert len(all_of(Item.state == "a", Item.state == "b").clauses) == 2  # other values: both
