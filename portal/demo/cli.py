"""`flask demo load`: one account per role, with demo passwords printed."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from portal.accounts.cli import department_by_name
from portal.accounts.operations import create_user, find_user
from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.core.timeutil import today
from portal.core.transitions import fire
from portal.evidence.operations import add_evidence_file, add_evidence_note
from portal.evidence.storage import FileStore
from portal.feedback.operations import edit_text, submit_feedback
from portal.inspections.models import MEASURE_LONG_TERM, RectificationItem
from portal.inspections.operations import set_measure_done, set_measure_status, update_document
from portal.notices.operations import find_imported, import_notice
from portal.notices.parser import parse

demo_cli = AppGroup("demo", help="Demo content for local use.")

#: login, display name, department, roles. The password is f"{login}-demo-2026".
DEMO_ACCOUNTS = (
    ("admin", "系统管理员", "办公室", ("admin",)),
    ("office", "王芳（巡察整改办）", "办公室", ("office",)),
    ("leader", "刘明（党组书记）", "局党组", ("leader",)),
    ("staff", "李强（经办人）", "财务科", ("staff",)),
    ("auditor", "陈静（纪检监察）", "纪检监察组", ("auditor",)),
)


def demo_password(login: str) -> str:
    return f"{login}-demo-2026"


SEED_NOTICE = Path(__file__).resolve().parent / "seed" / "nanshan-kjj-2020-rectification-notice.txt"

#: the smallest well-formed PDF: what an uploaded 整改报告.pdf stands for in the demo
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)

#: where each of the seed's 15 problems stands in the demo, in the notice's order
DEMO_STATES = (
    "in_progress",
    "pending_review",
    "completed",
    "assigned",
    "published",
    "follow_up",
    "completed",
    "in_progress",
    "assigned",
    "completed",
    "published",
    "in_progress",
    "assigned",
    "in_progress",
    "assigned",
)

#: Three open problems get deadlines near the day the demo is loaded (days from it), so that
#: every deadline level (三色) shows: 预警, 提醒 and 督办; the other dated ones keep the notice's
#: 2020 dates, long past (约谈). A problem's measures move with it.
DEMO_DEADLINES = {0: 10, 7: 18, 12: -5}

STEPS_TO = {
    "assigned": [],
    "in_progress": [("staff", "start")],
    "pending_review": [("staff", "start"), ("staff", "submit")],
    "completed": [("staff", "start"), ("staff", "submit"), ("leader", "approve")],
    "published": [("staff", "start"), ("staff", "submit"), ("leader", "approve"), ("leader", "publish")],
    "follow_up": [
        ("staff", "start"),
        ("staff", "submit"),
        ("leader", "approve"),
        ("office", "schedule_follow_up"),
    ],
}


def load_demo() -> list[tuple[str, str, bool]]:
    """Create the demo accounts and content that are missing; return (login, password, created)."""
    actor = Actor.system("demo")
    rows = []
    for login, name, department, roles in DEMO_ACCOUNTS:
        created = find_user(login) is None
        if created:
            create_user(
                actor,
                login=login,
                display_name=name,
                password=demo_password(login),
                department=department_by_name(actor, department),
                roles=roles,
            )
        rows.append((login, demo_password(login), created))
    text = SEED_NOTICE.read_text(encoding="utf-8")
    if find_imported(text) is None:
        _load_demo_inspection(actor, text)
    return rows


def _load_demo_inspection(actor: Actor, text: str) -> None:
    """The seed notice, imported and walked through the workflow by the demo accounts."""
    staff, leader = find_user("staff"), find_user("leader")
    parsed = parse(text)
    for number, problem in enumerate(parsed.problems):
        problem.leader_id, problem.staff_id = leader.id, staff.id
        if number in DEMO_DEADLINES and problem.deadline:
            _move_deadlines(problem, today() + timedelta(days=DEMO_DEADLINES[number]))
    inspection = import_notice(actor, parsed, text, party_secretary=leader)
    items = db.session.scalars(
        sa.select(RectificationItem)
        .where(RectificationItem.inspection_id == inspection.id)
        .order_by(RectificationItem.id)
    ).all()
    store = FileStore(current_app.config["EVIDENCE_DIR"])
    as_staff = Actor.of(staff)
    long_term_item = next(
        (i for i, s in zip(items, DEMO_STATES, strict=True) if s == "completed" and len(i.measures) > 1), None
    )
    as_office = Actor.of(find_user("office"))
    for item, state in zip(items, DEMO_STATES, strict=True):
        # the office assigns the department (only it may); the staff writes the summary
        update_document(as_office, item, {"department_id": staff.department_id})
        update_document(as_staff, item, {"completion_summary": "已按整改方案完成相关制度建设并落实到位。"})
        if state == "assigned":
            continue
        add_evidence_file(
            as_staff,
            item,
            store,
            io.BytesIO(DEMO_PDF),
            "整改报告.pdf",
            current_app.config["EVIDENCE_EXTENSIONS"],
        )
        add_evidence_note(as_staff, item, "相关制度文件及会议纪要已归档。")
        _demo_measures(as_staff, item, state, long_term=item is long_term_item)
        for login, transition in STEPS_TO[state]:
            fire(Actor.of(find_user(login)), item, transition, comment="演示数据")
    published = next(item for item, state in zip(items, DEMO_STATES, strict=True) if state == "published")
    _load_demo_feedback(inspection, published, find_user("office"))


def _move_deadlines(problem, deadline) -> None:
    """Give a parsed problem `deadline`, its measures' deadlines shifted as much."""
    shift = deadline - problem.deadline
    problem.deadline = deadline
    for measure in problem.measures:
        if measure.deadline:
            measure.deadline += shift


