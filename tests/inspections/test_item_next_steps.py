"""The item page tells each role what to do next: the staff's submit checklist (with the
completion summary written on the page), the leader's one review panel, publication apart and
not while under review, approvals with their comments; worklists say who submitted and what
came back."""

import re

import sqlalchemy as sa

from portal.audit.chain import Actor
from portal.audit.models import AuditEvent
from portal.core.extensions import db
from portal.evidence.models import Evidence
from portal.evidence.operations import withdraw_evidence
from portal.inspections.models import APPROVAL_DUAL, APPROVAL_SINGLE
from portal.inspections.operations import update_document


def checks(page: str) -> dict[str, bool]:
    return {k: v == "true" for k, v in re.findall(r'data-check="(\w+)" data-done="(\w+)"', page)}


def bare_item(app, world) -> int:
    """An item in progress with neither evidence nor a completion summary."""
    item_id = world.new_item(APPROVAL_SINGLE, "in_progress")
    with app.app_context():
        item = world.item(item_id)
        for evidence in db.session.scalars(sa.select(Evidence).where(Evidence.item_id == item_id)):
            withdraw_evidence(Actor.system("test"), evidence, item)
        update_document(Actor.system("test"), item, {"completion_summary": ""})
        db.session.commit()
    return item_id


def test_the_checklist_ticks_as_the_staff_fill_in_what_submit_needs(app, world, signed_in):
    item_id = bare_item(app, world)
    world.add_measure(item_id)
    staff = signed_in("staff_resp")
    page = staff.get(f"/items/{item_id}").text
    assert checks(page) == {"measures": False, "evidence": False, "summary": False}
    assert 'href="#measures"' in page and 'href="#evidence-form"' in page and 'href="#summary-form"' in page
    assert 'data-transition="submit"' not in page and 'id="submit-waits"' in page

    # the summary, written on the item page: empty is refused, with the reason
    version = re.search(r'id="summary-form".*?name="version" value="(\d+)"', page, re.S).group(1)
    refused = staff.post_form(f"/items/{item_id}/summary", {"completion_summary": " ", "version": version})
    assert refused.status_code == 400 and 'id="summary-form"' in refused.text
    saved = staff.post_form(
        f"/items/{item_id}/summary", {"completion_summary": "已完成清查并修订制度。", "version": version}
    )
    assert saved.status_code == 302 and saved.headers["Location"].endswith("#checklist")
    with app.app_context():
        assert world.item(item_id).completion_summary == "已完成清查并修订制度。"
        assert db.session.scalar(
            sa.select(sa.func.count()).where(
                AuditEvent.action == "item.update", AuditEvent.object_id == str(item_id)
            )
        )
    staff.post_form(f"/items/{item_id}/evidence", {"note": "清查台账"})
    measure = re.search(r'data-measure="(\d+)"', staff.get(f"/items/{item_id}").text).group(1)
    staff.post_form(f"/measures/{measure}/done", {"done": "y"})
    page = staff.get(f"/items/{item_id}").text
    assert checks(page) == {"measures": True, "evidence": True, "summary": True}
    assert 'data-transition="submit"' in page and 'id="submit-waits"' not in page


def test_a_summary_saved_meanwhile_keeps_what_the_user_typed_and_shows_the_other(app, world, signed_in):
    item_id = bare_item(app, world)
    staff = signed_in("staff_resp")
    page = staff.get(f"/items/{item_id}").text
    seen = re.search(r'id="summary-form".*?name="version" value="(\d+)"', page, re.S).group(1)
    with app.app_context():  # the office saves the item in the meantime
        update_document(
            Actor.of(world.user("office")), world.item(item_id), {"completion_summary": "办公室填写的成效"}
        )
        db.session.commit()
    response = staff.post_form(
        f"/items/{item_id}/summary", {"completion_summary": "我写的整改成效", "version": seen}
    )
    assert response.status_code == 409
    assert 'id="summary-conflict"' in response.text and "办公室填写的成效" in response.text
    assert re.search(
        r'<textarea[^>]*name="completion_summary"[^>]*>\s*我写的整改成效</textarea>', response.text
    )
    with app.app_context():
        assert world.item(item_id).completion_summary == "办公室填写的成效"  # nothing overwritten
    # saving again from that page replaces it, knowingly
    current = re.search(r'id="summary-form".*?name="version" value="(\d+)"', response.text, re.S).group(1)
    again = staff.post_form(
        f"/items/{item_id}/summary", {"completion_summary": "我写的整改成效", "version": current}
    )
    assert again.status_code == 302


