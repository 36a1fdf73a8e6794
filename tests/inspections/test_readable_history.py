"""The history as a person reads it: version diffs with field names and names instead of ids,
a version badge that counts what the history lists, one entry per approval in the timeline,
each person once in a drop-down, and messages that say what happened."""

import re
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import force_locale

from portal.accounts.models import Department
from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.inspections.models import Category, RectificationItem
from portal.inspections.operations import create_category, update_document
from portal.versions.display import shown_diff
from portal.versions.models import DocumentVersion


def _edit_form(world, item_id, **changes):
    with world.app.app_context():
        item = db.session.get(RectificationItem, item_id)
        data = {
            "category_id": item.category_id or 0,
            "number": item.number,
            "title": item.title,
            "responsible_leader_id": item.responsible_leader_id or 0,
            "staff_id": item.staff_id or 0,
            "department_id": item.department_id or 0,
            "completion_summary": item.completion_summary,
            "version": item.version,
        }
    return {**data, **changes}


def _finance(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Department.id).where(Department.name == "财务科"))


def _timeline(page: str) -> str:
    return re.search(r'<ol class="list-unstyled small" id="timeline">(.*?)</ol>', page, re.S).group(1)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_diff_names_fields_and_resolves_ids(app, world):
    item_id, finance = world.new_item(), _finance(app)
    with app.app_context():
        item = db.session.get(RectificationItem, item_id)
        other = create_category(Actor.system("test"), item.inspection, label="二", title="党建工作不扎实")
        before = dict(
            db.session.scalar(
                sa.select(DocumentVersion.data).where(
                    DocumentVersion.object_type == "item", DocumentVersion.object_id == item_id
                )
            )
        )
        update_document(
            Actor.system("test"),
            item,
            {
                "category_id": other.id,
                "department_id": finance,
                "responsible_leader_id": world.users["secretary"],
                "staff_id": None,
                "deadline": date(2026, 6, 30),
                "money_to_recover": Decimal("161000"),
                "progress_override": 60,
                "title": "加强科创中心产业用房的规范管理",
            },
        )
        after = db.session.scalars(
            sa.select(DocumentVersion.data)
            .where(DocumentVersion.object_type == "item", DocumentVersion.object_id == item_id)
            .order_by(DocumentVersion.number.desc())
        ).first()
        other_id = other.id
        db.session.commit()
    with app.test_request_context():
        with force_locale("zh"):
            rows = {f.field: f for f in shown_diff("item", before, after) if f.changed}
        assert {f: (r.label, r.before, r.after) for f, r in rows.items()} == {
            "category_id": ("问题类别", "一 对于区委专题会议涉及问题的整改", "二 党建工作不扎实"),
            "department_id": ("责任部门", "", "财务科"),
            "responsible_leader_id": ("责任领导", "leader_resp", "secretary"),
            "staff_id": ("责任人", "staff_resp", ""),
            "deadline": ("整改时限", "", "2026年6月30日"),
            "money_to_recover": ("应追回资金（元）", "", "161,000.00"),
            "progress_override": ("整改进度（%）", "按整改措施自动计算", "60%"),
            "title": ("标题", "加强科创中心产业用房管理", "加强科创中心产业用房的规范管理"),
        }
        # a name is replaced whole; free text is compared character by character
        assert rows["responsible_leader_id"].runs == [("delete", "leader_resp"), ("insert", "secretary")]
        assert ("insert", "的规范") in rows["title"].runs
        with force_locale("en"):
            rows = {f.field: f for f in shown_diff("item", before, after) if f.changed}
        assert rows["department_id"].label == "Responsible department (责任部门)"
        assert rows["deadline"].after == "June 30, 2026"
        assert db.session.get(Category, other_id).title == "党建工作不扎实"


def test_the_diff_page_shows_names_not_ids(app, world, signed_in):
    item_id = world.new_item()
    office = signed_in("office")
    data = _edit_form(world, item_id, department_id=_finance(app), change_note="明确责任部门")
    assert office.post_form(f"/items/{item_id}/edit", data).status_code == 302
    page = office.get(f"/versions/item/{item_id}?a=1&b=2").text
    diff = re.search(r'<table class="[^"]*" id="diff">(.*?)</table>', page, re.S).group(1)
    row = re.search(r'<tr data-field="department_id">(.*?)</tr>', diff, re.S).group(1)
    assert _text(row) == "责任部门 财务科"
    assert "department_id" not in _text(diff) and f"→ {_finance(app)}" not in _text(diff)
    assert '<option value="1">第 1 版</option>' in page  # the compare drop-downs name versions too


