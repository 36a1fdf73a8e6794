"""The 对账销号单 of a completed item: what the office files to close it, as an official-look DOCX.

It restates, from the stored records, everything an item was closed on: the item and who is
responsible, each measure with its status (a long-term or not-applicable one with its reason),
the completion summary, the evidence in force with its SHA-256, the approvals that completed it
(names and times), the deadline and its approved extensions, who completed it and when, and its
follow-up checks (回头看). It ends with the blanks the office signs by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import format_datetime

from portal.core.extensions import db
from portal.core.models import WorkflowHistory
from portal.core.official_docx import HEADING, OfficialDocument
from portal.core.policy import can
from portal.core.security import INTERNAL
from portal.core.timeutil import today
from portal.deadlines.history import DeadlineHistory, deadline_history
from portal.evidence.models import Evidence
from portal.inspections.models import MEASURE_STATUSES, RectificationItem
from portal.notices.export import cn_date
from portal.workflow.models import Approval
from workflows import EXTENSION, RECTIFICATION
from workflows.rectification import CLOSED

TITLE = "整改事项对账销号单"
MEASURE_STATUS_ZH = dict(zip(MEASURE_STATUSES, ("未完成", "已完成", "长期坚持", "不适用"), strict=True))
#: the rectification steps the sheet reports in its completion section
CLOSING_ACTIONS = ("complete", "schedule_follow_up", "follow_up_on_schedule", "confirm", "reopen")


def may_download(user, item: RectificationItem) -> bool:
    """Staff-side users who may see the item, once it is completed (or in 回头看)."""
    return (
        item.state in CLOSED
        and getattr(user, "is_authenticated", False)
        and any(user.has_role(r) for r in INTERNAL)
        and can(user, "view", item)
    )


def sheet_filename(item: RectificationItem) -> str:
    return f"{TITLE}-{item.number or item.id}.docx"


@dataclass
class ClosingFacts:
    """What the sheet states, read in a fixed number of queries."""

    item: RectificationItem
    evidence: list[Evidence]
    approvals: list[Approval]
    deadlines: DeadlineHistory
    #: the item's completion and follow-up steps, oldest first
    closing: list[WorkflowHistory]

    @property
    def completed(self) -> WorkflowHistory | None:
        """The step that last completed the item."""
        return next((h for h in reversed(self.closing) if h.action == "complete"), None)


def closing_facts(item: RectificationItem) -> ClosingFacts:
    evidence = db.session.scalars(
        sa.select(Evidence)
        .options(so.joinedload(Evidence.added_by))
        .where(Evidence.item_id == item.id, Evidence.withdrawn_at.is_(None))
        .order_by(Evidence.id)
    ).all()
    approvals = db.session.scalars(
        sa.select(Approval)
        .options(so.joinedload(Approval.user))
        .where(Approval.item_id == item.id, Approval.cleared_at.is_(None))
        .order_by(Approval.approved_at, Approval.id)
    ).all()
    closing = db.session.scalars(
        sa.select(WorkflowHistory)
        .options(so.joinedload(WorkflowHistory.actor))
        .where(
            WorkflowHistory.object_type == "item",
            WorkflowHistory.object_id == item.id,
            WorkflowHistory.workflow == RECTIFICATION.id,
            WorkflowHistory.action.in_(CLOSING_ACTIONS),
        )
        .order_by(WorkflowHistory.id)
    ).all()
    return ClosingFacts(item, evidence, approvals, deadline_history(item), closing)


def _time(value: datetime | None) -> str:
    """A stored naive-UTC time in the portal's time zone."""
    return format_datetime(value.replace(tzinfo=UTC), "yyyy-MM-dd HH:mm") if value else "—"


def _name(user) -> str:
    return user.display_name if user is not None else "—"


def _actor(entry: WorkflowHistory) -> str:
    return entry.actor.display_name if entry.actor is not None else "系统（督办巡检）"


def _date(value) -> str:
    return cn_date(value) if value else "未设定"


