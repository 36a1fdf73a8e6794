"""A small world for workflow and document tests: personas, two inspections (single and dual
approval). Its fixtures are registered in tests/conftest.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest

from portal.accounts.models import User
from portal.accounts.operations import create_department, create_user
from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.core.transitions import fire
from portal.evidence.operations import add_evidence_note
from portal.inspections.models import APPROVAL_DUAL, APPROVAL_SINGLE, RectificationItem
from portal.inspections.operations import create_category, create_inspection, create_item
from portal.sharing.operations import grant_local_role
from tests.conftest import TEST_PASSWORD

#: persona -> global roles; the world gives some of them local roles or field-derived ones.
PERSONAS = {
    "office": ("office",),
    "staff_resp": ("staff",),  # the items' responsible staff (Editor by field)
    "staff_other": ("staff",),  # no relation to the items
    "dept_editor": ("staff",),  # member of 财务科, which holds Editor on the inspections
    "leader_resp": ("leader",),  # the items' responsible leader
    "leader_reviewer": ("leader",),  # holds Reviewer on the category
    "leader_other": ("leader",),  # a leader with no role on these items
    "secretary": ("leader",),  # the inspections' party secretary (党组书记)
    "auditor": ("auditor",),
    "admin": ("admin",),
}

# How to bring a fresh item into each state: (persona, transition) steps.
PATHS = {
    "assigned": [],
    "in_progress": [("staff_resp", "start")],
    "pending_review": [("staff_resp", "start"), ("staff_resp", "submit")],
    "completed": [
        ("staff_resp", "start"),
        ("staff_resp", "submit"),
        ("leader_resp", "approve"),
        ("secretary", "approve"),
    ],
    "follow_up": [
        ("staff_resp", "start"),
        ("staff_resp", "submit"),
        ("leader_resp", "approve"),
        ("secretary", "approve"),
        ("office", "schedule_follow_up"),
    ],
    "private": [],
    "published": [("leader_resp", "publish")],
    "active": [],
    "withdrawn": [("office", "withdraw")],
}


@dataclass
class World:
    app: object
    users: dict[str, int]
    inspections: dict[str, int] = field(default_factory=dict)
    categories: dict[str, int] = field(default_factory=dict)

    def user(self, persona: str) -> User:
        return db.session.get(User, self.users[persona])

    def new_item(
        self, policy: str = APPROVAL_SINGLE, state: str = "assigned", deadline: date | None = None, **fields
    ) -> int:
        """Create an item with evidence and a completion summary, driven into `state`."""
        with self.app.app_context():
            from portal.inspections.models import Category, Inspection

            item = create_item(
                Actor.system("test"),
                db.session.get(Inspection, self.inspections[policy]),
                category=db.session.get(Category, self.categories[policy]),
                number="1",
                title="加强科创中心产业用房管理",
                responsible_leader=self.user("leader_resp"),
                staff=self.user("staff_resp"),
                deadline=deadline,
                completion_summary="已修订管理规定。",
                **fields,
            )
            add_evidence_note(Actor.system("test"), item, "《管理规定》修订稿")
            db.session.commit()
            item_id = item.id
        for persona, transition in PATHS[state]:
            if transition == "approve" and persona == "secretary" and policy == APPROVAL_SINGLE:
                continue
            self.fire(persona, item_id, transition, comment="按计划推进")
        return item_id

    def add_measure(self, item_id: int, status: str = "open", reason: str = "") -> int:
        """Give the item a measure with `status` (open, done, long_term, not_applicable)."""
        from portal.inspections.operations import add_measure, set_measure_status

        with self.app.app_context():
            item = self.item(item_id)
            measure = add_measure(Actor.system("test"), item, label="一是", text="完善制度")
            if status != "open":
                set_measure_status(Actor.system("test"), measure, status, reason)
            db.session.commit()
            return measure.id

    def fire(self, persona: str, item_id: int, transition: str, comment: str = "", **kwargs):
        with self.app.app_context():
            steps = fire(
                Actor.of(self.user(persona)),
                db.session.get(RectificationItem, item_id),
                transition,
                comment=comment,
                **kwargs,
            )
            db.session.commit()
            return [s.transition.id for s in steps]

    def item(self, item_id: int) -> RectificationItem:
        return db.session.get(RectificationItem, item_id)


@pytest.fixture
def world(app) -> World:
    actor = Actor.system("test")
    with app.app_context():
        finance = create_department(actor, "财务科")
        users = {}
        for persona, roles in PERSONAS.items():
            users[persona] = create_user(
                actor,
                login=persona,
                display_name=persona,
                password=TEST_PASSWORD,
                roles=roles,
                department=finance if persona == "dept_editor" else None,
            ).id
        db.session.flush()
        w = World(app, users)
        for policy in (APPROVAL_SINGLE, APPROVAL_DUAL):
            inspection = create_inspection(
                actor,
                title=f"区科技创新局巡察整改（{policy}）",
                approval_policy=policy,
                party_secretary=w.user("secretary"),
            )
            category = create_category(actor, inspection, label="一", title="对于区委专题会议涉及问题的整改")
            grant_local_role(actor, inspection, "Editor", department=finance)
            grant_local_role(actor, category, "Reviewer", user=w.user("leader_reviewer"))
            w.inspections[policy], w.categories[policy] = inspection.id, category.id
        db.session.commit()
    return w


@pytest.fixture
def signed_in(app, world):
    """Return a test client signed in as a persona."""
    clients = {}

    def factory(persona: str):
        if persona not in clients:
            client = app.test_client()
            assert client.login(persona, TEST_PASSWORD).status_code == 302
            clients[persona] = client
        return clients[persona]

    return factory
