"""Documents through HTTP: create and edit every document, overview roll-ups, measures,
versions with diffs and revert, item page SQL budget."""

import re

import sqlalchemy as sa

from portal.core.extensions import db
from portal.inspections.models import Category, Inspection, Measure, RectificationItem
from portal.versions.models import DocumentVersion
from tests.helpers import count_statements, count_writes, render_every_time


def test_office_creates_inspection_category_and_item(app, world, signed_in):
    office = signed_in("office")
    response = office.post_form(
        "/inspections/new",
        {
            "title": "区卫健局党委巡察整改",
            "inspected_unit": "区卫健局党委",
            "inspection_team": "区委第一巡察组",
            "start_date": "2026-03-01",
            "end_date": "2026-02-01",
            "approval_policy": "dual",
            "party_secretary_id": "0",
        },
    )
    assert response.status_code == 200  # refused, the form comes back filled in
    assert "结束日期早于开始日期" in response.text or "end date" in response.text.lower()
    assert 'value="区卫健局党委巡察整改"' in response.text
    response = office.post_form(
        "/inspections/new",
        {
            "title": "区卫健局党委巡察整改",
            "inspected_unit": "区卫健局党委",
            "start_date": "2026-03-01",
            "end_date": "2026-04-30",
            "approval_policy": "single",
            "party_secretary_id": "0",
            "contact_phone": "0755-12345678",
        },
    )
    assert response.status_code == 302
    inspection_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert (
        office.post_form(
            f"/inspections/{inspection_id}/categories/new",
            {"label": "一", "title": "党建工作不扎实", "position": "1"},
        ).status_code
        == 302
    )
    with app.app_context():
        category_id = db.session.scalar(sa.select(Category.id).where(Category.inspection_id == inspection_id))
    response = office.post_form(
        f"/inspections/{inspection_id}/items/new",
        {
            "category_id": category_id,
            "number": "1",
            "title": "“第一议题”学习不到位",
            "responsible_leader_id": world.users["leader_resp"],
            "staff_id": world.users["staff_resp"],
            "department_id": "0",
            "deadline": "2026-06-30",
            "money_to_recover": "161000.00",
        },
    )
    assert response.status_code == 302, response.text
    item_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = office.get(f"/items/{item_id}").text
    assert "“第一议题”学习不到位" in page and "161,000.00" in page
    overview = office.get(f"/inspections/{inspection_id}").text
    assert "党建工作不扎实" in overview and f'data-item="{item_id}"' in overview
    with app.app_context():
        item = db.session.get(RectificationItem, item_id)
        assert item.state == "assigned" and str(item.money_to_recover) == "161000.00"


def test_bad_amount_and_missing_title_are_explained(app, world, signed_in):
    office = signed_in("office")
    response = office.post_form(
        f"/inspections/{world.inspections['single']}/items/new",
        {
            "category_id": "0",
            "title": "",
            "money_to_recover": "-5",
            "responsible_leader_id": "0",
            "staff_id": "0",
            "department_id": "0",
        },
    )
    assert response.status_code == 200
    assert "金额不能为负数" in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RectificationItem)) == 0


def test_only_office_creates_inspections(world, signed_in):
    for persona in ("staff_resp", "leader_resp", "auditor"):
        assert signed_in(persona).get("/inspections/new").status_code == 403


def test_measures_roll_up_into_progress(app, world, signed_in):
    item_id = world.new_item(state="in_progress")
    office = signed_in("office")
    for label in ("一是", "二是", "四是"):  # a gap in the labels stays as written
        office.post_form(f"/items/{item_id}/measures", {"label": label, "text": f"{label}措施"})
    with app.app_context():
        measures = db.session.scalars(
            sa.select(Measure).where(Measure.item_id == item_id).order_by(Measure.position)
        ).all()
        assert [m.label for m in measures] == ["一是", "二是", "四是"]
        ids = [m.id for m in measures]
    staff = signed_in("staff_resp")
    for measure_id in ids[:2]:
        assert staff.post_form(f"/measures/{measure_id}/done", {"done": "y"}).status_code == 302
    page = staff.get(f"/items/{item_id}").text
    assert 'data-progress="67"' in page
    overview = staff.get(f"/inspections/{world.inspections['single']}").text
    assert 'data-progress="67"' in overview
    assert signed_in("auditor").post_form(f"/measures/{ids[2]}/done", {"done": "y"}).status_code == 403


