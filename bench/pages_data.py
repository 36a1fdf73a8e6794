"""The data set of bench/pages.py, built through the portal's operations.

Accounts (4 office, 10 leaders, 40 staff, 1 auditor, 1 admin; 12 departments), then
ceil(items / per_inspection) inspections of 4 categories each, then the items through
`create_item` (2 measures each, a deadline from 120 days overdue to 120 days ahead), each
walked through the workflow engine (`fire`) by its own staff, its responsible leader and the
office into the state drawn for it (see WALKS): assigned, in progress, returned once and in
progress again, pending review, completed (approved: `complete` fires itself) and follow-up
check (回头看). Evidence (notes, every fifth a PDF file, public on published items) and
measures done as the state needs; a share published by the responsible leader; public
feedback (some moderated), "is it fixed?" answers and extension requests (some decided) on
some. The audit clock runs a year behind while this happens (bench/audit_scale.py's
AuditClock), so that the audit log's real events come first.

Only the padding of the audit chain up to `events` is bulk-inserted (bench/audit_scale.py's
`pad_chain`: sign-ins, failed sign-ins, measure done/undone and item edits, the hash chain
continued and the rows left as the events say): at 10,000 items the operations write about
half of 100,000 events, and writing the rest one operation at a time would take far longer
than the rest of the build for rows that the pages only read. Then ANALYZE.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock

#: everybody's password (the build uses the testing configuration's cheap scrypt)
PASSWORD = "bench-pages-1"  # noqa: S105
#: who signs in for each role's pages
LOGINS = {"office": "office0", "leader": "leader0", "staff": "staff0", "auditor": "auditor"}
#: (state reached, weight, [(who, transition)]); who: staff | leader | office
WALKS = (
    ("assigned", 20, []),
    ("in_progress", 25, [("staff", "start")]),
    (
        "returned",
        5,
        [("staff", "start"), ("staff", "submit"), ("leader", "return")],
    ),
    ("pending_review", 10, [("staff", "start"), ("staff", "submit")]),
    ("completed", 33, [("staff", "start"), ("staff", "submit"), ("leader", "approve")]),
    (
        "follow_up",
        7,
        [("staff", "start"), ("staff", "submit"), ("leader", "approve"), ("office", "schedule_follow_up")],
    ),
)
#: the share of items published by their leader, by the state they reach (never under review)
PUBLISH_SHARE = {
    "assigned": 0.1,
    "in_progress": 0.3,
    "returned": 0.3,
    "pending_review": 0.0,
    "completed": 0.7,
    "follow_up": 0.7,
}
COMMIT_EVERY = 100


def source_hash() -> str:
    """Changes when this builder does: part of the cache key."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


def _people(actor) -> dict:
    from portal.accounts.operations import create_department, create_user

    departments = [create_department(actor, f"责任部门{n:02d}") for n in range(12)]

    def make(login, name, roles, department=None):
        return create_user(
            actor, login=login, display_name=name, password=PASSWORD, roles=roles, department=department
        )

    office = [make(f"office{n}", f"督办{n}", ["office"], departments[0]) for n in range(4)]
    leaders = [make(f"leader{n}", f"领导{n}", ["leader"]) for n in range(10)]
    staff = [make(f"staff{n}", f"经办人{n}", ["staff"], departments[n % 12]) for n in range(40)]
    make("auditor", "审计员", ["auditor"])
    make("admin", "管理员", ["admin"])
    return {"departments": departments, "office": office, "leaders": leaders, "staff": staff}


