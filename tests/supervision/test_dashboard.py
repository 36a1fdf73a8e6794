"""The supervision dashboard (督查督办驾驶舱): its figures equal what the rows say when counted
one by one with the Python policy and level rule; who may read it and what of; its workbook;
and a constant number of statements whatever the number of items."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from portal.accounts.models import Department
from portal.accounts.operations import create_department
from portal.audit.chain import Actor
from portal.core.extensions import cache, db
from portal.core.models import WorkflowHistory
from portal.core.policy import can, roles_on, workflow_active
from portal.core.timeutil import today
from portal.evidence.operations import add_evidence_note
from portal.feedback.operations import answer_fix_check
from portal.inspections.models import APPROVAL_DUAL, APPROVAL_SINGLE, Category, Inspection, RectificationItem
from portal.inspections.operations import create_item
from portal.supervision.charts import dashboard_charts
from portal.supervision.dashboard import OVERDUE, SCOPE_ROLES, dashboard
from portal.supervision.levels import item_level
from tests.deadlines.helpers import new_request
from tests.helpers import count_statements, count_writes, render_every_time
from tests.world import PATHS
from workflows import RECTIFICATION
from workflows.rectification import CLOSED

#: (policy, state, days to the deadline or None, department)
ITEMS = [
    (APPROVAL_SINGLE, "assigned", 40, "财务科"),
    (APPROVAL_SINGLE, "in_progress", 15, "财务科"),
    (APPROVAL_SINGLE, "in_progress", 5, "综合科"),
    (APPROVAL_SINGLE, "in_progress", -3, "综合科"),
    (APPROVAL_SINGLE, "pending_review", -20, "综合科"),
    (APPROVAL_SINGLE, "completed", -30, "财务科"),
    (APPROVAL_SINGLE, "withdrawn", -30, "综合科"),  # withdrawn: counted nowhere
    (APPROVAL_DUAL, "assigned", None, None),
    (APPROVAL_DUAL, "in_progress", -1, "财务科"),
    (APPROVAL_DUAL, "completed", 3, None),
    (APPROVAL_DUAL, "follow_up", 3, "综合科"),
]


def new_item(world, policy, state, days, department=None):
    """An item of `policy`'s inspection with `department`, driven into `state`."""
    with world.app.app_context():
        actor = Actor.system("test")
        dept = None
        if department:
            dept = db.session.scalar(sa.select(Department).where(Department.name == department))
            dept = dept or create_department(actor, department)
        item = create_item(
            actor,
            db.session.get(Inspection, world.inspections[policy]),
            category=db.session.get(Category, world.categories[policy]),
            number="1",
            title="规范专项资金管理",
            responsible_leader=world.user("leader_resp"),
            staff=world.user("staff_resp"),
            department=dept,
            deadline=today() + timedelta(days=days) if days is not None else None,
            completion_summary="已整改。",
        )
        add_evidence_note(actor, item, "整改报告")
        db.session.commit()
        item_id = item.id
    for persona, transition in PATHS[state]:
        if transition == "approve" and persona == "secretary" and policy == APPROVAL_SINGLE:
            continue
        world.fire(persona, item_id, transition, comment="按计划推进")
    return item_id


@pytest.fixture
def items(world):
    return [new_item(world, *row) for row in ITEMS]


def expected(user, day, inspection_id=None):
    """The figures counted one row at a time: the Python policy, the Python level rule."""
    rows = [
        item
        for item in db.session.scalars(sa.select(RectificationItem)).all()
        if can(user, "view", item)
        and roles_on(user, item) & SCOPE_ROLES
        and workflow_active(item, RECTIFICATION)
        and inspection_id in (None, item.inspection_id)
    ]
    levels = {item.id: item_level(item, day).id for item in rows}
    departments: dict = {}
    for item in rows:
        tally = departments.setdefault(item.department.name if item.department else "", [0, 0, 0])
        tally[0] += 1
        tally[1] += item.state in CLOSED
        tally[2] += levels[item.id] in OVERDUE
    completed_steps = Counter(
        entry.at.strftime("%Y-%m")
        for entry in db.session.scalars(sa.select(WorkflowHistory)).all()
        if entry.object_type == "item"
        and entry.action == "complete"
        and entry.object_id in {item.id for item in rows}
    )
    return {
        "state": Counter(item.state for item in rows),
        "level": Counter(levels.values()),
        "category": Counter(item.category_id for item in rows),
        "department": {name: tuple(t) for name, t in departments.items()},
        "overdue": sorted(i for i, level in levels.items() if level in OVERDUE),
        "at_risk": sorted(i for i, level in levels.items() if level in ("warn", "remind")),
        "months": completed_steps,
    }


