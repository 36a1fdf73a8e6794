"""Deadline marks (三色) on the pages: the overview, worklists, home cards, the item page and
the public pages; the inspection form's thresholds."""

import re
from datetime import timedelta

import pytest

from portal.core.extensions import db
from portal.core.timeutil import today
from portal.inspections.models import Inspection


def _day(app, offset: int):
    with app.app_context():
        return today() + timedelta(days=offset)


def _mark(page: str, item_id: int) -> list[tuple[str, str]]:
    """The deadline marks (level, text) in the table row or list entry of `item_id`."""
    row = re.search(rf'data-item="{item_id}".*?</tr>', page, re.S)
    assert row, f"item {item_id} is not listed"
    return re.findall(r'data-level="(\w+)">([^<]+)</span>', row.group(0))


@pytest.fixture
def levels(app, world):
    """Items 25 days left (none), 20 (提醒), 10 (预警), 3 overdue (督办), 15 overdue (约谈), and a
    completed one 40 days past its deadline (none)."""
    offsets = {"none": 25, "remind": 20, "warn": 10, "supervise": -3, "interview": -15}
    ids = {name: world.new_item(state="in_progress", deadline=_day(app, d)) for name, d in offsets.items()}
    ids["completed"] = world.new_item(state="completed", deadline=_day(app, -40))
    return ids


TEXTS = {"remind": "提醒", "warn": "预警", "supervise": "督办", "interview": "约谈"}


def test_the_overview_marks_each_item_with_its_level_and_its_name(app, world, signed_in, levels):
    page = signed_in("office").get(f"/inspections/{world.inspections['single']}").text
    for name, item_id in levels.items():
        expected = [(name, TEXTS[name])] if name in TEXTS else []
        assert _mark(page, item_id) == expected, name
    assert "剩余 20 天起提醒" in page and "逾期 15 天起约谈" in page and "完成 6 个月后回头看" in page


def test_worklist_page_and_home_cards_show_the_marks(app, world, signed_in, levels):
    staff = signed_in("staff_resp")
    page = staff.get("/worklists/my_items").text
    for name in TEXTS:
        assert _mark(page, levels[name]) == [(name, TEXTS[name])]
    assert _mark(page, levels["none"]) == []
    home = staff.get("/").text
    card = re.search(r'data-worklist="my_items".*?</section>', home, re.S).group(0)
    entries = re.findall(r"<li .*?</li>", card, re.S)
    assert len(entries) == 5  # the card's first rows
    for entry in entries:
        item_id = int(re.search(r'href="/items/(\d+)"', entry).group(1))
        expected = next(name for name, i in levels.items() if i == item_id)
        shown = re.findall(r'data-level="(\w+)">([^<]+)<', entry)
        assert shown == ([(expected, TEXTS[expected])] if expected in TEXTS else []), expected


def test_english_names_the_levels_too(app, world, signed_in, levels):
    office = signed_in("office")
    office.post("/language", data={"lang": "en", "next": "/", "csrf_token": office.csrf_token()})
    page = office.get(f"/inspections/{world.inspections['single']}").text
    assert _mark(page, levels["warn"]) == [("warn", "Warning")]
    assert _mark(page, levels["interview"]) == [("interview", "Overdue: interview")]


def test_the_item_page_marks_the_item_and_each_measure(app, world, signed_in):
    from portal.audit.chain import Actor
    from portal.inspections.operations import add_measure, set_measure_status

    item_id = world.new_item(state="in_progress", deadline=_day(app, 10))
    with app.app_context():
        item = world.item(item_id)
        add_measure(
            Actor.system("test"), item, label="一是", text="修订制度", deadline=today() - timedelta(days=2)
        )
        add_measure(Actor.system("test"), item, label="二是", text="开展自查")  # the item's deadline
        done = add_measure(Actor.system("test"), item, label="三是", text="追回资金", deadline=today())
        set_measure_status(Actor.system("test"), done, "done")
        db.session.commit()
        ids = [m.id for m in world.item(item_id).measures]
    page = signed_in("staff_resp").get(f"/items/{item_id}").text
    deadline = re.search(r'id="item-deadline">.*?</dd>', page, re.S).group(0)
    assert re.findall(r'data-level="(\w+)">([^<]+)<', deadline) == [("warn", "预警")]
    marks = []
    for measure_id in ids:
        entry = re.search(rf'data-measure="{measure_id}".*?</li>', page, re.S).group(0)
        marks.append(re.findall(r'data-level="(\w+)">([^<]+)<', entry))
    assert marks == [[("supervise", "督办")], [("warn", "预警")], []]


