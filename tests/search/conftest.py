"""A few items whose texts the search tests look for, in the persona world (tests/world.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.core.transitions import fire
from portal.evidence.operations import add_evidence_note
from portal.feedback.operations import submit_feedback
from portal.inspections.models import APPROVAL_SINGLE, Category, Inspection
from portal.inspections.operations import create_item


@dataclass
class Texts:
    """The items: `car` (published, with a measure, evidence and public feedback), `room`
    (private, its finding says 闲置) and `minutes` (in progress, due later)."""

    car: int
    room: int
    minutes: int
    feedback: int


def make_item(world, title: str, **fields) -> int:
    actor = Actor.system("test")
    inspection = db.session.get(Inspection, world.inspections[APPROVAL_SINGLE])
    item = create_item(
        actor,
        inspection,
        category=db.session.get(Category, world.categories[APPROVAL_SINGLE]),
        title=title,
        responsible_leader=world.user("leader_resp"),
        staff=world.user("staff_resp"),
        **fields,
    )
    db.session.flush()
    return item.id


@pytest.fixture
def texts(app, world) -> Texts:
    with app.app_context():
        actor = Actor.system("test")
        car = make_item(
            world,
            "公车使用管理不规范",
            number="1",
            deadline=date(2026, 12, 31),
            completion_summary="已建立公车使用台账。",
            public_summary="公车已全部登记入册。",
            measures=[("一是", "建立车辆派遣审批制度", None)],
        )
        add_evidence_note(actor, world.item(car), "车辆登记表（扫描件）", public=True)
        room = make_item(world, "产业用房管理", number="2", feedback_text="巡察发现产业用房长期闲置。")
        minutes = make_item(world, "会议纪要不完整", number="3", deadline=date(2027, 3, 1))
        item = world.item(car)
        feedback, _code = submit_feedback(
            item.inspection, item, kind="not_rectified", text="公车私用问题仍然存在"
        )
        db.session.commit()
        found = Texts(car, room, minutes, feedback.id)
    world.fire("leader_resp", car, "publish")
    world.fire("staff_resp", minutes, "start")
    return found


def publish_feedback(app, world, feedback_id: int) -> None:
    from portal.feedback.models import Feedback

    with app.app_context():
        fire(Actor.of(world.user("office")), db.session.get(Feedback, feedback_id), "publish")
        db.session.commit()
