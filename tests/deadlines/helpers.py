"""Bringing a fresh extension request (延期申请) into each state of its workflow."""

from __future__ import annotations

from datetime import date, timedelta

from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.core.transitions import fire
from portal.deadlines.models import ExtensionRequest
from portal.deadlines.operations import request_extension
from portal.inspections.models import APPROVAL_SINGLE

#: (persona, transition) steps from `requested`; "filer" stands for whoever filed it.
PATHS = {
    "requested": [],
    "leader_approved": [("leader_resp", "leader_approve")],
    "approved": [("leader_resp", "leader_approve"), ("office", "office_approve")],
    "rejected": [("leader_resp", "reject")],
    "withdrawn": [("filer", "withdraw")],
}


def in_days(n: int) -> date:
    return date.today() + timedelta(days=n)


def new_item_with_deadline(world, days: int = 30, policy: str = APPROVAL_SINGLE, state: str = "in_progress"):
    return world.new_item(policy, state, deadline=in_days(days))


def file(world, item_id: int, filer: str = "staff_resp", days: int = 60, **kwargs) -> int:
    with world.app.app_context():
        request = request_extension(
            Actor.of(world.user(filer)),
            world.item(item_id),
            proposed_deadline=kwargs.pop("proposed", in_days(days)),
            reason=kwargs.pop("reason", "需协调区财政局补充预算"),
            progress_note=kwargs.pop("progress_note", "已完成现场核查，整改方案待审定"),
            **kwargs,
        )
        db.session.commit()
        return request.id


def decide(world, persona: str, request_id: int, transition: str, comment: str = "同意") -> list[str]:
    with world.app.app_context():
        steps = fire(
            Actor.of(world.user(persona)),
            db.session.get(ExtensionRequest, request_id),
            transition,
            comment=comment,
        )
        db.session.commit()
        return [s.transition.id for s in steps]


def new_request(
    world, state: str = "requested", filer: str = "staff_resp", item_id: int | None = None
) -> int:
    """A request filed by `filer` on a fresh item (deadline in 30 days), driven into `state`."""
    item_id = item_id or new_item_with_deadline(world)
    request_id = file(world, item_id, filer)
    for persona, transition in PATHS[state]:
        decide(world, filer if persona == "filer" else persona, request_id, transition, "按规定办理")
    return request_id


def request(request_id: int) -> ExtensionRequest:
    return db.session.get(ExtensionRequest, request_id)
