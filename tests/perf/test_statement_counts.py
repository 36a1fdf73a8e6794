"""Every read page runs a constant number of SQL statements (issue 15, "fast at 10,000 items").

One declared table of read pages x personas. Each (page, persona) is fetched once to warm the
caches (translations, templates), then once more while counting the statements sent to the
database; this at a small data set and again after the data set has grown about twentyfold
(items in every state on more inspections and categories, measures, evidence, feedback, fix
checks, extension requests, grants to departments, a long workflow history). The two counts must
be equal, every GET a 200 and none of them write anything.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from portal.accounts.models import Department
from portal.accounts.operations import create_department, create_user
from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.core.timeutil import today
from portal.core.transitions import fire
from portal.deadlines.operations import request_extension
from portal.evidence.operations import add_evidence_note
from portal.feedback.models import Feedback
from portal.feedback.operations import answer_fix_check, forward_feedback, submit_feedback
from portal.inspections.models import APPROVAL_DUAL, APPROVAL_SINGLE, Category, Inspection, RectificationItem
from portal.inspections.operations import (
    add_measure,
    create_category,
    create_inspection,
    create_item,
    set_measure_status,
)
from portal.sharing.operations import grant_local_role
from tests.conftest import TEST_PASSWORD
from tests.helpers import count_statements, count_writes, render_every_time
from tests.world import PATHS

INTERNAL = ("office", "leader_resp", "staff_resp", "auditor")
PUBLIC = ("anonymous",)
WORKLISTS = (  # every worklist declared in workflows/ (rectification, moderation, extension)
    "awaiting_review",
    "my_items",
    "overdue",
    "due_soon",
    "not_fixed",
    "follow_up_checks",
    "moderation_queue",
    "forwarded_feedback",
    "extensions_to_decide",
)

#: page -> (URL template, personas who read it). {inspection} and {item} are the ids of the
#: inspection and the item the small world shows (both published); the large one grows them.
PAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "home": ("/", INTERNAL),
    "inspections": ("/inspections/", INTERNAL),
    "inspection overview": ("/inspections/{inspection}", INTERNAL),
    "item": ("/items/{item}", INTERNAL),
    **{f"worklist {name}": (f"/worklists/{name}", INTERNAL) for name in WORKLISTS},
    "audit log": ("/audit/", ("leader_resp", "auditor")),
    "dashboard": ("/dashboard", ("office", "leader_resp", "auditor")),
    "notifications": ("/notifications", INTERNAL),
    "feedback queue": ("/feedback/", ("office", "auditor")),
    "public list": ("/public/", PUBLIC),
    "public inspection": ("/public/inspections/{inspection}", PUBLIC),
    "public item": ("/public/items/{item}", PUBLIC),
    "public notice": ("/public/inspections/{inspection}/notice", PUBLIC),
}


class Builder:
    """Data made through the operations, as the portal's own forms make it."""

    def __init__(self, app, world):
        self.app, self.world, self.actor = app, world, Actor.system("test")
        self.n = 0

    def user(self, persona):
        return self.world.user(persona)

    def item(self, inspection_id, category_id, state, days=None, department=None) -> int:
        """An item on `inspection_id` with a measure and evidence, driven into `state`."""
        self.n += 1
        with self.app.app_context():
            inspection = db.session.get(Inspection, inspection_id)
            item = create_item(
                self.actor,
                inspection,
                category=db.session.get(Category, category_id),
                number=str(self.n),
                title=f"整改事项{self.n}",
                responsible_leader=self.user("leader_resp"),
                staff=self.user("staff_resp"),
                department=db.session.get(Department, department) if department else None,
                deadline=None if days is None else today() + timedelta(days=days),
                completion_summary="已完成整改。",
                public_summary="已整改到位。",
            )
            measure = add_measure(self.actor, item, label="一是", text="完善制度")
            add_evidence_note(self.actor, item, f"材料{self.n}", public=self.n % 2 == 0)
            if state in ("pending_review", "completed", "follow_up"):
                set_measure_status(self.actor, measure, "done")
            db.session.commit()
            item_id, dual = item.id, inspection.approval_policy == APPROVAL_DUAL
        for persona, transition in PATHS[state]:
            if transition == "approve" and persona == "secretary" and not dual:
                continue
            self.world.fire(persona, item_id, transition, comment="按计划推进")
        return item_id

    def publish(self, item_id):
        self.world.fire("leader_resp", item_id, "publish", comment="公开")

    def feedback(self, item_id, *, published=False, forward_to=None) -> None:
        with self.app.app_context():
            item = db.session.get(RectificationItem, item_id)
            feedback, _code = submit_feedback(item.inspection, item, kind="suggestion", text="建议加快整改。")
            db.session.flush()
            office = Actor.of(self.user("office"))
            if published:
                fire(office, feedback, "publish")
            if forward_to is not None:
                forward_feedback(office, feedback, db.session.get(Department, forward_to))
            db.session.commit()

    def fix_check(self, item_id, answer="not_fixed"):
        with self.app.app_context():
            answer_fix_check(db.session.get(RectificationItem, item_id), answer, "还有问题")
            db.session.commit()

    def extension(self, item_id, days=60):
        with self.app.app_context():
            request_extension(
                Actor.of(self.user("staff_resp")),
                db.session.get(RectificationItem, item_id),
                proposed_deadline=today() + timedelta(days=days),
                reason="需协调区财政局补充预算",
                progress_note="已完成现场核查",
            )
            db.session.commit()

    def department(self, name):
        with self.app.app_context():
            department = create_department(self.actor, name)
            create_user(
                self.actor,
                login=f"member{department.id}",
                display_name=f"{name}成员",
                password=TEST_PASSWORD,
                roles=("staff",),
                department=department,
            )
            db.session.commit()
            return department.id

    def inspection(self, policy, title):
        with self.app.app_context():
            inspection = create_inspection(
                self.actor, title=title, approval_policy=policy, party_secretary=self.user("secretary")
            )
            categories = [
                create_category(self.actor, inspection, label=label, title=f"第{label}类问题")
                for label in ("一", "二")
            ]
            db.session.commit()
            return inspection.id, [c.id for c in categories]

    def grant(self, model, object_id, role, department=None, persona=None):
        with self.app.app_context():
            obj = db.session.get(model, object_id)
            user = self.user(persona) if persona else None
            department = db.session.get(Department, department) if department else None
            grant_local_role(self.actor, obj, role, department=department, user=user)
            db.session.commit()