def build_documents(app, n_items: int, per_inspection: int, rng: random.Random, start, log) -> dict:
    """Everything but the audit padding, through the operations; committed. Returns counts."""
    from audit_scale import AuditClock

    from portal.audit.chain import Actor
    from portal.core.extensions import db
    from portal.core.timeutil import today
    from portal.core.transitions import fire
    from portal.deadlines.operations import request_extension
    from portal.demo.cli import DEMO_PDF
    from portal.evidence.operations import add_evidence_file, add_evidence_note
    from portal.evidence.storage import FileStore
    from portal.feedback.operations import answer_fix_check, submit_feedback
    from portal.inspections.operations import (
        create_category,
        create_inspection,
        create_item,
        set_measure_done,
    )

    counts: dict[str, int] = {}
    system = Actor.system("bench")
    with app.app_context(), mock.patch("portal.audit.chain.utcnow", AuditClock(start)):
        people = _people(system)
        db.session.commit()
        store = FileStore(app.config["EVIDENCE_DIR"])
        extensions = app.config["EVIDENCE_EXTENSIONS"]
        office = Actor.of(people["office"][0])
        states = [w for w in WALKS for _ in range(w[1])]
        day = today()
        t0 = time.perf_counter()
        n = 0
        for i in range(math.ceil(n_items / per_inspection)):
            inspection = create_inspection(
                system,
                title=f"第{i + 1}轮巡察整改",
                inspected_unit=f"被巡察单位{i + 1}",
                party_secretary=people["leaders"][0],
                contact_phone="0755-12345678",
            )
            categories = [
                create_category(system, inspection, label=label, title=f"第{label}类问题", position=p)
                for p, label in enumerate(("一", "二", "三", "四"), start=1)
            ]
            for k in range(min(per_inspection, n_items - n)):
                n += 1
                state, _weight, steps = rng.choice(states)
                counts[state] = counts.get(state, 0) + 1
                worker, leader = rng.choice(people["staff"]), rng.choice(people["leaders"])
                deadline = day + timedelta(days=rng.randint(-120, 120))
                item = create_item(
                    system,
                    inspection,
                    category=categories[k % 4],
                    number=str(k + 1),
                    title=f"问题{i + 1}-{k + 1}：专项资金管理制度执行不到位",
                    feedback_text="巡察发现，部分专项资金支出审批手续不全，报销凭证不规范。",
                    responsible_leader=leader,
                    staff=worker,
                    department=worker.department,
                    deadline=deadline,
                    completion_summary="已按整改方案完成相关制度建设并落实到位。",
                    public_summary="已完成整改。",
                    measures=[
                        ("一是", f"修订专项资金管理办法{k + 1}", deadline),
                        ("二是", f"开展专项检查{k + 1}", deadline),
                    ],
                )
                as_staff, as_leader = Actor.of(worker), Actor.of(leader)
                actors = {"staff": as_staff, "leader": as_leader, "office": office}
                publish = rng.random() < PUBLISH_SHARE[state]
                if steps:
                    add_evidence_note(as_staff, item, "相关制度文件及会议纪要已归档。", public=publish)
                    if n % 5 == 0:
                        add_evidence_file(
                            as_staff,
                            item,
                            store,
                            io.BytesIO(DEMO_PDF),
                            "整改报告.pdf",
                            extensions,
                            public=publish,
                        )
                    done = item.measures if len(steps) > 1 else item.measures[:1]
                    for measure in done:
                        set_measure_done(as_staff, measure, True)
                for who, transition in steps:
                    comment = "整改不到位，请补充材料" if transition == "return" else "整改完成"
                    fire(actors[who], item, transition, comment=comment)
                if publish:
                    fire(as_leader, item, "publish")
                    counts["published"] = counts.get("published", 0) + 1
                    if rng.random() < 0.1:
                        feedback, _code = submit_feedback(
                            inspection, item, kind="suggestion", text="希望持续公开整改进展。"
                        )
                        counts["feedback"] = counts.get("feedback", 0) + 1
                        if rng.random() < 0.5:
                            fire(office, feedback, "publish")
                    if state in ("completed", "follow_up") and rng.random() < 0.2:
                        answer_fix_check(item, rng.choice(("fixed", "fixed", "partly", "not_fixed")))
                        counts["fix_checks"] = counts.get("fix_checks", 0) + 1
                if state in ("assigned", "in_progress") and deadline > day and rng.random() < 0.08:
                    request = request_extension(
                        as_staff,
                        item,
                        proposed_deadline=deadline + timedelta(days=30),
                        reason="需协调预算",
                        progress_note="方案已拟定",
                        today=day,
                    )
                    counts["extensions"] = counts.get("extensions", 0) + 1
                    if rng.random() < 0.5:
                        fire(as_leader, request, "leader_approve")
                        if rng.random() < 0.5:
                            fire(office, request, "office_approve")
                if n % COMMIT_EVERY == 0:
                    db.session.commit()
                if n % 1000 == 0 or n == n_items:
                    log(f"    {n:>6,} items through the operations  {time.perf_counter() - t0:6.1f} s")
            db.session.commit()
        db.engine.dispose()
    return counts


def analyze(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if url.startswith("postgresql") else "ANALYZE")
    engine.dispose()


def build(app, url: str, n_items: int, per_inspection: int, events: int, seed: int, log) -> dict:
    """Build the data set into the (migrated, empty) database of `app`; return what it took."""
    from audit_scale import pad_chain

    from portal.audit.chain import utcnow

    rng = random.Random(seed)
    now = utcnow()
    times = {}
    t0 = time.perf_counter()
    counts = build_documents(app, n_items, per_inspection, rng, now - timedelta(days=365), log)
    times["operations"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    info = pad_chain(app, events, rng, now - timedelta(hours=1))
    times["padding"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    analyze(url)
    times["analyze"] = time.perf_counter() - t0
    return {
        "times": times,
        "counts": counts,
        "events_from_operations": info["head_before"],
        "events_padded": info["synthetic"],
    }


def targets(app) -> dict:
    """The ids the pages use, read from the database (so that a cached one serves as well)."""
    import sqlalchemy as sa

    from portal.accounts.models import User
    from portal.core.extensions import db
    from portal.evidence.models import Evidence
    from portal.inspections.models import RectificationItem as Item

    with app.app_context():
        staff_id = db.session.scalar(sa.select(User.id).where(User.login == LOGINS["staff"]))
        # the inspection with the most published items, and its published item with most evidence
        inspection = db.session.execute(
            sa.select(Item.inspection_id, sa.func.count())
            .where(Item.publication_state == "published")
            .group_by(Item.inspection_id)
            .order_by(sa.func.count().desc(), Item.inspection_id)
            .limit(1)
        ).first()
        if inspection is None:
            raise SystemExit("the data set has no published item")
        evidence = sa.select(sa.func.count()).where(Evidence.item_id == Item.id).scalar_subquery()
        public_item = db.session.scalar(
            sa.select(Item.id)
            .where(
                Item.inspection_id == inspection[0],
                Item.publication_state == "published",
                Item.state == "completed",
            )
            .order_by(evidence.desc(), Item.id)
            .limit(1)
        )
        staff_item = db.session.scalar(
            sa.select(Item.id)
            .where(Item.staff_id == staff_id, Item.state == "in_progress")
            .order_by(evidence.desc(), Item.id)
            .limit(1)
        )
        db.session.rollback()
    if public_item is None or staff_item is None:
        raise SystemExit("the data set lacks a published completed item or an item of staff0 in progress")
    return {"inspection": inspection[0], "public_item": public_item, "staff_item": staff_item}


def head_revision() -> str:
    """The migrations' head revision (part of the cache key)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    root = Path(__file__).resolve().parents[1]
    config = Config()
    config.set_main_option("script_location", str(root / "migrations"))
    return ",".join(sorted(ScriptDirectory.from_config(config).get_heads()))
