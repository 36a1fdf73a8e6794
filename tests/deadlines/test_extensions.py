"""延期申请: the filing rules, the two-step decision, the deadline change it makes (a version and
an audit event in the same transaction) and the item page's deadline history."""

from datetime import date

import pytest
import sqlalchemy as sa

from portal.audit.chain import Actor
from portal.audit.models import AuditEvent
from portal.core.errors import Conflict, MissingRequirements, NotAllowed
from portal.core.extensions import db
from portal.deadlines.models import ExtensionRequest
from portal.deadlines.operations import filing_problems, request_extension
from portal.versions.models import DocumentVersion
from tests.deadlines.helpers import decide, file, in_days, new_item_with_deadline, new_request, request

FORM = {"reason": "需协调区财政局补充预算", "progress_note": "已完成现场核查，整改方案待审定"}


# --- the filing rules (unit) --------------------------------------------------------------------


class _Item:
    def __init__(self, deadline, item_id=None):
        self.deadline, self.id = deadline, item_id


DEADLINE = date(2026, 12, 20)


@pytest.mark.parametrize(
    ("today", "proposed", "problem"),
    [
        (date(2026, 12, 19), date(2027, 1, 20), None),  # the day before: fine
        (date(2026, 12, 20), date(2027, 1, 20), "deadline"),  # on the deadline: too late
        (date(2026, 12, 25), date(2027, 1, 20), "deadline"),  # after it
        (date(2026, 12, 1), date(2026, 12, 20), "proposed_deadline"),  # not later
        (date(2026, 12, 1), date(2026, 12, 10), "proposed_deadline"),  # earlier
        (date(2026, 12, 1), None, "proposed_deadline"),
    ],
)
def test_filing_is_only_before_the_deadline_and_for_a_later_date(app, today, proposed, problem):
    with app.test_request_context():
        problems = filing_problems(_Item(DEADLINE, item_id=-1), proposed, "理由", "进展", today)
    assert set(problems) == ({problem} if problem else set())
    if problem == "deadline":
        assert "2026-12-20" in problems["deadline"] and "届满前" in problems["deadline"]


def test_reason_and_progress_are_required_and_no_deadline_means_nothing_to_extend(app):
    with app.test_request_context():
        problems = filing_problems(_Item(None, item_id=-1), date(2027, 1, 1), "  ", "", date(2026, 12, 1))
    assert set(problems) == {"deadline", "reason", "progress_note"}
    assert "没有整改时限" in problems["deadline"]


def test_one_open_request_per_item(world):
    item_id = new_item_with_deadline(world)
    first = file(world, item_id)
    with world.app.app_context(), pytest.raises(MissingRequirements) as refused:
        request_extension(
            Actor.of(world.user("staff_resp")), world.item(item_id), proposed_deadline=in_days(90), **FORM
        )
    assert set(refused.value.missing) == {"open_request"}
    decide(world, "staff_resp", first, "withdraw")  # once withdrawn, another may be filed
    second = file(world, item_id, days=90)
    with world.app.app_context():
        assert request(second).extension_state == "requested"


def test_filing_from_a_stale_page_is_a_conflict(world):
    item_id = new_item_with_deadline(world)
    with world.app.app_context():
        item = world.item(item_id)
        with pytest.raises(Conflict):
            request_extension(
                Actor.of(world.user("staff_resp")),
                item,
                proposed_deadline=in_days(60),
                expected_version=item.version - 1,
                **FORM,
            )


def test_a_leader_may_not_file_for_the_staff(world):
    item_id = new_item_with_deadline(world)
    with world.app.app_context(), pytest.raises(NotAllowed):
        request_extension(
            Actor.of(world.user("leader_resp")), world.item(item_id), proposed_deadline=in_days(60), **FORM
        )


# --- the decision and its effect ---------------------------------------------------------------


