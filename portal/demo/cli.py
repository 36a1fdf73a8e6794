"""`flask demo load`: one account per role, with demo passwords printed."""

from __future__ import annotations

import io
from datetime import date

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from portal.accounts.cli import department_by_name
from portal.accounts.operations import create_user, find_user
from portal.audit.chain import Actor
from portal.evidence.operations import add_evidence_file, add_evidence_note
from portal.evidence.storage import FileStore
from portal.extensions import db
from portal.inspections.models import Inspection
from portal.inspections.operations import (
    add_measure,
    create_category,
    create_inspection,
    create_item,
    set_measure_done,
)
from portal.workflow.operations import fire_transition

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


DEMO_INSPECTION = "中共深圳市南山区科技创新局党组关于巡察整改情况的通报（演示）"

#: (category label, category title, [(number, title, deadline, state to reach)])
DEMO_ITEMS = (
    ("一", "对于区委专题会议([2019]5号)涉及区科技创新局有关问题的整改", [
        ("1", "加强科创中心产业用房管理", date(2020, 4, 30), "in_progress"),
        ("2", "加强自行采购招标的小型工程项目管理", date(2020, 6, 30), "pending_review"),
    ]),
    ("二", "学习制度不够落实,党建工作基础薄弱", [
        ("1", "‘第一议题’学习不到位", date(2020, 3, 31), "completed"),
        ("2", "党建责任落实不到位", date(2020, 12, 31), "assigned"),
    ]),
)

#: measures of the second item, labels as written in the notice
DEMO_MEASURES = (
    ("一是", "经局党组会审议印发《关于进一步加强自行采购管理工作的通知》，规范小型工程自行采购流程。"),
    ("二是", "区科创中心制定《南山区科技创业服务中心支出管理制度》，严格履行审批流程。"),
    ("三是", "严格执行《南山区建设工程预选库管理办法》，从预算库中选取供应商。"),
)

#: the smallest well-formed PDF: what an uploaded 整改报告.pdf stands for in the demo
DEMO_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

STEPS_TO = {
    "assigned": [],
    "in_progress": [("staff", "start")],
    "pending_review": [("staff", "start"), ("staff", "submit")],
    "completed": [("staff", "start"), ("staff", "submit"), ("leader", "approve")],
}


def load_demo() -> list[tuple[str, str, bool]]:
    """Create the demo accounts and content that are missing; return (login, password, created)."""
    actor = Actor.system("demo")
    rows = []
    for login, name, department, roles in DEMO_ACCOUNTS:
        created = find_user(login) is None
        if created:
            create_user(actor, login=login, display_name=name, password=demo_password(login),
                        department=department_by_name(actor, department), roles=roles)
        rows.append((login, demo_password(login), created))
    if db.session.scalar(sa.select(Inspection.id).where(Inspection.title == DEMO_INSPECTION)) is None:
        _load_demo_inspection(actor)
    return rows


def _load_demo_inspection(actor: Actor) -> None:
    """The seed notice's first problems, walked through the workflow by the demo accounts."""
    staff, leader = find_user("staff"), find_user("leader")
    inspection = create_inspection(
        actor, title=DEMO_INSPECTION, inspected_unit="区科技创新局党组",
        inspection_team="区委第二巡察组", party_secretary=leader, start_date=date(2019, 9, 9),
        end_date=date(2019, 11, 8), feedback_date=date(2019, 12, 10))
    for position, (label, title, items) in enumerate(DEMO_ITEMS):
        category = create_category(actor, inspection, label=label, title=title, position=position)
        for number, item_title, deadline, state in items:
            item = create_item(actor, inspection, category=category, number=number,
                               title=item_title, responsible_leader=leader, staff=staff,
                               department=staff.department, deadline=deadline,
                               completion_summary="已制定并印发相关制度，按计划推进。")
            if number == "2" and label == "一":
                for measure_label, text in DEMO_MEASURES:
                    measure = add_measure(actor, item, label=measure_label, text=text)
                    set_measure_done(Actor.of(staff), measure, True)
                add_evidence_file(Actor.of(staff), item, FileStore(current_app.config["EVIDENCE_DIR"]),
                                  io.BytesIO(DEMO_PDF), "整改报告.pdf",
                                  current_app.config["EVIDENCE_EXTENSIONS"])
            add_evidence_note(Actor.of(staff), item, "《关于进一步加强自行采购管理工作的通知》")
            for login, transition in STEPS_TO[state]:
                fire_transition(find_user(login), item, transition, comment="演示数据")


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