def nonzero(counts: dict) -> dict:
    return {key: n for key, n in counts.items() if n}


@pytest.mark.parametrize("persona", ["office", "leader_resp", "leader_reviewer", "secretary", "leader_other"])
def test_the_figures_equal_the_rows_counted_one_by_one(world, items, persona):
    with world.app.app_context():
        user, day = world.user(persona), today()
        for inspection_id in (None, world.inspections[APPROVAL_SINGLE]):
            d = dashboard(user, day, inspection_id)
            want = expected(user, day, inspection_id)
            assert nonzero(d.by_state) == dict(want["state"])
            assert nonzero(d.by_level) == dict(want["level"])
            assert {t.key: t.items for t in d.categories} == dict(want["category"])
            assert {t.label: (t.items, t.completed, t.overdue) for t in d.departments} == want["department"]
            assert sorted(row.item.id for row in d.overdue) == want["overdue"]
            assert sorted(row.item.id for row in d.at_risk) == want["at_risk"]
            assert {m.key: m.completed for m in d.months if m.completed} == dict(want["months"])
            assert d.total == sum(want["state"].values())


def test_the_office_sees_every_item_that_counts_and_a_stranger_leader_none(world, items):
    with world.app.app_context():
        day = today()
        office = dashboard(world.user("office"), day)
        assert office.total == len(ITEMS) - 1  # all but the withdrawn one
        assert {i.id for i in office.inspections} == set(world.inspections.values())
        stranger = dashboard(world.user("leader_other"), day)
        assert stranger.total == 0 and stranger.inspections == [] and stranger.overdue == []


def test_a_leader_sees_the_items_of_their_own_scope(world, items):
    """The party secretary (党组书记) answers for the 双审制 inspection's items, not the other's."""
    with world.app.app_context():
        d = dashboard(world.user("secretary"), today())
    assert [i.id for i in d.inspections] == [world.inspections[APPROVAL_DUAL]]
    assert d.total == sum(1 for row in ITEMS if row[0] == APPROVAL_DUAL)


def test_departments_are_ranked_by_overdue_then_open(world, items):
    with world.app.app_context():
        ranked = dashboard(world.user("office"), today()).departments
    keys = [(-t.overdue, -(t.items - t.completed)) for t in ranked]
    assert keys == sorted(keys)
    assert ranked[0].overdue == max(t.overdue for t in ranked) > 0


def test_overdue_list_is_worst_first_and_carries_the_days(world, items):
    with world.app.app_context():
        day = today()
        d = dashboard(world.user("office"), day)
        ranks = [OVERDUE.index(row.level.id) for row in d.overdue]
        assert ranks == sorted(ranks) and d.overdue[0].level.id == "interview"  # worst first
        for row in d.overdue + d.at_risk:
            assert row.days_left == (row.item.deadline - day).days


def test_extensions_and_not_fixed_reports_are_counted(world, items):
    approved = new_request(world, "approved")
    new_request(world, "requested")
    new_request(world, "rejected")
    completed = next(i for i, row in zip(items, ITEMS, strict=True) if row[1] == "completed")
    with world.app.app_context():
        item = db.session.get(RectificationItem, completed)
        for answer in ("not_fixed", "not_fixed", "fixed"):
            answer_fix_check(item, answer)
        db.session.commit()
        d = dashboard(world.user("office"), today())
        assert d.extensions == {"approved": 1, "requested": 1, "rejected": 1}
        assert d.pending_extensions == 1 and d.extended_items == 1
        assert [(row.item.id, row.reports) for row in d.not_fixed] == [(completed, 2)]
        assert approved  # the request exists
        assert dashboard(world.user("leader_other"), today()).extensions == {}


def test_every_chart_draws_its_tables_numbers(world, items):
    with world.app.app_context():
        d = dashboard(world.user("office"), today())
        charts = dashboard_charts(d)
    assert {b.key: b.value for b in charts["state"].bars} == d.by_state
    assert {b.key: b.value for b in charts["level"].bars} == d.by_level
    assert [b.value for b in charts["department"].bars] == [t.overdue for t in d.departments]
    longest = max(charts["state"].bars, key=lambda b: b.value)
    assert all(b.width <= longest.width for b in charts["state"].bars)


# --- pages ---------------------------------------------------------------------------------


def counts_on(page: str, attribute: str) -> dict[str, int]:
    return {
        key: int(n)
        for key, n in re.findall(
            rf'<tr {attribute}="([^"]*)"><td>[^<]*</td><td class="text-end" data-count>(\d+)', page
        )
    }