def test_office_approval_changes_the_deadline_through_a_version_and_an_audit_event(world):
    item_id = new_item_with_deadline(world, days=30)
    request_id = file(world, item_id, days=75)
    assert decide(world, "leader_resp", request_id, "leader_approve") == ["leader_approve"]
    with world.app.app_context():
        assert world.item(item_id).deadline == in_days(30)  # the leader's step alone changes nothing
        versions_before = db.session.scalar(
            sa.select(sa.func.count()).where(
                DocumentVersion.object_type == "item", DocumentVersion.object_id == item_id
            )
        )
    decide(world, "office", request_id, "office_approve")
    with world.app.app_context():
        item = world.item(item_id)
        assert item.deadline == in_days(75)
        latest = db.session.scalars(
            sa.select(DocumentVersion)
            .where(DocumentVersion.object_type == "item", DocumentVersion.object_id == item_id)
            .order_by(DocumentVersion.number.desc())
        ).first()
        assert latest.number == versions_before + 1
        assert latest.data["deadline"] == in_days(75).isoformat()
        assert latest.actor_id == world.users["office"]
        actions = list(
            db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.seq.desc()).limit(3))
        )
        # the requester is told last (tests/notifications/test_decisions.py)
        assert actions[0] == "notification.send"
        assert actions[1:] == ["extension.office_approve", "item.update"] or actions[1:] == [
            "item.update",
            "extension.office_approve",
        ]
        assert request(request_id).extension_state == "approved"


def test_open_measures_due_with_the_item_move_with_it_and_milestones_stay(world):
    from portal.inspections.models import Measure
    from portal.inspections.operations import add_measure, set_measure_status

    item_id = new_item_with_deadline(world, days=30)
    with world.app.app_context():
        item, actor = world.item(item_id), Actor.system("test")
        due = {
            "with_the_item": add_measure(actor, item, label="一是", text="修订制度", deadline=in_days(30)),
            "milestone": add_measure(actor, item, label="二是", text="印发通知", deadline=in_days(10)),
            "no_date": add_measure(actor, item, label="三是", text="组织培训"),
            "done": add_measure(actor, item, label="四是", text="清理台账", deadline=in_days(30)),
        }
        set_measure_status(actor, due["done"], "done")
        db.session.commit()
        ids = {name: m.id for name, m in due.items()}
    decide(world, "leader_resp", file(world, item_id, days=75), "leader_approve")
    decide(world, "office", request_id_of(world, item_id), "office_approve")
    with world.app.app_context():
        deadlines = {name: db.session.get(Measure, i).deadline for name, i in ids.items()}
        latest = db.session.scalars(
            sa.select(DocumentVersion)
            .where(
                DocumentVersion.object_type == "measure", DocumentVersion.object_id == ids["with_the_item"]
            )
            .order_by(DocumentVersion.number.desc())
        ).first()
    assert deadlines == {
        "with_the_item": in_days(75),
        "milestone": in_days(10),
        "no_date": None,
        "done": in_days(30),
    }
    # a version of its own, by the office
    assert (latest.data["deadline"], latest.actor_id) == (in_days(75).isoformat(), world.users["office"])


def request_id_of(world, item_id: int) -> int:
    from portal.deadlines.models import ExtensionRequest

    with world.app.app_context():
        return db.session.scalar(sa.select(ExtensionRequest.id).where(ExtensionRequest.item_id == item_id))


def test_a_failed_final_approval_leaves_the_deadline_alone(world):
    """The office moved the deadline past the proposed date meanwhile: approval is refused and
    nothing is written."""
    from portal.inspections.operations import update_document

    item_id = new_item_with_deadline(world, days=30)
    request_id = new_request(world, "leader_approved", item_id=item_id)
    with world.app.app_context():
        update_document(Actor.of(world.user("office")), world.item(item_id), {"deadline": in_days(120)})
        db.session.commit()
    with world.app.app_context(), pytest.raises(MissingRequirements) as refused:
        decide(world, "office", request_id, "office_approve")
    assert set(refused.value.missing) == {"later_deadline"}
    with world.app.app_context():
        assert world.item(item_id).deadline == in_days(120)
        assert request(request_id).extension_state == "leader_approved"


def test_reject_needs_a_comment(world):
    request_id = new_request(world)
    with world.app.app_context(), pytest.raises(MissingRequirements) as refused:
        decide(world, "leader_resp", request_id, "reject", comment=" ")
    assert set(refused.value.missing) == {"comment"}


