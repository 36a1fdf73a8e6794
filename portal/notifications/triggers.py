"""Who is told what when an item moves: registered with the item workflows' step listeners.

- submit (提交审核): the reviewers whose approval the item needs — its responsible leader and,
  under 双审制, the party secretary (“awaiting my review”);
- return (退回) and reopen (问题反弹): the item's responsible staff (“returned to me”);
- a follow-up check falling due (到期回头看, taken by the supervision pass): the inspection
  office and the item's responsible leader.
"""

from __future__ import annotations

from portal.audit.chain import Actor
from portal.notifications.operations import HoldersOf, notify
from portal.workflow.items import STEP_LISTENERS, required_approver_ids
from workflows import RECTIFICATION, Step

#: rectification transition -> the kind of notification it sends
KIND_OF_TRANSITION = {
    "submit": "review",
    "return": "returned",
    "reopen": "returned",
    "follow_up_on_schedule": "follow_up_due",
}


def _recipients(kind: str, item) -> list:
    if kind == "review":
        return sorted(i for i in required_approver_ids(item) if i is not None)
    if kind == "follow_up_due":
        return [HoldersOf("office"), item.responsible_leader_id]
    return [item.staff_id]


def on_item_step(step: Step, actor: Actor, item) -> None:
    transition = step.transition
    kind = KIND_OF_TRANSITION.get(transition.id)
    # (a transition of the same name in another of the item's workflows sends nothing)
    if kind is None or not any(t is transition for t in RECTIFICATION.transitions):
        return
    params = {"months": item.inspection.follow_up_months} if kind == "follow_up_due" else {}
    notify(_recipients(kind, item), kind, item, actor=actor, **params)


STEP_LISTENERS.append(on_item_step)
