"""The item timeline: workflow steps, versions, evidence, approvals, chase notes (催办) and the
supervision pass's warnings (督办), newest first.

Six queries whatever the length of the history (actors are loaded with each row), four when
the caller passes the evidence and approvals it has loaded already.

A step that records an approval and stays in its state (审核同意) is shown once: as that step,
with its comment and whether the approval still counts, never as a "待审核 → 待审核" move next to
a separate approval entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.core.extensions import db
from portal.core.models import WorkflowHistory
from portal.evidence.models import Evidence
from portal.inspections.models import Measure, RectificationItem
from portal.notifications.models import ItemChase
from portal.supervision.models import SupervisionWarning
from portal.versions.models import DocumentVersion
from portal.workflow.models import Approval
from workflows import WORKFLOWS


@dataclass
class Entry:
    at: datetime
    kind: str  # transition, version, evidence_added, evidence_withdrawn, approval, chase, warning
    actor: str
    subject: object  # the row the entry is about
    order: int = 0  # ties: a later-recorded entry of the same instant comes first
    #: for a step that recorded an approval: that approval (to show whether it still counts)
    approval: Approval | None = None

    @property
    def moves(self) -> bool:
        """Whether the entry is a step that changed the state (stays show no "from → to")."""
        return self.kind == "transition" and self.subject.from_state != self.subject.to_state


def _name(user) -> str:
    return user.display_name if user is not None else "—"


def _records_approval(h: WorkflowHistory) -> bool:
    workflow = WORKFLOWS.get(h.workflow)
    if workflow is None or not workflow.has_transition(h.action):
        return False
    return "record_approval" in workflow.transition(h.action).effects


def item_evidence(item: RectificationItem) -> list[Evidence]:
    """The item's evidence, oldest first, with who added and who withdrew each piece."""
    return db.session.scalars(
        sa.select(Evidence)
        .options(so.joinedload(Evidence.added_by), so.joinedload(Evidence.withdrawn_by))
        .where(Evidence.item_id == item.id)
        .order_by(Evidence.id)
    ).all()


def item_approvals(item: RectificationItem) -> list[Approval]:
    """The item's approvals, oldest first, with their approvers."""
    return db.session.scalars(
        sa.select(Approval)
        .options(so.joinedload(Approval.user))
        .where(Approval.item_id == item.id)
        .order_by(Approval.id)
    ).all()


def item_timeline(
    item: RectificationItem, evidence: list[Evidence] | None = None, approvals: list[Approval] | None = None
) -> list[Entry]:
    """The timeline; `evidence` and `approvals` are the item's (item_evidence, item_approvals)
    when the caller has them already (the item page shows them too)."""
    entries: list[Entry] = []
    # The steps that recorded an approval, per approver in order: each wrote exactly one.
    approving: dict[int | None, list[Entry]] = {}
    for h in db.session.scalars(
        sa.select(WorkflowHistory)
        .options(so.joinedload(WorkflowHistory.actor))
        .where(WorkflowHistory.object_type == "item", WorkflowHistory.object_id == item.id)
    ):
        entries.append(Entry(h.at, "transition", _name(h.actor), h, h.id))
        if _records_approval(h):
            approving.setdefault(h.actor_id, []).append(entries[-1])
    measure_ids = sa.select(Measure.id).where(Measure.item_id == item.id).scalar_subquery()
    for v in db.session.scalars(
        sa.select(DocumentVersion)
        .options(so.joinedload(DocumentVersion.actor))
        .where(
            sa.or_(
                sa.and_(DocumentVersion.object_type == "item", DocumentVersion.object_id == item.id),
                sa.and_(DocumentVersion.object_type == "measure", DocumentVersion.object_id.in_(measure_ids)),
            )
        )
    ):
        entries.append(Entry(v.at, "version", _name(v.actor), v, v.id))
    for e in item_evidence(item) if evidence is None else evidence:
        entries.append(Entry(e.added_at, "evidence_added", _name(e.added_by), e, e.id))
        if e.withdrawn_at is not None:
            entries.append(Entry(e.withdrawn_at, "evidence_withdrawn", _name(e.withdrawn_by), e, e.id))
    for step in approving.values():
        step.sort(key=lambda e: e.order)
    for a in item_approvals(item) if approvals is None else approvals:
        steps = approving.get(a.user_id)
        if steps:
            steps.pop(0).approval = a  # the step that recorded it says it already
        else:
            entries.append(Entry(a.approved_at, "approval", _name(a.user), a, a.id))
    for c in db.session.scalars(
        sa.select(ItemChase).options(so.joinedload(ItemChase.actor)).where(ItemChase.item_id == item.id)
    ):
        entries.append(Entry(c.created_at, "chase", _name(c.actor), c, c.id))
    for w in db.session.scalars(sa.select(SupervisionWarning).where(SupervisionWarning.item_id == item.id)):
        entries.append(Entry(w.issued_at, "warning", "", w, w.id))
    kinds = {
        "version": 0,
        "evidence_added": 1,
        "evidence_withdrawn": 1,
        "approval": 2,
        "transition": 3,
        "chase": 4,
        "warning": 5,
    }
    return sorted(entries, key=lambda e: (e.at, kinds[e.kind], e.order), reverse=True)
