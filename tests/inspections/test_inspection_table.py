"""The inspection page's item table: sorting, filtering and paging in SQL, the deadline cell,
and the bulk assignment of department, staff and deadline (one audit event per item changed)."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.operations import create_department
from portal.audit.chain import Actor
from portal.audit.models import AuditEvent
from portal.core.extensions import db
from portal.core.timeutil import today
from portal.inspections.forms import TABLE_PAGE_SIZE
from portal.inspections.operations import assign_items, update_document


def _day(app, offset: int):
    with app.app_context():
        return today() + timedelta(days=offset)


def _rows(page: str) -> list[int]:
    """The item ids of the table's rows, in order."""
    table = re.search(r'id="item-table".*?</table>', page, re.S).group(0)
    return [int(i) for i in re.findall(r'<tr data-item="(\d+)"', table)]


def _row(page: str, item_id: int) -> str:
    return re.search(rf'<tr data-item="{item_id}".*?</tr>', page, re.S).group(0)


def _new_item(app, world, number: str, title: str = "加强科创中心产业用房管理", **fields) -> int:
    """An item of the single-approval inspection with its own number and title."""
    item_id = world.new_item(**fields)
    with app.app_context():
        update_document(Actor.system("test"), world.item(item_id), {"number": number, "title": title})
        db.session.commit()
    return item_id


@pytest.fixture
def items(app, world):
    """Three items of the single-approval inspection: overdue, due in 5 days, due in 40 days."""
    return {
        "overdue": _new_item(app, world, "3", "丙", state="in_progress", deadline=_day(app, -3)),
        "soon": _new_item(app, world, "10", "甲", state="assigned", deadline=_day(app, 5)),
        "later": _new_item(app, world, "2", "乙", state="in_progress", deadline=_day(app, 40)),
    }


@pytest.fixture
def departments(app):
    with app.app_context():
        ids = {name: create_department(Actor.system("test"), name).id for name in ("办公室", "组织科")}
        db.session.commit()
    return ids


def _url(world, query: str = "") -> str:
    return f"/inspections/{world.inspections['single']}{query}"


def test_the_table_has_header_cells_and_sorts_in_sql(app, world, signed_in, items):
    office = signed_in("office")
    page = office.get(_url(world)).text
    headers = re.findall(r'<th scope="col"[^>]*data-sort="(\w+)"', page)
    assert headers == ["number", "title", "department", "staff", "deadline", "state", "progress"]
    assert _rows(page) == [items["overdue"], items["soon"], items["later"]]  # the notice's order
    page = office.get(_url(world, "?sort=deadline&dir=asc")).text
    assert _rows(page) == [items["overdue"], items["soon"], items["later"]]
    assert 'aria-sort="ascending" data-sort="deadline"' in page
    assert "sort=deadline&amp;dir=desc" in page  # the sorted header's link reverses the order
    page = office.get(_url(world, "?sort=deadline&dir=desc")).text
    assert _rows(page) == [items["later"], items["soon"], items["overdue"]]
    page = office.get(_url(world, "?sort=number")).text
    assert _rows(page) == [items["later"], items["overdue"], items["soon"]]  # 2, 3, 10
    page = office.get(_url(world, "?sort=state")).text
    assert _rows(page)[0] == items["soon"]  # assigned comes before in progress
    assert office.get(_url(world, "?sort=nonsense&dir=sideways")).status_code == 200


def test_the_deadline_cell_says_the_days_left_or_overdue_in_words(app, world, signed_in, items):
    page = signed_in("office").get(_url(world)).text
    overdue = _row(page, items["overdue"])
    assert _day(app, -3).isoformat() in overdue and "已逾期 3 天" in overdue
    assert 'data-level="supervise">督办</span>' in overdue
    assert "剩余 5 天" in _row(page, items["soon"]) and "剩余 40 天" in _row(page, items["later"])
    assert 'data-state="in_progress">整改中</span>' in overdue  # the state as a badge with text
    completed = world.new_item(state="completed", deadline=_day(app, -30))
    row = _row(signed_in("office").get(_url(world)).text, completed)
    assert _day(app, -30).isoformat() in row and "逾期" not in row  # a completed item is not late