def test_edit_creates_a_version_and_stale_edit_is_409(app, world, signed_in):
    item_id = world.new_item()
    office = signed_in("office")
    form = office.get(f"/items/{item_id}/edit").text
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1)
    data = {
        "category_id": world.categories["single"],
        "number": "1",
        "title": "加强科创中心产业用房的管理",
        "responsible_leader_id": world.users["leader_resp"],
        "staff_id": world.users["staff_resp"],
        "department_id": "0",
        "version": version,
        "change_note": "标题按原文更正",
    }
    assert office.post_form(f"/items/{item_id}/edit", data).status_code == 302
    assert office.post_form(f"/items/{item_id}/edit", {**data, "title": "别的标题"}).status_code == 409
    with app.app_context():
        versions = db.session.scalars(
            sa.select(DocumentVersion)
            .where(DocumentVersion.object_type == "item", DocumentVersion.object_id == item_id)
            .order_by(DocumentVersion.number)
        ).all()
        assert [v.number for v in versions] == [1, 2]
        assert versions[1].note == "标题按原文更正"
        assert db.session.get(RectificationItem, item_id).title == "加强科创中心产业用房的管理"


def test_diff_highlights_changed_characters_and_revert_keeps_state(app, world, signed_in):
    item_id = world.new_item(state="in_progress")
    office = signed_in("office")
    with app.app_context():
        item = db.session.get(RectificationItem, item_id)
        data = {
            "category_id": item.category_id,
            "number": "1",
            "title": "加强科创中心产业用房的规范管理",
            "responsible_leader_id": item.responsible_leader_id,
            "staff_id": item.staff_id,
            "department_id": "0",
            "completion_summary": item.completion_summary,
        }
    assert office.post_form(f"/items/{item_id}/edit", data).status_code == 302
    page = office.get(f"/versions/item/{item_id}?a=1&b=2").text
    assert '<ins class="diff-insert">的规范</ins>' in page
    assert 'data-field="title"' in page and 'data-field="number"' not in page
    response = office.post_form(f"/versions/item/{item_id}/1/revert", {"change_note": "撤销修改"})
    assert response.status_code == 302
    with app.app_context():
        item = db.session.get(RectificationItem, item_id)
        assert item.title == "加强科创中心产业用房管理" and item.state == "in_progress"
        numbers = db.session.scalars(
            sa.select(DocumentVersion.number).where(
                DocumentVersion.object_type == "item", DocumentVersion.object_id == item_id
            )
        ).all()
        assert sorted(numbers) == [1, 2, 3]
    assert signed_in("auditor").post_form(f"/versions/item/{item_id}/1/revert", {}).status_code == 403


def test_inspection_and_category_edits_are_versioned(app, world, signed_in):
    office = signed_in("office")
    inspection_id, category_id = world.inspections["single"], world.categories["single"]
    assert (
        office.post_form(
            f"/categories/{category_id}/edit",
            {"label": "一", "title": "对于区委专题会议涉及问题的整改（修订）", "position": "0"},
        ).status_code
        == 302
    )
    assert "（修订）" in office.get(f"/versions/category/{category_id}").text
    with app.app_context():
        inspection = db.session.get(Inspection, inspection_id)
        title = inspection.title
    response = office.post_form(
        f"/inspections/{inspection_id}/edit",
        {"title": title + "（更新）", "approval_policy": "single", "party_secretary_id": "0"},
    )
    assert response.status_code == 302
    assert "（更新）" in office.get(f"/versions/inspection/{inspection_id}?a=1&b=2").text


def test_not_shared_items_are_404(app, world, signed_in):
    item_id = world.new_item()
    other = signed_in("staff_other")
    for url in (f"/items/{item_id}", f"/items/{item_id}/edit", f"/versions/item/{item_id}"):
        assert other.get(url).status_code == 404, url
    assert signed_in("dept_editor").get(f"/items/{item_id}").status_code == 200  # 财务科 grant


def test_item_page_runs_a_constant_number_of_statements(app, world, signed_in):
    from portal.audit.chain import Actor
    from portal.evidence.operations import add_evidence_note
    from portal.inspections.operations import add_measure, set_measure_status

    render_every_time(app)

    def statements_for(item_id):
        client = signed_in("leader_resp")
        client.get(f"/items/{item_id}")  # warm caches (translations, templates)
        with app.app_context():
            engine = db.engine
        with count_statements(engine) as seen, count_writes(engine) as writes:
            assert client.get(f"/items/{item_id}").status_code == 200
        assert writes == []
        return len(seen)

    small, large = world.new_item(state="in_progress"), world.new_item(state="in_progress")
    with app.app_context():
        actor = Actor.system("test")
        for n, item_id in ((3, small), (300, large)):
            item = db.session.get(RectificationItem, item_id)
            for k in range(n):
                measure = add_measure(actor, item, label=f"{k}是", text=f"措施{k}")
                set_measure_status(actor, measure, "done" if k % 2 else "long_term", "长期坚持")
                add_evidence_note(actor, item, f"材料{k}")
        db.session.commit()
    for item_id in (small, large):  # measures closed: the items can complete
        world.fire("staff_resp", item_id, "submit")
        world.fire("leader_resp", item_id, "approve")
    for _ in range(40):  # a long workflow history on the large item
        world.fire("office", large, "schedule_follow_up")
        world.fire("office", large, "confirm")
    assert statements_for(small) == statements_for(large)


