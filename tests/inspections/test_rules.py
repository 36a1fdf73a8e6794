"""Rules that keep what leaders sign and the public reads true: withdrawal (撤销) and restoration,
measure statuses and progress, 双审制 with two people, the ledger import's states, the notice's
numbering, and the home page's "all N" links."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.core import worklists
from portal.core.extensions import db
from portal.core.models import WorkflowHistory
from portal.core.timeutil import today
from portal.inspections.models import APPROVAL_DUAL, APPROVAL_SINGLE, Inspection, RectificationItem
from portal.inspections.operations import item_progress
from portal.inspections.queries import progress_expression
from tests.world import PERSONAS

LISTS = ["overdue", "my_items", "awaiting_review"]


def _inspection(app, world, policy=APPROVAL_SINGLE) -> Inspection:
    return db.session.get(Inspection, world.inspections[policy])


# --- withdrawal ------------------------------------------------------------------------------


def test_withdrawing_an_inspection_needs_a_reason_and_keeps_what_was_typed(app, world, signed_in):
    world.new_item(APPROVAL_SINGLE, "in_progress")
    inspection_id = world.inspections[APPROVAL_SINGLE]
    office = signed_in("office")
    response = office.post_form(f"/inspections/{inspection_id}/transitions/withdraw", {"comment": ""})
    assert response.status_code == 400
    assert "执行“撤销”需要填写意见。" in response.text
    assert 'data-transition="withdraw" open' in response.text
    with app.app_context():
        assert _inspection(app, world).lifecycle_state == "active"
    staff = signed_in("staff_resp")
    refused = staff.post_form(f"/inspections/{inspection_id}/transitions/withdraw", {"comment": "误建"})
    assert refused.status_code in (403, 404)


def test_a_withdrawn_inspection_leaves_lists_and_counts_and_comes_back(app, world, signed_in):
    inspection_id = world.inspections[APPROVAL_SINGLE]
    with app.app_context():
        day = today()
    item_id = world.new_item(APPROVAL_SINGLE, "in_progress", deadline=day - timedelta(days=3))
    world.new_item(APPROVAL_SINGLE, "pending_review")
    with app.app_context():
        before = {
            p: worklists.counts(world.user(p), day, ["overdue", "my_items", "awaiting_review"])
            for p in PERSONAS
        }
    assert before["office"]["overdue"] == 1 and before["leader_resp"]["awaiting_review"] == 1

    office = signed_in("office")
    response = office.post_form(
        f"/inspections/{inspection_id}/transitions/withdraw", {"comment": "同一通报重复导入"}
    )
    assert response.status_code == 302
    with app.app_context():
        inspection = _inspection(app, world)
        assert inspection.lifecycle_state == "withdrawn" and inspection.version == 2
        for persona in PERSONAS:
            counts = worklists.counts(world.user(persona), day, LISTS)
            assert set(counts.values()) == {0}, persona
        event = db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "workflow.withdraw")
            .order_by(AuditEvent.seq.desc())
        ).first()
        assert event.object_type == "inspection" and event.object_id == str(inspection_id)
        assert event.inspection_id == inspection_id
        history = db.session.scalars(
            sa.select(WorkflowHistory).where(WorkflowHistory.object_type == "inspection")
        ).all()
        assert [(h.action, h.comment) for h in history] == [("withdraw", "同一通报重复导入")]
    # the office and auditors still read it; the others no longer know it
    assert office.get(f"/inspections/{inspection_id}").status_code == 200
    assert "撤销" in office.get("/inspections/").text
    assert signed_in("auditor").get(f"/items/{item_id}").status_code == 200
    for persona in ("staff_resp", "leader_resp", "dept_editor"):
        client = signed_in(persona)
        assert client.get(f"/inspections/{inspection_id}").status_code == 404, persona
        assert client.get(f"/items/{item_id}").status_code == 404, persona
        assert f"/inspections/{inspection_id}" not in client.get("/inspections/").text
    # nothing moves while it is withdrawn
    assert signed_in("staff_resp").post_form(f"/items/{item_id}/transitions/submit", {}).status_code == 404

    response = office.post_form(
        f"/inspections/{inspection_id}/transitions/restore", {"comment": "核实后恢复"}
    )
    assert response.status_code == 302
    with app.app_context():
        after = {
            p: worklists.counts(world.user(p), day, ["overdue", "my_items", "awaiting_review"])
            for p in PERSONAS
        }
    assert after == before
    assert signed_in("staff_resp").get(f"/items/{item_id}").status_code == 200


def test_withdrawing_an_item_goes_through_its_workflow(app, world, signed_in):
    item_id = world.new_item(APPROVAL_SINGLE, "in_progress")
    office = signed_in("office")
    page = office.get(f"/items/{item_id}").text
    assert 'data-transition="withdraw"' in page
    assert office.post_form(f"/items/{item_id}/transitions/withdraw", {"comment": ""}).status_code == 400
    assert office.post_form(f"/items/{item_id}/transitions/withdraw", {"comment": "误建"}).status_code == 302
    page = office.get(f"/items/{item_id}").text
    assert 'id="withdrawn-note"' in page and 'data-transition="restore"' in page
    assert signed_in("staff_resp").get(f"/items/{item_id}").status_code == 404
    assert office.post_form(f"/items/{item_id}/transitions/restore", {"comment": "恢复"}).status_code == 302
    with app.app_context():
        item = world.item(item_id)
        assert (item.state, item.lifecycle_state) == ("in_progress", "active")  # as it was


def test_the_integrity_replay_follows_withdrawals(app, world, runner):
    item_id = world.new_item(APPROVAL_SINGLE, "in_progress")
    world.fire("office", item_id, "withdraw", comment="误建")
    world.fire("office", item_id, "restore", comment="恢复")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


# --- measures and progress -------------------------------------------------------------------


def test_measure_status_over_http(app, world, signed_in):
    item_id = world.new_item(APPROVAL_SINGLE, "in_progress")
    measure_id = world.add_measure(item_id)
    staff = signed_in("staff_resp")
    page = staff.get(f"/items/{item_id}").text
    assert 'id="submit-blocked"' in page and 'data-transition="submit"' not in page
    response = staff.post_form(f"/measures/{measure_id}/status", {"status": "long_term", "reason": " "})
    assert response.status_code == 400 and "理由" in response.text
    response = staff.post_form(
        f"/measures/{measure_id}/status", {"status": "long_term", "reason": "需长期坚持"}
    )
    assert response.status_code == 302
    page = staff.get(f"/items/{item_id}").text
    assert 'data-status="long_term"' in page and "需长期坚持" in page and 'id="long-term-note"' in page
    assert 'data-transition="submit"' in page and 'id="submit-blocked"' not in page
    assert signed_in("staff_other").post_form(
        f"/measures/{measure_id}/status", {"status": "open"}
    ).status_code in (403, 404)


def test_measures_are_frozen_once_submitted(app, world, signed_in):
    item_id = world.new_item(APPROVAL_SINGLE, "in_progress")
    measure_id = world.add_measure(item_id, "done")
    world.fire("staff_resp", item_id, "submit")
    office = signed_in("office")
    response = office.post_form(f"/items/{item_id}/measures", {"label": "二是", "text": "补充措施"})
    assert response.status_code == 400 and "退回" in response.text
    assert 'value="二是"' in response.text  # kept
    with app.app_context():
        from portal.inspections.models import Measure

        assert db.session.get(Measure, measure_id).status == "done"
        assert len(world.item(item_id).measures) == 1


@pytest.mark.parametrize(
    ("state", "statuses", "override", "expected"),
    [
        ("in_progress", ("done", "open"), None, 50),
        ("in_progress", ("done", "long_term"), None, 100),
        ("in_progress", ("open",), 40, 40),
        ("in_progress", (), None, 0),
        ("completed", (), None, 100),
        ("completed", ("done", "not_applicable"), 40, 100),  # completed is never below 100%
    ],
)
def test_progress_never_contradicts_the_state(app, world, state, statuses, override, expected):
    item_id = world.new_item(APPROVAL_SINGLE, "in_progress" if statuses else state)
    for status in statuses:
        world.add_measure(item_id, status, "长期坚持")
    if state == "completed" and statuses:
        world.fire("staff_resp", item_id, "submit")
        world.fire("leader_resp", item_id, "approve")
    with app.app_context():
        item = world.item(item_id)
        item.progress_override = override
        db.session.commit()
        assert item.state == state
        sql = db.session.scalar(sa.select(progress_expression()).where(RectificationItem.id == item_id))
        assert item_progress(item) == int(sql) == expected


def test_progress_cannot_be_set_to_100_while_measures_are_open(app, world, signed_in):
    item_id = world.new_item(APPROVAL_SINGLE, "in_progress")
    world.add_measure(item_id)
    office = signed_in("office")
    with app.app_context():
        version = world.item(item_id).version
    response = office.post_form(
        f"/items/{item_id}/edit",
        {
            "title": "加强科创中心产业用房管理",
            "progress_override": "100",
            "version": str(version),
            **{k: "0" for k in ("category_id", "responsible_leader_id", "department_id", "staff_id")},
        },
    )
    assert response.status_code == 400 and "100%" in response.text
    with app.app_context():
        assert world.item(item_id).progress_override is None


# --- 双审制 over HTTP ---------------------------------------------------------------------------


def test_dual_review_with_one_person_is_refused_on_the_inspection_form(app, world, signed_in):
    world.new_item(APPROVAL_SINGLE, "assigned")  # led by leader_resp
    inspection_id = world.inspections[APPROVAL_SINGLE]
    response = signed_in("office").post_form(
        f"/inspections/{inspection_id}/edit",
        {
            "title": "改为双审制的轮次",
            "approval_policy": APPROVAL_DUAL,
            "party_secretary_id": str(world.users["leader_resp"]),
        },
    )
    assert response.status_code == 400 and "双审制" in response.text
    assert 'value="改为双审制的轮次"' in response.text  # what was typed is kept
    with app.app_context():
        assert _inspection(app, world).approval_policy == APPROVAL_SINGLE


# --- the ledger ------------------------------------------------------------------------------


def test_a_ledger_cannot_set_states_or_full_progress(app, world, signed_in):
    from tests.ledger.test_ledger import workbook

    office = signed_in("office")
    data = workbook(
        [
            [
                "1",
                "一、制度建设",
                "制度不健全",
                "一是完善制度",
                "",
                "",
                "",
                "2026-12-31",
                "已完成",
                "100%",
                "",
                "",
            ],
            [
                "2",
                "一、制度建设",
                "台账不规范",
                "一是建立台账",
                "",
                "",
                "",
                "2026-12-31",
                "已交办",
                "40%",
                "",
                "",
            ],
        ]
    )
    import io

    response = office.post(
        "/inspections/import-ledger",
        data={
            "file": (io.BytesIO(data), "台账.xlsx"),
            "title": "台账导入",
            "csrf_token": office.csrf_token(),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200 and "未予采用" in response.text and "alert-warning" in response.text
    with app.app_context():
        items = db.session.scalars(
            sa.select(RectificationItem)
            .join(Inspection, Inspection.id == RectificationItem.inspection_id)
            .where(Inspection.title == "台账导入")
            .order_by(RectificationItem.id)
        ).all()
        assert [(i.state, item_progress(i)) for i in items] == [("assigned", 0), ("assigned", 40)]
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "ledger.import"))
        assert '"status":"已完成"' in event.payload.replace(" ", "")


# --- the notice ------------------------------------------------------------------------------


def test_the_notice_counts_everything_and_numbers_what_it_shows_without_gaps(app, world):
    from portal.notices.export import build_notice

    ids = [world.new_item(APPROVAL_SINGLE, "assigned") for _ in range(5)]
    with app.app_context():
        for n, item_id in enumerate(ids, start=1):
            world.item(item_id).number = str(n)
        db.session.commit()
        inspection = _inspection(app, world)
        shown = [world.item(i) for i in (ids[1], ids[2], ids[4])]
        notice = build_notice(inspection, shown)
        assert "对巡察反馈的5项问题" in notice.organisation
        assert "本通报公布其中3项" in notice.organisation
        assert [p.number for s in notice.sections for p in s.problems] == ["1", "2", "3"]


# --- home ------------------------------------------------------------------------------------


def test_home_cards_link_to_all_of_their_rows(app, world, signed_in):
    for _ in range(7):
        world.new_item(APPROVAL_SINGLE, "in_progress")
    page = signed_in("staff_resp").get("/").text
    assert 'data-all="my_items"' in page and "查看全部 7 项" in page


def test_an_import_under_dual_review_with_one_person_is_refused_and_kept(app, world, signed_in):
    from tests.notices.test_import_page import NOTICE, imported_count, preview_data, token_of, upload_text

    office = signed_in("office")
    text = NOTICE.read_text(encoding="utf-8")
    token = token_of(upload_text(office, text))
    secretary = str(world.users["leader_resp"])
    data = preview_data(
        token,
        text,
        approval_policy=APPROVAL_DUAL,
        party_secretary_id=secretary,
        **{"categories-0-problems-0-leader_id": secretary, "categories-0-problems-0-title": "改过的标题"},
    )
    response = office.post_form("/inspections/import/confirm", data)
    assert response.status_code == 400 and "双审制" in response.text
    assert 'value="改过的标题"' in response.text and token_of(response) == token  # kept, still usable
    assert imported_count(app) == 0
    data["categories-0-problems-0-leader_id"] = str(world.users["leader_other"])
    assert office.post_form("/inspections/import/confirm", data).status_code == 302
    assert imported_count(app) == 1


def test_a_withdrawal_changed_behind_the_workflow_is_caught(app, world, runner):
    """The integrity replay follows the lifecycle too: a stored state its history does not
    imply (an item quietly withdrawn by SQL) is reported."""
    item_id = world.new_item(APPROVAL_SINGLE, "in_progress")
    with app.app_context():
        db.session.execute(
            sa.update(RectificationItem)
            .where(RectificationItem.id == item_id)
            .values(lifecycle_state="withdrawn")
        )
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0 and f"item:{item_id}" in result.output