def test_filters_by_state_department_overdue_and_deadline_range(app, world, signed_in, items, departments):
    office = signed_in("office")
    assert _rows(office.get(_url(world, "?state=in_progress")).text) == [items["overdue"], items["later"]]
    assert _rows(office.get(_url(world, "?overdue=1")).text) == [items["overdue"]]
    start, end = _day(app, 0).isoformat(), _day(app, 10).isoformat()
    page = office.get(_url(world, f"?from={start}&to={end}")).text
    assert _rows(page) == [items["soon"]]
    assert f'value="{start}"' in page  # the filter form shows what it filters by
    with app.app_context():
        assign_items(
            Actor.system("test"), [world.item(items["later"])], {"department_id": departments["办公室"]}
        )
        db.session.commit()
    page = office.get(_url(world, f"?department={departments['办公室']}")).text
    assert _rows(page) == [items["later"]] and "办公室" in _row(page, items["later"])
    page = office.get(_url(world, "?state=in_progress&sort=deadline&dir=desc")).text
    assert _rows(page) == [items["later"], items["overdue"]]
    assert 'name="sort" value="deadline"' in page  # the filter form keeps the sort
    assert 'id="filter-clear"' in page


def test_a_bad_filter_is_explained_and_not_applied(app, world, signed_in, items):
    response = signed_in("office").get(_url(world, "?from=2026-13-45&state=nowhere"))
    assert response.status_code == 400
    assert "请按“年-月-日”" in response.text and 'value="2026-13-45"' in response.text
    assert len(_rows(response.text)) == 3


def test_the_table_is_paged_and_the_links_keep_the_filters(app, world, signed_in):
    for _n in range(TABLE_PAGE_SIZE + 2):
        world.new_item(state="in_progress")
    office = signed_in("office")
    page = office.get(_url(world, "?state=in_progress")).text
    assert len(_rows(page)) == TABLE_PAGE_SIZE
    assert f"第 1–{TABLE_PAGE_SIZE} 条，共 {TABLE_PAGE_SIZE + 2} 条" in page
    assert "state=in_progress&amp;page=2" in page
    page = office.get(_url(world, "?state=in_progress&page=2")).text
    assert len(_rows(page)) == 2 and f"第 {TABLE_PAGE_SIZE + 1}–{TABLE_PAGE_SIZE + 2} 条" in page
    assert len(_rows(office.get(_url(world, "?page=99")).text)) == 2  # past the end: the last page


def test_office_bulk_assigns_with_one_audit_event_per_item(app, world, signed_in, items, departments):
    office = signed_in("office")
    page = office.get(_url(world)).text
    assert 'id="bulk-assign"' in page and 'aria-label="选择 3. 丙"' in page
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.max(AuditEvent.seq)))
    chosen = [items["overdue"], items["later"]]
    new_deadline = _day(app, 60)
    response = office.post_form(
        f"/inspections/{world.inspections['single']}/assign",
        {
            "items": chosen,
            "department_id": departments["组织科"],
            "staff_id": "0",
            "deadline": new_deadline.isoformat(),
            "query": "sort=deadline&dir=asc&state=in_progress",
        },
    )
    assert response.status_code == 302
    assert (
        "sort=deadline" in response.headers["Location"]
        and "state=in_progress" in response.headers["Location"]
    )
    page = office.get(response.headers["Location"]).text
    assert "已更新 2 项" in page
    for item_id in chosen:
        row = _row(page, item_id)
        assert "组织科" in row and new_deadline.isoformat() in row
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.seq > before)).all()
        updates = [e for e in events if e.action == "item.update"]
        assert sorted(int(e.object_id) for e in updates) == sorted(chosen)
        assert world.item(items["soon"]).department_id is None  # not ticked, not touched
        assert world.item(items["overdue"]).staff_id == world.users["staff_resp"]  # blank: unchanged