def test_the_page_shows_the_figures_with_charts_and_no_inline_script(world, items, signed_in):
    response = signed_in("office").get("/dashboard")
    assert response.status_code == 200
    page = response.text
    with world.app.app_context():
        d = dashboard(world.user("office"), today())
    assert counts_on(page, "data-state") == d.by_state
    assert counts_on(page, "data-level-row") == d.by_level
    assert page.count('<svg class="chart"') == 6 and "<title>" in page
    assert "<script>" not in page and "style=" not in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    for row in d.overdue:
        assert f'href="/items/{row.item.id}"' in page


def test_the_inspection_filter(world, items, signed_in):
    inspection_id = world.inspections[APPROVAL_DUAL]
    page = signed_in("office").get(f"/dashboard?inspection={inspection_id}").text
    with world.app.app_context():
        d = dashboard(world.user("office"), today(), inspection_id)
    assert counts_on(page, "data-state") == d.by_state
    assert d.total == sum(1 for row in ITEMS if row[0] == APPROVAL_DUAL)
    assert f'<option value="{inspection_id}" selected>' in page
    assert f'href="/inspections/{inspection_id}/ledger.xlsx"' in page


@pytest.mark.parametrize("value", ["abc", "999999"])
def test_an_unknown_inspection_is_refused_with_a_message_and_shows_all(world, items, signed_in, value):
    response = signed_in("office").get(f"/dashboard?inspection={value}")
    assert response.status_code == 400
    assert "您有权查看的巡察中没有这一轮次" in response.text
    assert f'<td>合计</td><td class="text-end" data-total>{len(ITEMS) - 1}</td>' in response.text


def test_a_leader_without_a_role_sees_nothing_of_the_inspection(world, items, signed_in):
    inspection_id = world.inspections[APPROVAL_SINGLE]
    client = signed_in("leader_other")
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert '<td>合计</td><td class="text-end" data-total>0</td>' in page.text
    assert "/items/" not in page.text
    refused = client.get(f"/dashboard?inspection={inspection_id}")
    assert refused.status_code == 400 and "/items/" not in refused.text
    assert client.get(f"/dashboard.xlsx?inspection={inspection_id}").status_code == 404


@pytest.mark.parametrize("persona", ["staff_resp", "admin"])
def test_other_roles_are_refused(world, signed_in, persona):
    client = signed_in(persona)
    assert client.get("/dashboard").status_code == 403
    assert client.get("/dashboard.xlsx").status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/dashboard")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_the_workbook_carries_the_same_figures(world, items, signed_in):
    new_request(world, "approved")
    response = signed_in("office").get("/dashboard.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(response.data))
    with world.app.app_context():
        d = dashboard(world.user("office"), today(), limit=None)
    states = {row[0]: row[1] for row in book["按状态"].iter_rows(min_row=2, values_only=True)}
    assert states == {s.title_zh: d.by_state[s.id] for s in RECTIFICATION.states}
    summary = {row[0]: row[1] for row in book["概况"].iter_rows(values_only=True)}
    assert summary["整改事项"] == d.total and summary["已逾期（督办、约谈）"] == d.overdue_count
    assert summary["已批准延期"] == 1
    departments = [row[1:5] for row in book["责任部门排名"].iter_rows(min_row=2, values_only=True)]
    assert departments == [(t.label or "未指定部门", t.items, t.completed, t.overdue) for t in d.departments]
    overdue = [row[1] for row in book["逾期事项"].iter_rows(min_row=2, values_only=True)]
    assert len(overdue) == d.overdue_count


def test_the_page_runs_a_constant_number_of_statements(app, world, signed_in):
    client = signed_in("office")
    render_every_time(app)

    def statements():
        client.get("/dashboard")  # warm caches (translations, templates)
        with app.app_context():
            engine = db.engine
            cache.clear()  # count the figures' computation, not the cached figures
        with count_statements(engine) as seen, count_writes(engine) as writes:
            assert client.get("/dashboard").status_code == 200
        assert writes == []
        return len(seen)

    for row in ITEMS[:4]:
        new_item(world, *row)
    few = statements()
    for offset in range(-30, 30, 3):
        new_item(world, APPROVAL_SINGLE, "in_progress", offset, f"部门{offset % 4}")
    for row in ITEMS:
        new_item(world, *row)
    new_request(world, "approved")
    assert statements() == few


def test_the_auditor_reads_the_offices_figures(world, signed_in):
    """Auditors read everything: the dashboard shows them what it shows the office."""
    world.new_item(state="in_progress")
    world.new_item(state="completed")

    def figures(persona):
        text = signed_in(persona).get("/dashboard").text
        return re.findall(r'data-figure="([a-z-]+)".*?data-value>([^<]*)<', text, re.S)

    office = figures("office")
    assert office and figures("auditor") == office
