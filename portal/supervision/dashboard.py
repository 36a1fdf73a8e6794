"""督查督办驾驶舱: the supervision dashboard's figures, over the items a user may see.

Every figure counts the items that count (not withdrawn, in an inspection not withdrawn) among
those the policy lets the user see (`visible`) and that are in the user's scope: the office's
is every inspection; a leader's is the items they hold a role on (responsible leader, party
secretary, a Reviewer or Reader grant …). The policy lets every leader read every item; the
dashboard is what they answer for. The number of statements is fixed whatever the number of items: one
grouped statement gives the counts by state, level, category and department (and the
inspections for the filter); the lists, the completion series, the extensions and the public
"not fixed" reports take one statement each. The figures are plain data (no database rows),
computed once per state of the data and kept in the cache (portal.core.cache).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from portal.accounts.models import Department
from portal.core.cache import computed_once, data_head
from portal.core.extensions import db
from portal.core.filters import active_in, holds_any, visible
from portal.core.models import WorkflowHistory
from portal.deadlines.models import ExtensionRequest
from portal.feedback.models import FixCheck
from portal.inspections.models import Category, Inspection, RectificationItem
from portal.supervision.levels import BY_ID as LEVELS
from portal.supervision.levels import INTERVIEW, REMIND, SUPERVISE, WARN, Level, level_expression
from workflows import RECTIFICATION
from workflows.extension import OPEN as OPEN_EXTENSIONS
from workflows.rectification import CLOSED
from workflows.roles import LOCAL_ROLES

Item = RectificationItem
#: whose items a user's dashboard counts: the office every item, others those they hold a role on
SCOPE_ROLES = frozenset({"office", "auditor", *LOCAL_ROLES, "ResponsibleLeader", "PartySecretary"})
#: worst first (the lists are shown in this order)
OVERDUE = (INTERVIEW.id, SUPERVISE.id)
AT_RISK = (WARN.id, REMIND.id)
#: how many rows each list shows (the counts above it are complete)
LIST_LIMIT = 50
#: the completion series: this many months, ending with the current one
MONTHS = 12


class year_month(FunctionElement):  # noqa: N801 (a SQL function, named like one)
    """SQL: 'YYYY-MM' of a timestamp."""

    type = sa.String()
    inherit_cache = True


@compiles(year_month)
def _year_month_sqlite(element, compiler, **kw):
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(year_month, "postgresql")
def _year_month_postgresql(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


@dataclass
class Tally:
    """Items of one group (a category, a department): how many, completed, overdue."""

    key: int | None
    label: str
    #: for a chart's narrow label column (a category without its inspection's name)
    short: str = ""
    items: int = 0
    completed: int = 0
    overdue: int = 0

    @property
    def rate(self) -> int:
        return round(100 * self.completed / self.items) if self.items else 0


@dataclass(frozen=True)
class InspectionRef:
    id: int
    title: str


@dataclass(frozen=True)
class DepartmentRef:
    id: int
    name: str


@dataclass(frozen=True)
class PersonRef:
    id: int
    display_name: str


@dataclass(frozen=True)
class ItemRef:
    """What the dashboard shows of an item: plain data, so that the figures can be cached (and
    shared through Redis) without holding database rows."""

    id: int
    number: str
    title: str
    deadline: date | None
    inspection: InspectionRef
    department: DepartmentRef | None
    responsible_leader: PersonRef | None

    @classmethod
    def of(cls, item: RectificationItem) -> ItemRef:
        department, leader = item.department, item.responsible_leader
        return cls(
            item.id,
            item.number,
            item.title,
            item.deadline,
            InspectionRef(item.inspection.id, item.inspection.title),
            DepartmentRef(department.id, department.name) if department is not None else None,
            PersonRef(leader.id, leader.display_name) if leader is not None else None,
        )


@dataclass
class ListedItem:
    item: ItemRef
    level: Level
    #: days left before the deadline (negative: days overdue)
    days_left: int


@dataclass
class Month:
    key: str  # YYYY-MM
    completed: int


@dataclass
class NotFixed:
    item: ItemRef
    reports: int
    latest: datetime


@dataclass
class Dashboard:
    today: date
    inspection: InspectionRef | None
    #: the inspections the user may choose from (those with items in their scope)
    inspections: list[InspectionRef]
    by_state: dict[str, int]
    by_level: dict[str, int]
    categories: list[Tally]
    departments: list[Tally]
    overdue: list[ListedItem]
    at_risk: list[ListedItem]
    months: list[Month]
    #: completions before the first month of the series
    completed_earlier: int
    extensions: dict[str, int]
    extended_items: int
    not_fixed: list[NotFixed] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.by_state.values())

    @property
    def completed(self) -> int:
        return sum(n for state, n in self.by_state.items() if state in CLOSED)

    @property
    def overdue_count(self) -> int:
        return sum(self.by_level.get(level, 0) for level in OVERDUE)

    @property
    def at_risk_count(self) -> int:
        return sum(self.by_level.get(level, 0) for level in AT_RISK)

    @property
    def rate(self) -> int:
        return round(100 * self.completed / self.total) if self.total else 0

    @property
    def pending_extensions(self) -> int:
        return sum(self.extensions.get(state, 0) for state in OPEN_EXTENSIONS)

    @property
    def not_fixed_reports(self) -> int:
        return sum(row.reports for row in self.not_fixed)


def scope(user):
    """SQL: the items of `user`'s scope they may see that count (nothing suspends them)."""
    return sa.and_(visible(user, Item), holds_any(user, Item, SCOPE_ROLES), active_in(Item, RECTIFICATION))