def build_small(builder: Builder) -> dict:
    """A few items, one of each kind the pages show: the shown item (completed, published, with
    a reported-not-fixed answer, published, pending and forwarded feedback), one overdue, one
    due soon with an extension request, one awaiting review, one in a follow-up check."""
    world = builder.world
    single, dual = world.inspections[APPROVAL_SINGLE], world.inspections[APPROVAL_DUAL]
    cat_single, cat_dual = world.categories[APPROVAL_SINGLE], world.categories[APPROVAL_DUAL]
    finance = builder.department("审计科")
    shown = builder.item(single, cat_single, "completed", days=30, department=finance)
    builder.publish(shown)
    builder.feedback(shown, published=True)
    builder.feedback(shown)
    builder.feedback(shown, forward_to=finance)
    builder.fix_check(shown)
    overdue = builder.item(single, cat_single, "in_progress", days=-5)
    builder.publish(overdue)
    soon = builder.item(dual, cat_dual, "in_progress", days=3, department=finance)
    builder.extension(soon)
    builder.item(dual, cat_dual, "pending_review", days=20)
    builder.item(single, cat_single, "follow_up", days=40)
    builder.grant(RectificationItem, soon, "Reader", department=finance)
    small = {"inspection": single, "item": shown, "departments": [finance]}
    recent_activity(builder, small)
    return small