def test_refusals_are_listed_and_the_selection_kept(app, world, signed_in, items, departments):
    office = signed_in("office")
    withdrawn = _new_item(app, world, "9", "已撤销的事项", state="in_progress")
    world.fire("office", withdrawn, "withdraw", comment="误建")
    response = office.post_form(
        f"/inspections/{world.inspections['single']}/assign",
        {"items": [items["soon"], withdrawn], "department_id": departments["办公室"], "query": ""},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert f"selected={items['soon']}" in location and f"selected={withdrawn}" in location
    page = office.get(location).text
    assert "已更新 1 项" in page and "9. 已撤销的事项" in page and "撤销" in page
    assert re.search(rf'value="{items["soon"]}"[^>]*checked', page)
    with app.app_context():
        assert world.item(withdrawn).department_id is None
        assert world.item(items["soon"]).department_id == departments["办公室"]


def test_a_bad_date_or_nothing_to_set_is_refused_with_what_was_typed(app, world, signed_in, items):
    office = signed_in("office")
    url = f"/inspections/{world.inspections['single']}/assign"
    response = office.post_form(
        url, {"items": [items["soon"]], "deadline": "2026-02-30", "query": "state=assigned"}
    )
    assert response.status_code == 400
    assert "请按“年-月-日”" in response.text and 'value="2026-02-30"' in response.text
    assert re.search(rf'value="{items["soon"]}"[^>]*checked', response.text)
    assert _rows(response.text) == [items["soon"]]  # the page as it was filtered
    response = office.post_form(url, {"items": [items["soon"]], "query": ""})
    assert response.status_code == 400 and 'id="bulk-error"' in response.text
    response = office.post_form(url, {"deadline": "2026-12-31", "query": ""})
    assert response.status_code == 400 and 'id="bulk-items-error"' in response.text
    with app.app_context():
        assert world.item(items["soon"]).deadline == _day(app, 5)


def test_only_who_may_assign_sees_the_bulk_form_and_may_post_it(app, world, signed_in, items):
    staff = signed_in("staff_resp")
    page = staff.get(_url(world)).text
    assert 'id="bulk-assign"' not in page and 'name="items"' not in page
    assert set(_rows(page)) == set(items.values())
    response = staff.post_form(
        f"/inspections/{world.inspections['single']}/assign",
        {"items": [items["soon"]], "deadline": "2026-12-31", "query": ""},
    )
    assert response.status_code == 403
    assert signed_in("leader_resp").get(_url(world)).status_code == 200
    response = signed_in("office").post(
        f"/inspections/{world.inspections['single']}/assign",
        data={"items": [items["soon"]], "deadline": "2026-12-31"},
    )
    assert response.status_code == 400  # no CSRF token
    with app.app_context():
        assert world.item(items["soon"]).deadline == _day(app, 5)


def test_the_operation_refuses_fields_it_does_not_assign(app, world, items):
    with app.app_context(), pytest.raises(ValueError):
        assign_items(Actor.system("test"), [world.item(items["soon"])], {"title": "改标题"})


def test_an_item_changed_meanwhile_refuses_the_whole_assignment_and_keeps_the_form(
    app, world, signed_in, items, departments, monkeypatch
):
    """A conflict (409) on one item writes nothing to any of them; the form comes back filled in."""
    from portal.core.errors import Conflict
    from portal.inspections import operations

    claim = operations.claim_version

    def conflict_on_later(item, expected):
        if item.id == items["later"]:
            raise Conflict("这一事项刚被他人修改。")
        return claim(item, expected)

    monkeypatch.setattr(operations, "claim_version", conflict_on_later)
    response = signed_in("office").post_form(
        f"/inspections/{world.inspections['single']}/assign",
        {"items": [items["overdue"], items["later"]], "department_id": departments["组织科"], "query": ""},
    )
    assert response.status_code == 409 and "这一事项刚被他人修改。" in response.text
    assert f'<option value="{departments["组织科"]}" selected>组织科' in response.text
    assert re.search(rf'value="{items["overdue"]}"[^>]*checked', response.text)
    with app.app_context():
        assert world.item(items["overdue"]).department_id is None  # rolled back with the rest


def test_an_item_of_another_inspection_is_not_assigned_from_this_one(
    app, world, signed_in, items, departments
):
    other = world.new_item(policy="dual")
    response = signed_in("office").post_form(
        f"/inspections/{world.inspections['single']}/assign",
        {"items": [items["soon"], other], "department_id": departments["办公室"], "query": ""},
    )
    page = signed_in("office").get(response.headers["Location"]).text
    assert "已更新 1 项" in page and "有 1 项已不在本轮巡察中" in page
    with app.app_context():
        assert world.item(other).department_id is None