def dashboard(
    user, today: date, inspection_id: int | None = None, limit: int | None = LIST_LIMIT
) -> Dashboard:
    """The figures of the items `user` may see, of one inspection or of all of them; the lists
    of overdue and at-risk items show `limit` rows each (None: all, as the workbook does).

    Computed once per state of the data (the audit chain's head: any committed write moves it,
    a change of the user's roles or grants included), user, day and choice; see
    portal.core.cache."""
    return computed_once(
        ("dashboard", data_head().key, user.id, today.isoformat(), inspection_id, limit),
        lambda: compute(user, today, inspection_id, limit),
    )


def compute(user, today: date, inspection_id: int | None, limit: int | None) -> Dashboard:
    """The figures of `dashboard`, computed now."""
    in_scope = scope(user)
    if inspection_id is not None:
        in_scope = sa.and_(in_scope, Item.inspection_id == inspection_id)
    groups = _groups(user, today)
    inspections = _inspections({g[0] for g in groups})
    if inspection_id is not None:
        groups = [g for g in groups if g[0] == inspection_id]
    by_state: dict[str, int] = {s.id: 0 for s in RECTIFICATION.states}
    by_level: dict[str, int] = {level: 0 for level in LEVELS}
    for _inspection, _category, _department, state, level, n in groups:
        by_state[state] = by_state.get(state, 0) + n
        by_level[level] += n
    months, earlier = completion_series(in_scope, today)
    extensions, extended = _extensions(in_scope)
    overdue, at_risk = _listed(in_scope, today, limit)
    return Dashboard(
        today=today,
        inspection=next((i for i in inspections if i.id == inspection_id), None),
        inspections=inspections,
        by_state=by_state,
        by_level=by_level,
        categories=_categories(groups),
        departments=_departments(groups),
        overdue=overdue,
        at_risk=at_risk,
        months=months,
        completed_earlier=earlier,
        extensions=extensions,
        extended_items=extended,
        not_fixed=_not_fixed(in_scope),
    )


def _groups(user, today: date) -> list[tuple]:
    """(inspection, category, department, state, level, count) over every item in scope."""
    level = level_expression(Item, today).label("level")
    rows = sa.select(Item.inspection_id, Item.category_id, Item.department_id, Item.state, level).where(
        scope(user)
    )
    rows = rows.subquery()
    return [tuple(row) for row in db.session.execute(sa.select(*rows.c, sa.func.count()).group_by(*rows.c))]


def _inspections(ids) -> list[Inspection]:
    if not ids:
        return []
    return [
        InspectionRef(*row)
        for row in db.session.execute(
            sa.select(Inspection.id, Inspection.title)
            .where(Inspection.id.in_(ids))
            .order_by(Inspection.created_at.desc(), Inspection.id)
        )
    ]


def _tally(tallies: dict, key, label: str, state: str, level: str, n: int) -> None:
    tally = tallies.setdefault(key, Tally(key, label))
    tally.items += n
    tally.completed += n if state in CLOSED else 0
    tally.overdue += n if level in OVERDUE else 0


def _categories(groups) -> list[Tally]:
    """Per category, in the inspections' order; with several inspections, named with theirs."""
    ids = {g[1] for g in groups if g[1] is not None}
    categories = (
        db.session.scalars(
            sa.select(Category)
            .options(so.joinedload(Category.inspection))
            .where(Category.id.in_(ids))
            .order_by(Category.inspection_id, Category.position, Category.id)
        ).all()
        if ids
        else []
    )
    several = len({category.inspection_id for category in categories}) > 1
    tallies: dict = {}
    for category in categories:
        title = f"{category.label}、{category.title}" if category.label else category.title
        label = f"{category.inspection.title} · {title}" if several else title
        tallies[category.id] = Tally(category.id, label, title)
    for _inspection, category_id, _department, state, level, n in groups:
        _tally(tallies, category_id, "", state, level, n)
    return list(tallies.values())  # uncategorised items (label "") come last