def render_closing_sheet(item: RectificationItem) -> bytes:
    facts = closing_facts(item)
    doc = OfficialDocument()
    doc.title(TITLE)
    doc.paragraph(f"（{item.inspection.title}）", center=True)
    doc.table(
        None,
        [
            ["被巡察单位", item.inspection.inspected_unit or "—"],
            ["事项编号", item.number or str(item.id)],
            ["整改事项", item.title],
            ["责任领导", _name(item.responsible_leader)],
            ["责任部门", item.department.name if item.department else "—"],
            ["责任人", _name(item.staff)],
            ["整改时限", _date(item.deadline)],
            ["当前状态", RECTIFICATION.state(item.state).title_zh],
        ],
        [3.5, 12],
    )
    doc.paragraph("一、反馈问题", HEADING)
    doc.paragraph(item.feedback_text or "（未录入反馈原文）")
    doc.paragraph("二、整改措施及完成情况", HEADING)
    if item.measures:
        doc.table(
            ["序号", "整改措施", "完成情况", "说明"],
            [
                [m.label or str(n), m.text, MEASURE_STATUS_ZH[m.status], m.status_reason or "—"]
                for n, m in enumerate(item.measures, 1)
            ],
            [1.6, 8, 2.4, 3.5],
        )
    else:
        doc.paragraph("（本事项未分列整改措施）")
    doc.paragraph("三、整改成效", HEADING)
    doc.paragraph(item.completion_summary or "—")
    _evidence(doc, facts)
    _approvals(doc, facts)
    _deadlines(doc, facts)
    _completion(doc, facts)
    doc.paragraph("八、销号意见", HEADING)
    doc.paragraph("经核对，上述整改措施已落实，佐证材料齐全，同意销号。", indent=True)
    doc.paragraph("巡察整改办（盖章）", right=True)
    doc.paragraph("经办人：　　　　　　　审核人：　　　　　　　年　　月　　日", right=True)
    doc.paragraph(f"（事项编号:{item.id:06d},生成于{cn_date(today())}）", right=True)
    return doc.save()


def _evidence(doc: OfficialDocument, facts: ClosingFacts) -> None:
    doc.paragraph("四、佐证材料", HEADING)
    if not facts.evidence:
        doc.paragraph("（无）")
        return
    doc.table(
        ["序号", "材料", "提交人及时间", "SHA-256"],
        [
            [
                str(n),
                e.filename or f"文字说明：{e.note}",
                f"{_name(e.added_by)} {_time(e.added_at)}",
                e.sha256 or "（文字说明，无文件）",
            ]
            for n, e in enumerate(facts.evidence, 1)
        ],
        [1.2, 4.8, 3.5, 6],
    )


def _approvals(doc: OfficialDocument, facts: ClosingFacts) -> None:
    doc.paragraph("五、审核签批", HEADING)
    if not facts.approvals:
        doc.paragraph("（无）")
        return
    doc.table(
        ["审核人", "审核意见", "审核时间"],
        [[_name(a.user), "审核同意", _time(a.approved_at)] for a in facts.approvals],
        [4.5, 5, 6],
    )


def _deadlines(doc: OfficialDocument, facts: ClosingFacts) -> None:
    doc.paragraph("六、整改时限及延期", HEADING)
    history = facts.deadlines
    doc.paragraph(f"原定整改时限：{_date(history.original)}；现整改时限：{_date(facts.item.deadline)}。")
    if not history.extensions:
        doc.paragraph("未申请延期，或延期申请未获批准。")
        return
    rows = []
    for record in history.extensions:
        request = record.request
        decided = "；".join(
            f"{EXTENSION.transition(s.action).title_zh}：{_actor(s)} {_time(s.at)}" for s in record.steps
        )
        rows.append(
            [
                f"{_date(request.old_deadline)}→{_date(request.proposed_deadline)}",
                request.reason,
                f"{_name(request.requested_by)} {_time(request.created_at)}",
                decided or "—",
            ]
        )
    doc.table(["延期", "理由", "申请人及时间", "审批人及时间"], rows, [4, 4.5, 3.5, 3.5])


def _completion(doc: OfficialDocument, facts: ClosingFacts) -> None:
    doc.paragraph("七、整改完成及回头看", HEADING)
    completed = facts.completed
    if completed is not None:
        doc.paragraph(
            f"整改完成：{_time(completed.at)}，经{_actor(completed)}审核同意后完成整改。", indent=True
        )
    due = facts.item.follow_up_due_on
    if due is not None:
        doc.paragraph(f"回头看：计划于{cn_date(due)}开展。", indent=True)
    for entry in facts.closing:
        if entry.action == "complete":
            continue
        said = f"意见：“{entry.comment}”" if entry.comment else ""
        doc.paragraph(
            f"{RECTIFICATION.transition(entry.action).title_zh}：{_time(entry.at)}，{_actor(entry)}。{said}",
            indent=True,
        )
