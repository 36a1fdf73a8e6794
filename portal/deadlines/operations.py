"""Filing a deadline extension request (延期申请) and the extension workflow's hooks.

A request is filed by whoever may `request_extension` on the item (its staff, 主办人) before
the item's deadline, for a later date, one open request per item at a time. The responsible
leader and then the office decide through `fire()`; the office's approval changes the item's
deadline through `update_document`, so that the change is a new version with its audit event,
in the same transaction as the step. Open measures that were due on the old deadline move with
it (each a version of its own); a measure with an earlier date of its own (a milestone such as
计划于4月发布) keeps it, and closed measures keep theirs.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import active_users_with
from portal.audit.chain import Actor, record_event, utcnow
from portal.core.concurrency import claim_version
from portal.core.errors import MissingRequirements, NotAllowed
from portal.core.extensions import db
from portal.core.policy import can
from portal.core.timeutil import today as local_today
from portal.core.transitions import WorkflowHooks, register_hooks
from portal.deadlines.models import ExtensionRequest
from portal.inspections.models import MEASURE_OPEN, RectificationItem
from portal.inspections.operations import update_document
from portal.notifications.operations import notify
from workflows.extension import OPEN
from workflows.rectification import CLOSED

#: What the audit log and the workflow history call a request.
OBJECT_TYPE = "extension"


def open_request(item: RectificationItem) -> ExtensionRequest | None:
    """The item's request still awaiting a decision, if any (there is at most one)."""
    return db.session.scalar(
        sa.select(ExtensionRequest).where(
            ExtensionRequest.item_id == item.id, ExtensionRequest.extension_state.in_(OPEN)
        )
    )


def filing_problems(
    item: RectificationItem, proposed: date | None, reason: str, progress_note: str, today: date
) -> dict[str, str]:
    """Why a request for `proposed` cannot be filed on `item` today: field -> message."""
    problems: dict[str, str] = {}
    deadline = item.deadline
    if deadline is None:
        problems["deadline"] = _("This item has no deadline (整改时限), so there is nothing to extend.")
    elif today >= deadline:
        problems["deadline"] = _(
            "An extension must be requested before the deadline (%(deadline)s); on or after that "
            "day it can no longer be requested here. Ask the inspection office.",
            deadline=deadline.isoformat(),
        )
    elif proposed is not None and proposed <= deadline:
        problems["proposed_deadline"] = _(
            "The proposed deadline must be later than the current deadline %(deadline)s.",
            deadline=deadline.isoformat(),
        )
    if proposed is None:
        problems.setdefault("proposed_deadline", _("Enter the proposed new deadline."))
    if not reason.strip():
        problems["reason"] = _("Give the reason for the extension.")
    if not progress_note.strip():
        problems["progress_note"] = _("Say what has been done so far (目前进展).")
    pending = open_request(item)
    if pending is not None:
        problems["open_request"] = _(
            "This item already has an extension request awaiting a decision (to %(date)s); "
            "wait for it or withdraw it before filing another.",
            date=pending.proposed_deadline.isoformat(),
        )
    return problems


def request_extension(
    actor: Actor,
    item: RectificationItem,
    *,
    proposed_deadline: date | None,
    reason: str,
    progress_note: str,
    today: date | None = None,
    expected_version: int | None = None,
) -> ExtensionRequest:
    """File a 延期申请 on `item`; flush, never commit.

    Raises NotAllowed (not the item's staff, or not while it is worked on), MissingRequirements
    (too late, not later, one already open, something left out) or Conflict (the item changed).
    """
    if not can(actor.user, "request_extension", item):
        raise NotAllowed(f"{actor.name} may not request an extension of item {item.id}")
    reason, progress_note = (reason or "").strip(), (progress_note or "").strip()
    problems = filing_problems(item, proposed_deadline, reason, progress_note, today or local_today())
    if problems:
        raise MissingRequirements(problems)
    # Claiming the item's version serialises filings: of two at once, the second is a conflict.
    claim_version(item, item.version if expected_version is None else expected_version)
    request = ExtensionRequest(
        item_id=item.id,
        inspection_id=item.inspection_id,
        requested_by_id=actor.id,
        reason=reason,
        progress_note=progress_note,
        old_deadline=item.deadline,
        proposed_deadline=proposed_deadline,
        created_at=utcnow(),
    )
    db.session.add(request)
    db.session.flush()
    record_event(
        actor,
        "extension.request",
        OBJECT_TYPE,
        request.id,
        {
            "item_id": item.id,
            "old_deadline": request.old_deadline,
            "proposed_deadline": request.proposed_deadline,
            "reason": reason,
            "progress_note": progress_note,
            "extension_state": request.extension_state,
        },
        inspection_id=item.inspection_id,
    )
    return request


class ExtensionHooks(WorkflowHooks):
    object_type = OBJECT_TYPE
    action_prefix = "extension"

    def requirements(self, transition, request, ctx, evidence_ids) -> dict[str, str]:
        if "later_deadline" not in transition.requirements:
            return {}
        item = request.item
        if item.state in CLOSED:
            return {
                "later_deadline": _("The item is already completed: its deadline no longer needs extending.")
            }
        if item.deadline is not None and request.proposed_deadline <= item.deadline:
            return {
                "later_deadline": _(
                    "The item's deadline is now %(deadline)s, not earlier than the proposed "
                    "%(proposed)s: this request would not extend it. Reject it instead.",
                    deadline=item.deadline.isoformat(),
                    proposed=request.proposed_deadline.isoformat(),
                )
            }
        return {}

    def write_step(self, step, actor, request) -> None:
        if "extend_deadline" not in step.transition.effects:
            return
        note = _(
            "Deadline extended from %(old)s to %(new)s (extension request no. %(id)d approved)",
            old=request.old_deadline.isoformat(),
            new=request.proposed_deadline.isoformat(),
            id=request.id,
        )
        item = request.item
        update_document(actor, item, {"deadline": request.proposed_deadline}, note=note)
        for measure in list(item.measures):
            if measure.status == MEASURE_OPEN and measure.deadline == request.old_deadline:
                update_document(actor, measure, {"deadline": request.proposed_deadline}, note=note)

    def after_step(self, step, actor, request, entry) -> None:
        """The requester hears of each decision; the office, when the leader approves, that the
        request now waits for it."""
        transition = step.transition.id
        if transition not in DECISIONS:
            return
        people = [request.requested_by_id]
        if transition == "leader_approve":
            people += active_users_with("office")
        notify(
            people,
            "extension_decided",
            request.item,
            actor=actor,
            obj=request,
            proposed=request.proposed_deadline.isoformat(),
            decision_id=transition,
            decision=step.transition.title_zh,
            comment=entry.comment,
        )


#: the extension workflow's transitions that decide on a request (a withdrawal is no decision)
DECISIONS = ("leader_approve", "office_approve", "reject")

register_hooks(ExtensionRequest, ExtensionHooks())