def build_large(builder: Builder, small: dict) -> None:
    """About twenty times as much: two more inspections, more departments and grants, items in
    every state and deadline band, feedback, fix checks, extension requests, and on the shown
    item many measures, evidence pieces, answers and a long workflow history."""
    world = builder.world
    departments = small["departments"] + [builder.department(f"第{k}科") for k in range(3)]
    places = [
        (world.inspections[APPROVAL_SINGLE], world.categories[APPROVAL_SINGLE]),
        (world.inspections[APPROVAL_DUAL], world.categories[APPROVAL_DUAL]),
    ]
    for policy, title in ((APPROVAL_SINGLE, "区发改委巡察整改"), (APPROVAL_DUAL, "区教育局巡察整改")):
        inspection_id, category_ids = builder.inspection(policy, title)
        builder.grant(Inspection, inspection_id, "Editor", department=departments[-1])
        builder.grant(Category, category_ids[0], "Reviewer", persona="leader_reviewer")
        places += [(inspection_id, c) for c in category_ids]
    states = ("assigned", "in_progress", "pending_review", "completed", "follow_up", "in_progress")
    bands = (-10, 3, 20, None, -2, 6, 45)
    for k in range(50):
        inspection_id, category_id = places[k % len(places)]
        state, days = states[k % len(states)], bands[k % len(bands)]
        department = departments[k % len(departments)]
        item_id = builder.item(inspection_id, category_id, state, days=days, department=department)
        if k % 2 == 0 and state != "pending_review":  # not while under review
            builder.publish(item_id)
        if k % 3 == 0:
            builder.feedback(item_id, published=k % 2 == 0, forward_to=department if k % 4 == 0 else None)
        if state == "completed" and k % 2 == 0:
            builder.fix_check(item_id, "not_fixed" if k % 4 == 0 else "fixed")
        if state == "in_progress" and days is not None and days > 0:
            builder.extension(item_id)
        if k % 5 == 0:
            builder.grant(RectificationItem, item_id, "Reader", department=department)
    # the shown item: many of everything it lists
    shown = small["item"]
    world.fire("office", shown, "schedule_follow_up")
    world.fire("office", shown, "reopen", comment="问题反弹")  # its measures open to change again
    with builder.app.app_context():
        item = db.session.get(RectificationItem, shown)
        for k in range(20):
            measure = add_measure(builder.actor, item, label=f"{k}是", text=f"措施{k}")
            set_measure_status(builder.actor, measure, "done" if k % 2 else "long_term", "长期坚持")
            add_evidence_note(builder.actor, item, f"材料{k}", public=k % 2 == 0)
        db.session.commit()
    world.fire("staff_resp", shown, "submit", comment="已整改")
    world.fire("leader_resp", shown, "approve", comment="同意")
    for k in range(8):
        builder.feedback(shown, published=k % 2 == 0, forward_to=departments[k % len(departments)])
        builder.fix_check(shown, "not_fixed" if k % 2 else "fixed")
    for _ in range(10):
        world.fire("office", shown, "schedule_follow_up")
        world.fire("office", shown, "confirm")
    # answers given before its last completion belong to an older round: one more since, so that
    # the not-fixed list shows it as on the small set
    builder.fix_check(shown)
    recent_activity(builder, small)


def recent_activity(builder: Builder, small: dict) -> None:
    """The same last few writes after either data set: the audit log's first page (50 events)
    then names the same kinds of object, each kind looked up with one statement."""
    world = builder.world
    single, category = world.inspections[APPROVAL_SINGLE], world.categories[APPROVAL_SINGLE]
    for _ in range(6):
        item_id = builder.item(single, category, "in_progress", days=15, department=small["departments"][0])
        builder.extension(item_id)
        builder.feedback(item_id, published=True, forward_to=small["departments"][0])
        builder.fix_check(small["item"], "fixed")


def measure(app, clients, small) -> dict[tuple[str, str], list[str]]:
    """The statements of one GET of every (page, persona), after a warm-up GET."""
    with app.app_context():
        engine = db.engine
    found = {}
    for page, (template, personas) in PAGES.items():
        url = template.format(**small)
        for persona in personas:
            client = clients(persona)
            assert client.get(url).status_code == 200, (page, persona)
            with count_statements(engine) as seen, count_writes(engine) as writes:
                response = client.get(url)
            assert response.status_code == 200, (page, persona, response.status_code)
            assert writes == [], (page, persona, writes)
            found[page, persona] = seen
    return found


def test_every_read_page_runs_as_many_statements_on_a_large_data_set(app, world, signed_in):
    # Pages are measured as rendered (the first visitor after a write), not as served from the
    # page caches of portal.core.http_cache.
    render_every_time(app)
    anonymous = app.test_client()

    def clients(persona):
        return anonymous if persona == "anonymous" else signed_in(persona)

    builder = Builder(app, world)
    small = build_small(builder)
    few = measure(app, clients, small)
    build_large(builder, small)
    many = measure(app, clients, small)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RectificationItem)) >= 55
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Feedback)) >= 25
    table = "\n".join(
        f"{page:32} {persona:12} {len(few[page, persona]):5} {len(many[page, persona]):5}"
        for page, persona in few
    )
    print("\npage                             persona      small large\n" + table)
    changed = {key: difference(few[key], many[key]) for key in few if len(few[key]) != len(many[key])}
    assert not changed, "statement counts that change with the data:\n" + "\n".join(
        f"{page} / {persona}:\n{lines}" for (page, persona), lines in changed.items()
    )


def difference(small: list[str], large: list[str]) -> str:
    """The statements one run sent more often than the other (+ the large one, - the small)."""
    more, fewer = Counter(large), Counter(small)
    lines = [f"  +{n} {' '.join(s.split())[:160]}" for s, n in (more - fewer).items()]
    lines += [f"  -{n} {' '.join(s.split())[:160]}" for s, n in (fewer - more).items()]
    return "\n".join(lines)
