"""The supervision pass: escalating warnings, each once per (item, level, deadline), announced
to a widening circle, idempotent and safe when two passes run at the same moment."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.core.extensions import db
from portal.inspections.models import APPROVAL_SINGLE
from portal.notifications.models import Notification
from portal.supervision.models import SupervisionWarning

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 12, 1)
#: days left on DAY -> the level the default thresholds (20 / 10 / overdue / 15 overdue) give
LEVEL_AT = {30: None, 20: "remind", 11: "remind", 10: "warn", 0: "warn", -1: "supervise", -15: "interview"}
#: level -> the personas it reaches in the world (office: every office account)
CIRCLE = {
    "remind": {"staff_resp"},
    "warn": {"staff_resp", "leader_resp"},
    "supervise": {"leader_resp", "secretary"},
    "interview": {"office"},
}


def _run(runner, day=DAY):
    result = runner.invoke(args=["supervise", "run", "--today", day.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()


def _warned(app, world):
    with app.app_context():
        rows = db.session.execute(
            sa.select(Notification.user_id, Notification.item_id, Notification.params).where(
                Notification.kind == "warning"
            )
        ).all()
        by_id = {v: k for k, v in world.users.items()}
        return {(by_id[u], item_id, params["level_id"]) for u, item_id, params in rows}


def test_each_level_reaches_its_circle_once(app, world, runner):
    items = {
        days: world.new_item(APPROVAL_SINGLE, "in_progress", deadline=DAY + timedelta(days=days))
        for days in LEVEL_AT
    }
    done = world.new_item(APPROVAL_SINGLE, "completed", deadline=DAY - timedelta(days=30))
    lines = _run(runner)
    issued = {lvl: sum(1 for v in LEVEL_AT.values() if v == lvl) for lvl in CIRCLE}
    assert lines[-1] == f"warnings issued: {sum(issued.values())}"
    assert lines[:-2] == [
        "提醒 (Reminder): 2",
        "预警 (Warning): 2",
        "督办 (Overdue: supervised): 1",
        "约谈 (Overdue: interview): 1",
    ]
    expected = {
        (persona, items[days], level)
        for days, level in LEVEL_AT.items()
        if level
        for persona in CIRCLE[level]
    }
    assert _warned(app, world) == expected
    with app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "supervision.warning")
        ).all()
        assert sorted(int(e.object_id) for e in events) == sorted(
            items[d] for d, lvl in LEVEL_AT.items() if lvl
        )
        assert done not in {int(e.object_id) for e in events}  # completed items have no level
    # again the same day: nothing twice
    assert _run(runner)[-1] == "warnings issued: 0"
    # the next day only the items that crossed a threshold: 11 → 10 days left, 0 → overdue
    lines = _run(runner, DAY + timedelta(days=1))
    assert lines[-1] == "warnings issued: 2"
    assert "预警 (Warning): 1" in lines and "督办 (Overdue: supervised): 1" in lines
    # ten days on: the 30-day item reaches 提醒, the 20-day one 预警, the 10-day one 督办
    lines = _run(runner, DAY + timedelta(days=11))
    assert lines[:-2] == [
        "提醒 (Reminder): 1",
        "预警 (Warning): 1",
        "督办 (Overdue: supervised): 1",
        "约谈 (Overdue: interview): 0",
    ]


def test_an_extended_deadline_starts_afresh_and_a_withdrawn_item_is_left_alone(app, world, runner):
    from portal.audit.chain import Actor
    from portal.inspections.operations import update_document

    item_id = world.new_item(APPROVAL_SINGLE, "in_progress", deadline=DAY + timedelta(days=5))
    withdrawn = world.new_item(APPROVAL_SINGLE, "in_progress", deadline=DAY - timedelta(days=3))
    world.fire("office", withdrawn, "withdraw", comment="误建")
    assert _run(runner)[-1] == "warnings issued: 1"
    with app.app_context():
        update_document(Actor.system("test"), world.item(item_id), {"deadline": DAY + timedelta(days=8)})
        db.session.commit()
    assert _run(runner)[-1] == "warnings issued: 1"  # 预警 again, for the new deadline
    with app.app_context():
        rows = db.session.execute(sa.select(SupervisionWarning.item_id, SupervisionWarning.deadline)).all()
    assert sorted(rows) == [(item_id, DAY + timedelta(days=5)), (item_id, DAY + timedelta(days=8))]


@pytest.mark.timeout(240)
def test_two_passes_at_the_same_moment_issue_each_warning_once(app, world, tmp_path):
    """Two processes run `flask supervise run` at once against the same database."""
    for days in (15, 5, -3, -20):
        world.new_item(APPROVAL_SINGLE, "in_progress", deadline=DAY + timedelta(days=days))
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "RECTIFY_CONFIG": "testing",
        "SECRET_KEY": "pass-race",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "HOME": str(tmp_path),
    }
    command = [
        str(Path(sys.executable).with_name("flask")),
        "--app",
        "app",
        "supervise",
        "run",
        "--today",
        str(DAY),
    ]
    passes = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=200) for p in passes]
    for process, (_out, err) in zip(passes, outputs, strict=True):
        assert process.returncode == 0, err
    totals = sorted(int(out.strip().splitlines()[-1].split(": ")[1]) for out, _err in outputs)
    assert sum(totals) == 4  # every warning once, whichever pass issued it
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SupervisionWarning)) == 4
        events = db.session.scalar(
            sa.select(sa.func.count()).where(AuditEvent.action == "supervision.warning")
        )
        assert events == 4


def test_the_letter_of_a_warning_carries_its_facts(app, world, runner, signed_in):
    import io

    from docx import Document

    item_id = world.new_item(APPROVAL_SINGLE, "in_progress", deadline=DAY - timedelta(days=3))  # 督办
    world.add_measure(item_id)
    _run(runner)
    with app.app_context():
        warning = db.session.scalar(
            sa.select(SupervisionWarning).where(SupervisionWarning.item_id == item_id)
        )
        warning_id = warning.id
    url = f"/items/{item_id}/warnings/{warning_id}.docx"
    page = signed_in("staff_resp").get(f"/items/{item_id}").text  # in the timeline, with its letter
    assert 'data-warning="supervise"' in page and "督办系统发出整改督办单" in page and f'href="{url}"' in page
    response = signed_in("leader_resp").get(url)
    assert response.status_code == 200 and response.data[:2] == b"PK"
    assert "attachment" in response.headers["Content-Disposition"]
    text = "\n".join(p.text for p in Document(io.BytesIO(response.data)).paragraphs)
    assert text.startswith("整改督办单")
    assert "加强科创中心产业用房管理" in text and "2026年11月28日" in text and "已超过整改时限3天" in text
    assert "一是、完善制度" in text  # the open measure
    assert f"督-{warning_id:06d}" in text
    assert signed_in("staff_other").get(url).status_code == 404  # not shared with them
    assert (
        signed_in("leader_resp").get(f"/items/{item_id}/warnings/{warning_id + 999}.docx").status_code == 404
    )