#: the demo's long-term measure (长期坚持), on the first completed item
LONG_TERM_REASON = "属于长效机制建设，需长期坚持，每年对照检查。"


def _demo_measures(actor: Actor, item, state: str, long_term: bool) -> None:
    """Measures as the item's state implies: an item in progress still has open measures; a
    submitted one has every measure closed (the last `long_term`, with its reason)."""
    measures = item.measures
    if state == "in_progress":
        for measure in measures[:-1][:1]:  # the first of several done, the last still open
            set_measure_done(actor, measure, True)
        return
    for measure in measures:
        if long_term and measure is measures[-1]:
            set_measure_status(actor, measure, MEASURE_LONG_TERM, LONG_TERM_REASON)
        else:
            set_measure_done(actor, measure, True)


#: public feedback on a published item, and what the office did with it
DEMO_FEEDBACK = (
    (
        "suggestion",
        "建议在单位网站公开小型工程项目的招标结果。",
        [("reply", "已采纳，招标结果将在网站公开。"), ("publish", "")],
    ),
    (
        "not_rectified",
        "该问题整改后仍有同类情况，请核实。联系人张三 13800000000。",
        [("edit", "该问题整改后仍有同类情况，请核实。"), ("publish", "")],
    ),
    ("clue", "与本问题无关的广告内容。", [("mark_spam", "")]),
    ("suggestion", "请问整改资金何时全部追回？", [("reject", "涉及个人信息，不予公开，已电话答复。")]),
    ("suggestion", "希望持续公开整改进展。", []),
)


def _load_demo_feedback(inspection, item, office) -> None:
    for kind, text, steps in DEMO_FEEDBACK:
        feedback, _code = submit_feedback(inspection, item, kind=kind, text=text)
        for step, comment in steps:
            if step == "edit":
                edit_text(Actor.of(office), feedback, comment)
            else:
                fire(Actor.of(office), feedback, step, comment=comment)


@demo_cli.command("load")
def load_command():
    """Create the demo accounts (idempotent)."""
    if not current_app.config["DEMO_ALLOWED"]:
        raise click.ClickException("demo data is refused under the production configuration")
    rows = load_demo()
    db.session.commit()
    click.echo("Demo accounts (login / password):")
    for login, password, created in rows:
        click.echo(f"  {login:<8} / {password}{'' if created else '   (already there)'}")