def test_the_version_badge_counts_what_the_history_lists(app, world, signed_in):
    item_id = world.new_item(state="in_progress")  # transitions bump the concurrency counter
    office = signed_in("office")
    data = _edit_form(world, item_id, title="加强科创中心产业用房的规范管理")
    assert office.post_form(f"/items/{item_id}/edit", data).status_code == 302
    world.fire("staff_resp", item_id, "submit")
    page = office.get(f"/items/{item_id}").text
    badge = re.search(r'<a [^>]*id="item-version" data-version="(\d+)">([^<]*)</a>', page)
    history = office.get(f"/versions/item/{item_id}").text
    listed = re.findall(r'<tr data-version="(\d+)">', history)
    assert int(badge.group(1)) == len(listed) == 2 and badge.group(2) == "第 2 版"
    assert f'href="/versions/item/{item_id}"' in badge.group(0)
    with app.app_context():
        assert db.session.get(RectificationItem, item_id).version > 2  # the counter stays internal
    assert re.search(r'name="version" value="(\d+)"', page)  # … and is still what forms send back


def test_an_approval_is_one_timeline_entry_without_a_same_state_move(app, world, signed_in):
    item_id = world.new_item(policy="dual", state="pending_review")
    world.fire("leader_resp", item_id, "approve", comment="材料齐全，同意。")
    timeline = _timeline(signed_in("office").get(f"/items/{item_id}").text)
    assert timeline.count('data-action="approve"') == 1
    assert 'data-kind="approval"' not in timeline
    assert "待审核 → 待审核" not in _text(timeline)
    entry = re.search(r'<li [^>]*data-action="approve">(.*?)</li>', timeline, re.S).group(1)
    assert "审核同意" in _text(entry) and "材料齐全，同意。" in _text(entry) and "→" not in _text(entry)

    world.fire("secretary", item_id, "approve")
    timeline = _timeline(signed_in("office").get(f"/items/{item_id}").text)
    assert timeline.count('data-action="approve"') == 2 and 'data-kind="approval"' not in timeline
    assert "待审核 → 已完成" in _text(timeline)  # the automatic completion still moves


def test_a_returned_approval_is_marked_no_longer_counting(app, world, signed_in):
    item_id = world.new_item(policy="dual", state="pending_review")
    world.fire("leader_resp", item_id, "approve")
    world.fire("secretary", item_id, "return", comment="请补充材料。")
    timeline = _timeline(signed_in("office").get(f"/items/{item_id}").text)
    entry = re.search(r'<li [^>]*data-action="approve">(.*?)</li>', timeline, re.S).group(1)
    assert "(已失效)" in _text(entry)


def test_drop_downs_name_each_person_once(app, world, signed_in):
    item_id = world.new_item()
    office = signed_in("office")
    pages = {
        "item": office.get(f"/items/{item_id}/edit").text,
        "inspection": office.get("/inspections/new").text,
        "sharing": office.get(f"/sharing/item/{item_id}").text,
    }
    for where, page in pages.items():
        options = re.findall(r"<option[^>]*>([^<]*)</option>", page)
        assert "leader_resp" in options, where
        assert not [o for o in options if "(leader_resp)" in o or "(leader)" in o], where
        assert options.count("leader_resp") == 1, where


def test_messages_say_what_happened_to_what(app, world, signed_in):
    item_id = world.new_item(state="pending_review")
    office = signed_in("office")
    data = _edit_form(world, item_id, title="加强科创中心产业用房的规范管理")
    office.post_form(f"/items/{item_id}/edit", data)
    assert "已保存整改事项「加强科创中心产业用房的规范管理」的修改。" in office.get(f"/items/{item_id}").text
    office.post_form(f"/versions/item/{item_id}/1/revert", {})
    page = office.get(f"/versions/item/{item_id}").text
    assert "已将「加强科创中心产业用房管理」恢复为第 1 版的内容，并保存为第 3 版。" in page

    leader = signed_in("leader_resp")
    page = leader.get(f"/items/{item_id}").text
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    leader.post_form(f"/items/{item_id}/transitions/approve", {"comment": "", "version": version})
    assert (
        "已对整改事项「加强科创中心产业用房管理」执行“审核同意”，系统随即自动“完成”，当前状态为“已完成”。"
        in leader.get(f"/items/{item_id}").text
    )
