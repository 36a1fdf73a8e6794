"""转办: the office forwards a public report to a responsible department, whose staff find it in
their worklist (page and count), read it with its item and mark it handled; every action in the
queue says what happened."""

import json
import re

import pytest
import sqlalchemy as sa

from portal.accounts.models import Department
from portal.audit.chain import Actor
from portal.audit.models import AuditEvent
from portal.core import worklists
from portal.core.errors import OperationError
from portal.core.extensions import db
from portal.core.models import WorkflowHistory
from portal.core.timeutil import today
from portal.feedback.models import Feedback
from portal.feedback.operations import forward_feedback, mark_handled, submit_feedback
from portal.inspections.models import RectificationItem
from tests.world import PERSONAS


@pytest.fixture
def report(app, world):
    """A pending report on a published item whose responsible department is 财务科."""
    item_id = world.new_item(state="completed")
    world.fire("leader_resp", item_id, "publish")
    with app.app_context():
        item = db.session.get(RectificationItem, item_id)
        item.department_id = db.session.scalar(sa.select(Department.id).where(Department.name == "财务科"))
        feedback, _code = submit_feedback(
            item.inspection, item, kind="not_rectified", text="门口仍堆放杂物。"
        )
        db.session.commit()
        return feedback.id


def forwarded_ids(world, persona):
    return {f.id for f in worklists.page("forwarded_feedback", world.user(persona), today()).items}


def test_forwarding_puts_the_report_on_the_departments_worklist(app, world, report):
    with app.app_context():
        feedback = db.session.get(Feedback, report)
        finance = db.session.scalar(sa.select(Department).where(Department.name == "财务科"))
        assert all(not forwarded_ids(world, p) for p in PERSONAS)
        forward_feedback(Actor.of(world.user("office")), feedback, finance, "请核实后报巡察办。")
        db.session.commit()
        assert feedback.forwarded_department_id == finance.id and feedback.forwarded_at is not None
        assert feedback.moderation_state == "pending"  # moderation and the reply stay with the office
        # Exactly the department's staff: dept_editor is 财务科's only member.
        assert {p for p in PERSONAS if forwarded_ids(world, p)} == {"dept_editor"}
        assert worklists.count("forwarded_feedback", world.user("dept_editor"), today()) == 1
        for persona in PERSONAS:  # the SQL list and the one-object rule agree
            assert worklists.contains("forwarded_feedback", world.user(persona), feedback, today()) == (
                persona == "dept_editor"
            )
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "moderation.forward"))
        assert (
            event.object_id == str(report)
            and json.loads(event.payload)["comment"] == "财务科：请核实后报巡察办。"
        )
        history = db.session.scalar(sa.select(WorkflowHistory).where(WorkflowHistory.action == "forward"))
        assert history.comment == "财务科：请核实后报巡察办。"


def test_only_the_office_forwards_and_only_the_department_marks_handled(app, world, report):
    with app.app_context():
        feedback = db.session.get(Feedback, report)
        finance = db.session.scalar(sa.select(Department).where(Department.name == "财务科"))
        for persona in set(PERSONAS) - {"office"}:
            with pytest.raises(OperationError) as refused:
                forward_feedback(Actor.of(world.user(persona)), feedback, finance)
            assert refused.value.status == 403, persona
        with pytest.raises(OperationError):  # not forwarded yet: nobody marks it handled
            mark_handled(Actor.of(world.user("dept_editor")), feedback)
        forward_feedback(Actor.of(world.user("office")), feedback, finance)
        db.session.commit()
        for persona in set(PERSONAS) - {"dept_editor"}:
            with pytest.raises(OperationError):
                mark_handled(Actor.of(world.user(persona)), feedback)
        mark_handled(Actor.of(world.user("dept_editor")), feedback, "已清理。")
        db.session.commit()
        assert feedback.forward_handled_at is not None
        assert not forwarded_ids(world, "dept_editor")
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(AuditEvent.action == "moderation.mark_handled")
            )
            == 1
        )


def test_forward_from_the_queue_then_the_department_handles_it(app, world, report, signed_in):
    office = signed_in("office")
    queue = office.get("/feedback/").text
    row = re.search(rf'<article class="[^"]*" data-feedback="{report}".*?</article>', queue, re.S).group(0)
    assert 'href="/items/' in row and "data-item-link" in row  # a link to its item
    assert re.search(r'<option value="\d+" selected>财务科</option>', row)  # its department, preselected
    with app.app_context():
        finance_id = db.session.scalar(sa.select(Department.id).where(Department.name == "财务科"))
    response = office.post_form(f"/feedback/{report}/forward", {"department_id": finance_id, "note": ""})
    assert response.status_code == 302
    assert "已转办给财务科" in office.get(response.location).text
    assert 'data-forwarded="财务科"' in office.get("/feedback/").text

    staff = signed_in("dept_editor")
    home = staff.get("/").text
    assert 'data-worklist="forwarded_feedback"' in home and "门口仍堆放杂物" in home
    page = staff.get("/worklists/forwarded_feedback")
    assert page.status_code == 200 and 'data-total="1"' in page.text and "转办给本部门的意见" in page.text
    assert "门口仍堆放杂物" in page.text and "data-item-link" in page.text
    done = staff.post_form(f"/feedback/{report}/handled", {"note": "已清理"})
    assert done.status_code == 302
    assert "已办理完毕" in staff.get(done.location).text
    assert 'data-total="0"' in staff.get("/worklists/forwarded_feedback").text
    assert signed_in("staff_other").get("/worklists/forwarded_feedback").text.count("data-feedback=") == 0
    assert signed_in("staff_other").post_form(f"/feedback/{report}/handled", {}).status_code == 403
    assert staff.post_form(f"/feedback/{report}/forward", {"department_id": finance_id}).status_code == 403


def test_forwarding_without_a_department_says_so(app, world, report, signed_in):
    office = signed_in("office")
    response = office.post_form(f"/feedback/{report}/forward", {"department_id": ""})
    assert "请选择转办的部门" in office.get(response.location).text
    response = office.post_form(f"/feedback/{report}/forward", {"department_id": "99999"})
    assert "请选择转办的部门" in office.get(response.location).text
    with app.app_context():
        assert db.session.get(Feedback, report).forwarded_department_id is None


def test_every_queue_action_says_what_happened(app, world, report, signed_in):
    office = signed_in("office")
    said = office.get(office.post_form(f"/feedback/{report}/reply", {"reply": "已督促整改。"}).location).text
    assert f"已答复第 {report} 条意见" in said
    said = office.get(
        office.post_form(f"/feedback/{report}/edit", {"text": "门口仍堆放杂物（已核实）。"}).location
    ).text
    assert f"已修改第 {report} 条意见建议的文字" in said
    said = office.get(
        office.post_form("/feedback/bulk", {"ids": [report], "action": "publish"}).location
    ).text
    assert "已公开 1 条" in said
