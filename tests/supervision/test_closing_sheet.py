"""The 对账销号单 of a completed item: downloadable by who may see the item once it is completed,
and it carries the facts (read back with python-docx)."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC

import docx
import sqlalchemy as sa
from flask_babel import format_datetime

from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.core.models import WorkflowHistory
from portal.evidence.operations import add_evidence_file
from portal.evidence.storage import FileStore
from portal.inspections.models import APPROVAL_DUAL, APPROVAL_SINGLE
from portal.workflow.models import Approval
from tests.deadlines.helpers import decide, file, in_days
from tests.evidence.test_evidence import PDF


def _text(body: bytes) -> str:
    """Every paragraph and table cell of the document, one per line."""
    document = docx.Document(io.BytesIO(body))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(lines)


def _closed_item(app, world) -> int:
    """Under 双审制: measures of each closing status, a file, an approved extension."""
    item_id = world.new_item(APPROVAL_DUAL, "in_progress", deadline=in_days(20))
    world.add_measure(item_id, "done")
    world.add_measure(item_id, "long_term", "制度建设须长期坚持，每季度复查")
    world.add_measure(item_id, "not_applicable", "该科室已撤并")
    with app.app_context():
        add_evidence_file(
            Actor.of(world.user("staff_resp")),
            world.item(item_id),
            FileStore(app.config["EVIDENCE_DIR"]),
            io.BytesIO(PDF),
            "整改报告（定稿）.pdf",
            ("pdf",),
        )
        db.session.commit()
    request_id = file(world, item_id, days=50, reason="需协调区财政局补充预算")
    decide(world, "leader_resp", request_id, "leader_approve")
    decide(world, "office", request_id, "office_approve")
    world.fire("staff_resp", item_id, "submit")
    world.fire("leader_resp", item_id, "approve")
    world.fire("secretary", item_id, "approve", comment="同意销号")
    return item_id


def _at(value) -> str:
    return format_datetime(value.replace(tzinfo=UTC), "yyyy-MM-dd HH:mm")


def test_the_sheet_carries_the_facts(app, world, signed_in):
    item_id = _closed_item(app, world)
    response = signed_in("office").get(f"/items/{item_id}/closing-sheet.docx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert (
        "%E5%AF%B9%E8%B4%A6%E9%94%80%E5%8F%B7%E5%8D%95" in response.headers["Content-Disposition"]
    )  # 对账销号单
    text = _text(response.data)
    with app.test_request_context():
        item = world.item(item_id)
        assert "整改事项对账销号单" in text and item.title in text and item.inspection.title in text
        assert "责任领导 | leader_resp" in text and "责任人 | staff_resp" in text
        for measure, status in zip(item.measures, ("已完成", "长期坚持", "不适用"), strict=True):
            assert f"{measure.label} | {measure.text} | {status} | {measure.status_reason or '—'}" in text
        assert "制度建设须长期坚持，每季度复查" in text and "该科室已撤并" in text
        assert item.completion_summary in text
        assert hashlib.sha256(PDF).hexdigest() in text and "整改报告（定稿）.pdf" in text
        assert "文字说明：《管理规定》修订稿" in text  # the world's note evidence, no hash to give
        approvals = db.session.scalars(sa.select(Approval).where(Approval.item_id == item_id)).all()
        assert {a.user.display_name for a in approvals} == {"leader_resp", "secretary"}
        for approval in approvals:
            assert f"{approval.user.display_name} | 审核同意 | {_at(approval.approved_at)}" in text
        # the deadline: the original one and the approved extension, with who decided when
        assert f"原定整改时限：{in_days(20).year}年{in_days(20).month}月{in_days(20).day}日" in text
        assert "需协调区财政局补充预算" in text and "巡察办批准延期：office" in text
        assert "责任领导同意：leader_resp" in text
        completed = db.session.scalar(
            sa.select(WorkflowHistory).where(
                WorkflowHistory.object_id == item_id, WorkflowHistory.action == "complete"
            )
        )
        assert f"整改完成：{_at(completed.at)}，经secretary审核同意后完成整改。" in text
        due = item.follow_up_due_on
        assert f"回头看：计划于{due.year}年{due.month}月{due.day}日开展。" in text


def test_the_sheet_tells_of_the_follow_up_check(app, world, signed_in):
    item_id = world.new_item(APPROVAL_SINGLE, "follow_up")
    world.fire("office", item_id, "confirm")
    text = _text(signed_in("leader_resp").get(f"/items/{item_id}/closing-sheet.docx").data)
    assert "安排回头看：" in text and "确认整改到位：" in text
    assert "回头看：计划于" not in text  # checked already: nothing is scheduled
    assert "未申请延期" in text


def test_only_completed_items_and_only_for_who_may_see_them(app, world, signed_in):
    open_item = world.new_item(APPROVAL_SINGLE, "pending_review")
    done = world.new_item(APPROVAL_SINGLE, "completed")
    assert signed_in("office").get(f"/items/{open_item}/closing-sheet.docx").status_code == 404
    assert 'id="closing-sheet"' not in signed_in("office").get(f"/items/{open_item}").text
    page = signed_in("office").get(f"/items/{done}").text
    assert f'href="/items/{done}/closing-sheet.docx"' in page and "对账销号单" in page
    assert signed_in("auditor").get(f"/items/{done}/closing-sheet.docx").status_code == 200
    assert signed_in("staff_other").get(f"/items/{done}/closing-sheet.docx").status_code == 404
    assert app.test_client().get(f"/items/{done}/closing-sheet.docx").status_code == 302  # sign in first