def test_only_who_may_edit_writes_the_summary(app, world, signed_in):
    item_id = bare_item(app, world)
    for persona in ("staff_other", "leader_other"):
        response = signed_in(persona).post_form(f"/items/{item_id}/summary", {"completion_summary": "x"})
        assert response.status_code in (403, 404), persona
    pending = world.new_item(APPROVAL_SINGLE, "pending_review")
    page = signed_in("staff_resp").get(f"/items/{pending}").text
    assert 'id="summary-form"' not in page and 'id="checklist"' not in page  # submitted: nothing to do
    assert signed_in("staff_resp").post_form(
        f"/items/{pending}/summary", {"completion_summary": "x"}
    ).status_code in (403, 404)


def test_the_leader_reviews_in_one_panel_and_publication_is_apart(app, world, signed_in):
    item_id = world.new_item(APPROVAL_DUAL, "pending_review")
    leader = signed_in("leader_resp")
    page = leader.get(f"/items/{item_id}").text
    panel = re.search(r'<section[^>]*id="review-panel".*?</section>', page, re.S).group(0)
    assert panel.count("<textarea") == 1 and panel.count("<form") == 1
    assert 'data-transition="approve"' in panel and 'data-transition="return"' in panel
    assert "staff_resp" in re.search(r'id="submitted-by".*?</div>\s*</div>', panel, re.S).group(0)
    assert 'data-transition="publish"' not in page and 'id="publication"' not in page  # under review
    response = leader.post_form(f"/items/{item_id}/transitions/return", {"comment": "", "version": "3"})
    assert response.status_code == 400 and 'id="review-comment"' in response.text
    approved = leader.post_form(
        f"/items/{item_id}/transitions/approve",
        {
            "comment": "同意，请书记审核。",
            "version": re.search(r'name="version" value="(\d+)"', panel).group(1),
        },
    )
    assert approved.status_code == 302
    approvals = re.search(r'<ul id="approvals".*?</ul>', leader.get(f"/items/{item_id}").text, re.S).group(0)
    assert "同意，请书记审核。" in approvals and "leader_resp" in approvals

    done = world.new_item(APPROVAL_SINGLE, "completed")
    page = leader.get(f"/items/{done}").text
    publication = re.search(r'<section[^>]*id="publication".*?</section>', page, re.S).group(0)
    assert 'data-transition="publish"' in publication and 'id="review-panel"' not in page


def test_worklists_say_who_submitted_and_what_came_back(app, world, signed_in):
    waiting = world.new_item(APPROVAL_SINGLE, "pending_review")
    returned = world.new_item(APPROVAL_SINGLE, "pending_review")
    world.fire("leader_resp", returned, "return", comment="请补充会议纪要。")
    review_list = signed_in("leader_resp").get("/worklists/awaiting_review").text
    row = re.search(rf'<tr data-item="{waiting}">.*?</tr>', review_list, re.S).group(0)
    assert "staff_resp" in row and 'data-submitted-days="0"' in row and "今天提交" in row
    home = signed_in("staff_resp").get("/").text
    card = re.search(r'data-worklist="my_items".*?</section>', home, re.S).group(0)
    assert card.count("data-returned") == 1 and "请补充会议纪要。" in card and "已退回" in card
    mine = signed_in("staff_resp").get("/worklists/my_items").text
    assert "请补充会议纪要。" in mine