def test_the_public_pages_mark_overdue_and_extended_items_only(app, world, client, levels, monkeypatch):
    """督办 and 约谈 read 已逾期 publicly; 已延期 marks what the extension requests report as extended."""
    from portal.public import queries

    for name in ("warn", "supervise", "interview"):
        world.fire("leader_resp", levels[name], "publish")
    reported = {levels["warn"]}
    monkeypatch.setattr(queries, "extended_items", lambda items: {i.id for i in items} & reported)
    page = client.get(f"/public/inspections/{world.inspections['single']}").text

    def public_marks(item_id):
        row = re.search(rf'data-item="{item_id}".*?</tr>', page, re.S).group(0)
        return re.findall(r'data-public-mark="(\w+)"[^>]*>([^<]+)<', row)

    assert public_marks(levels["supervise"]) == [("overdue", "已逾期")]
    assert public_marks(levels["interview"]) == [("overdue", "已逾期")]
    assert public_marks(levels["warn"]) == [("extended", "已延期")]
    table = re.search(r'id="public-items".*?</table>', page, re.S).group(0)
    assert "约谈" not in table and "督办" not in table and "data-level" not in page  # internal words
    item_page = client.get(f"/public/items/{levels['interview']}").text
    head = re.search(r"<h1.*?</p>", item_page, re.S).group(0)
    assert 'data-public-mark="overdue"' in head and "约谈" not in head
    extended_page = client.get(f"/public/items/{levels['warn']}").text
    assert 'id="extended"' in extended_page and 'data-public-mark="overdue"' not in extended_page


FORM = {
    "title": "区卫健局党委巡察整改",
    "approval_policy": "single",
    "party_secretary_id": "0",
    "remind_days": "30",
    "warn_days": "7",
    "interview_days": "10",
    "follow_up_months": "3",
}


def test_the_inspection_form_sets_the_thresholds(app, world, signed_in):
    office = signed_in("office")
    form = office.get("/inspections/new").text
    for name, default in (
        ("remind_days", 20),
        ("warn_days", 10),
        ("interview_days", 15),
        ("follow_up_months", 6),
    ):
        assert re.search(rf'name="{name}"[^>]*value="{default}"', form), name
    response = office.post_form("/inspections/new", FORM)
    assert response.status_code == 302
    inspection_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        inspection = db.session.get(Inspection, inspection_id)
        assert (inspection.remind_days, inspection.warn_days, inspection.interview_days) == (30, 7, 10)
        assert inspection.follow_up_months == 3
    response = office.post_form(f"/inspections/{inspection_id}/edit", {**FORM, "warn_days": "5"})
    assert response.status_code == 302
    history = office.get(f"/versions/inspection/{inspection_id}?a=1&b=2").text
    assert "预警：距整改时限剩余天数不超过（天）" in history


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("warn_days", "30", "预警的剩余天数须少于提醒的剩余天数"),
        ("warn_days", "", "请输入 0 至 364 之间的整数。"),
        ("remind_days", "abc", "请输入 1 至 365 之间的整数。"),
        ("interview_days", "0", "请输入 1 至 365 之间的整数。"),
        ("follow_up_months", "-2", "请输入 1 至 60 之间的整数。"),
    ],
)
def test_bad_thresholds_are_explained_and_what_was_typed_is_kept(
    app, world, signed_in, field, typed, message
):
    office = signed_in("office")
    response = office.post_form("/inspections/new", {**FORM, field: typed})
    assert response.status_code == 200  # the form again
    assert message in response.text
    assert "Not a valid integer" not in response.text
    assert 'value="区卫健局党委巡察整改"' in response.text
    assert re.search(rf'name="{field}"[^>]*value="{re.escape(typed)}"', response.text) or typed == ""
    inspection_id = world.inspections["single"]
    response = office.post_form(f"/inspections/{inspection_id}/edit", {**FORM, field: typed})
    assert response.status_code == 200 and message in response.text
    with app.app_context():
        assert db.session.get(Inspection, inspection_id).remind_days == 20  # nothing saved