def _departments(groups) -> list[Tally]:
    """Ranked: most overdue first, then most still open, then by name."""
    ids = {g[2] for g in groups if g[2] is not None}
    names = (
        dict(
            db.session.execute(sa.select(Department.id, Department.name).where(Department.id.in_(ids))).all()
        )
        if ids
        else {}
    )
    tallies: dict = {}
    for _inspection, _category, department_id, state, level, n in groups:
        _tally(tallies, department_id, names.get(department_id, ""), state, level, n)
    return sorted(
        tallies.values(),
        key=lambda t: (-t.overdue, -(t.items - t.completed), t.key is None, t.label),
    )


def _listed(in_scope, today: date, limit: int | None) -> tuple[list[ListedItem], list[ListedItem]]:
    """The overdue and the at-risk items, each worst level first, then the earliest deadline
    (`limit` rows of each): the levels of the candidates in one statement, the rows shown in
    another."""
    level = level_expression(Item, today)
    worst_first = OVERDUE + AT_RISK
    candidates = db.session.execute(
        sa.select(Item.id, Item.deadline, level)
        # only open items with a deadline have a level: a cheap test before the level's
        .where(in_scope, Item.state.not_in(CLOSED), Item.deadline.is_not(None))
    ).all()
    ranked = sorted(
        (row for row in candidates if row[2] in worst_first),
        key=lambda row: (worst_first.index(row[2]), row[1], row[0]),
    )
    overdue = [row for row in ranked if row[2] in OVERDUE][:limit]
    at_risk = [row for row in ranked if row[2] in AT_RISK][:limit]
    ids = [row[0] for row in overdue + at_risk]
    items = (
        {
            item.id: item
            for item in db.session.scalars(
                sa.select(Item)
                .options(
                    so.joinedload(Item.inspection),
                    so.joinedload(Item.department),
                    so.joinedload(Item.responsible_leader),
                )
                .where(Item.id.in_(ids))
            )
        }
        if ids
        else {}
    )

    def listed(rows) -> list[ListedItem]:
        return [
            ListedItem(ItemRef.of(items[i]), LEVELS[lvl], (deadline - today).days)
            for i, deadline, lvl in rows
        ]

    return listed(overdue), listed(at_risk)


def _month_keys(today: date) -> list[str]:
    year, month = today.year, today.month
    keys = []
    for _ in range(MONTHS):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(keys))


def completion_series(in_scope, today: date) -> tuple[list[Month], int]:
    """Completions per month (the history's `complete` steps) and how many came earlier."""
    month = year_month(WorkflowHistory.at)
    counts = dict(
        db.session.execute(
            sa.select(month, sa.func.count())
            .join(Item, Item.id == WorkflowHistory.object_id)
            .where(
                WorkflowHistory.object_type == "item",
                WorkflowHistory.workflow == RECTIFICATION.id,
                WorkflowHistory.action == "complete",
                in_scope,
            )
            .group_by(month)
        ).all()
    )
    keys = _month_keys(today)
    earlier = sum(n for key, n in counts.items() if key < keys[0])
    return [Month(key, counts.get(key, 0)) for key in keys], earlier


def _extensions(in_scope) -> tuple[dict[str, int], int]:
    """Extension requests by state, and how many items have at least one approved."""
    rows = db.session.execute(
        sa.select(
            ExtensionRequest.extension_state,
            sa.func.count(),
            sa.func.count(sa.distinct(ExtensionRequest.item_id)),
        )
        .join(Item, Item.id == ExtensionRequest.item_id)
        .where(in_scope)
        .group_by(ExtensionRequest.extension_state)
    ).all()
    by_state = {state: n for state, n, _items in rows}
    extended = next((items for state, _n, items in rows if state == "approved"), 0)
    return by_state, extended


def _not_fixed(in_scope) -> list[NotFixed]:
    """Items the public reported as not really fixed (真的改好了吗: 没有), most reports first."""
    reports = (
        sa.select(
            FixCheck.item_id, sa.func.count().label("n"), sa.func.max(FixCheck.created_at).label("latest")
        )
        .where(FixCheck.answer == "not_fixed")
        .group_by(FixCheck.item_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Item, reports.c.n, reports.c.latest)
        .join(reports, reports.c.item_id == Item.id)
        .options(
            so.joinedload(Item.inspection),
            so.joinedload(Item.department),
            so.joinedload(Item.responsible_leader),
        )
        .where(in_scope)
        .order_by(reports.c.n.desc(), reports.c.latest.desc(), Item.id)
    ).all()
    return [NotFixed(ItemRef.of(item), int(n), latest) for item, n, latest in rows]