def test_a_withdrawn_item_suspends_its_requests(world):
    item_id = new_item_with_deadline(world)
    request_id = file(world, item_id)
    world.fire("office", item_id, "withdraw", comment="重复录入")
    with world.app.app_context(), pytest.raises(NotAllowed):
        decide(world, "leader_resp", request_id, "leader_approve")


# --- HTTP ----------------------------------------------------------------------------------------


def test_the_staff_files_on_the_item_page_and_the_leader_sees_it_in_the_worklist(world, signed_in):
    item_id = new_item_with_deadline(world, days=30)
    staff = signed_in("staff_resp")
    page = staff.get(f"/items/{item_id}").text
    assert 'id="extension-form"' in page and "申请延期" in page
    response = staff.post_form(
        f"/items/{item_id}/extensions", {"proposed_deadline": in_days(60).isoformat(), **FORM}
    )
    assert response.status_code == 302
    leader = signed_in("leader_resp")
    worklist = leader.get("/worklists/extensions_to_decide").text
    assert "需协调区财政局补充预算" in worklist and 'data-total="1"' in worklist
    home = leader.get("/").text
    assert 'data-worklist="extensions_to_decide"' in home and in_days(60).isoformat() in home
    assert signed_in("office").get("/worklists/extensions_to_decide").text.count("data-extension=") == 0
    item_page = leader.get(f"/items/{item_id}").text
    assert 'data-extension-transition="leader_approve"' in item_page
    assert 'data-extension-transition="reject"' in item_page


def test_a_late_request_is_refused_with_a_message_and_keeps_what_was_typed(world, signed_in):
    item_id = new_item_with_deadline(world, days=-2)  # overdue: too late to ask
    response = signed_in("staff_resp").post_form(
        f"/items/{item_id}/extensions", {"proposed_deadline": in_days(30).isoformat(), **FORM}
    )
    assert response.status_code == 400
    text = response.text
    assert "届满前" in text and in_days(-2).isoformat() in text
    assert FORM["reason"] in text and FORM["progress_note"] in text and in_days(30).isoformat() in text
    with world.app.app_context():
        assert not db.session.scalars(sa.select(ExtensionRequest)).all()


def test_an_empty_form_says_what_is_missing_in_chinese(world, signed_in):
    item_id = new_item_with_deadline(world)
    response = signed_in("staff_resp").post_form(
        f"/items/{item_id}/extensions", {"proposed_deadline": "", "reason": "", "progress_note": "已完成方案"}
    )
    assert response.status_code == 400
    assert "请填写申请延期至的日期" in response.text and "请填写延期理由" in response.text
    assert "已完成方案" in response.text


def test_a_rejection_without_comment_keeps_the_page_and_says_why(world, signed_in):
    request_id = new_request(world)
    with world.app.app_context():
        item_id = request(request_id).item_id
    response = signed_in("leader_resp").post_form(
        f"/extensions/{request_id}/transitions/reject", {"comment": ""}
    )
    assert response.status_code == 400
    assert "不予延期" in response.text and 'id="extension-refused"' in response.text
    assert f"/items/{item_id}/extensions" not in response.text  # the leader files nothing


def test_the_item_page_shows_the_deadline_history_with_who_approved(world, signed_in):
    item_id = new_item_with_deadline(world, days=30)
    new_request(world, "approved", item_id=item_id)
    page = signed_in("auditor").get(f"/items/{item_id}").text
    history = page[
        page.index('id="deadline-history"') : page.index("</ol>", page.index('id="deadline-history"'))
    ]
    assert in_days(30).isoformat() in history and in_days(60).isoformat() in history
    assert 'data-step="leader_approve"' in history and 'data-step="office_approve"' in history
    assert "leader_resp" in history and "office" in history  # display names of the approvers
    assert "已延期 1 次" in page


def test_the_public_extended_mark_counts_approved_extensions(world, client):
    item_id = world.new_item(state="published", deadline=in_days(30))
    world.fire("staff_resp", item_id, "start")
    assert 'id="extended"' not in client.get(f"/public/items/{item_id}").text
    request_id = new_request(world, "leader_approved", item_id=item_id)
    assert 'id="extended"' not in client.get(f"/public/items/{item_id}").text  # not yet approved
    decide(world, "office", request_id, "office_approve")
    assert 'id="extended"' in client.get(f"/public/items/{item_id}").text