def test_a_refused_measure_keeps_what_was_typed(app, world, signed_in):
    item_id = world.new_item()
    response = signed_in("office").post_form(f"/items/{item_id}/measures", {"label": "二是", "text": ""})
    assert response.status_code == 400
    assert 'value="二是"' in response.text and '<details class="mb-3" open>' in response.text


def test_the_overview_runs_a_constant_number_of_statements(app, world, signed_in):
    """Progress and deadline levels (三色) of every row come from the same statement."""
    from datetime import timedelta

    from portal.core.timeutil import today

    client = signed_in("office")
    inspection_id = world.inspections["single"]

    render_every_time(app)

    def statements():
        client.get(f"/inspections/{inspection_id}")  # warm caches (translations, templates)
        with app.app_context():
            engine = db.engine
        with count_statements(engine) as seen, count_writes(engine) as writes:
            page = client.get(f"/inspections/{inspection_id}").text
        assert writes == []
        return len(seen), page.count("data-level=")

    with app.app_context():
        day = today()
    world.new_item(state="in_progress", deadline=day + timedelta(days=10))
    few, marked = statements()
    assert marked == 1
    for offset in range(-30, 30, 2):
        world.new_item(state="in_progress", deadline=day + timedelta(days=offset))
    many, marked = statements()
    assert marked > 20 and many == few


def test_a_form_just_opened_says_nothing_of_changes_meanwhile(app, world, signed_in):
    """The 409 box is for a refused save only: an edit form just opened, and a form that
    creates, have none; and a form that creates asks for no change note (修改说明)."""
    item_id = world.new_item()
    office = signed_in("office")
    edit = office.get(f"/items/{item_id}/edit")
    new = office.get("/inspections/new")
    assert edit.status_code == new.status_code == 200
    assert 'id="changed-meanwhile"' not in edit.text and 'id="changed-meanwhile"' not in new.text
    assert 'name="change_note"' in edit.text and 'name="change_note"' not in new.text


def test_a_409_on_an_edit_keeps_the_input_and_shows_what_changed_meanwhile(app, world, signed_in):
    """Two people edit the same item: the second save is refused (409) with the second
    person's text still in the form and a table of what the first one changed; saving again
    from there replaces it knowingly."""
    item_id = world.new_item()
    office, staff = signed_in("office"), signed_in("staff_resp")
    form = staff.get(f"/items/{item_id}/edit").text
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1)
    seen = re.search(r'name="seen" type="hidden" value="(\d+)"', form).group(1)
    mine = {
        "title": "加强科创中心产业用房管理",
        "feedback_text": "我补充的反馈原文",
        "version": version,
        "seen": seen,
    }
    office_form = office.get(f"/items/{item_id}/edit").text
    theirs = {
        "category_id": world.categories["single"],
        "number": "1",
        "title": "科创中心产业用房管理（办公室改）",
        "responsible_leader_id": world.users["leader_resp"],
        "staff_id": world.users["staff_resp"],
        "department_id": "0",
        "version": re.search(r'name="version" type="hidden" value="(\d+)"', office_form).group(1),
    }
    assert office.post_form(f"/items/{item_id}/edit", theirs).status_code == 302
    refused = staff.post_form(f"/items/{item_id}/edit", mine)
    assert refused.status_code == 409
    changed = re.search(r'<section[^>]*id="changed-meanwhile".*?</section>', refused.text, re.S).group(0)
    assert 'data-changed="title"' in changed and "科创中心产业用房管理（办公室改）" in changed
    assert "我补充的反馈原文" in refused.text  # what the staff typed is kept
    with app.app_context():
        assert world.item(item_id).feedback_text == ""  # and nothing of it was saved
    again = {
        **mine,
        "version": re.search(r'name="version" type="hidden" value="(\d+)"', refused.text).group(1),
        "seen": re.search(r'name="seen" type="hidden" value="(\d+)"', refused.text).group(1),
    }
    assert staff.post_form(f"/items/{item_id}/edit", again).status_code == 302
    with app.app_context():
        assert world.item(item_id).feedback_text == "我补充的反馈原文"
