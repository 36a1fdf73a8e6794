"""Ledger export (from the documents) and import (into a new inspection, all or nothing)."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import Department, User, active_users_with
from portal.audit.chain import Actor, record_event
from portal.core.errors import OperationError
from portal.core.extensions import db
from portal.core.filters import visible
from portal.evidence.models import Evidence
from portal.inspections.models import Category, Inspection, Measure, RectificationItem
from portal.inspections.operations import create_category, create_inspection, create_item
from portal.inspections.queries import progress_expression
from portal.ledger.xlsx import Ledger, LedgerError, LedgerRow
from workflows import RECTIFICATION
from workflows.lifecycle import LIFECYCLE

CATEGORY_TEXT = re.compile(r"^([一二三四五六七八九十]+)、(.*)$")


class LedgerInvalid(OperationError):
    def __init__(self, errors: list[LedgerError]):
        super().__init__(_("The ledger has %(n)d problem(s); nothing was imported.", n=len(errors)))
        self.errors = errors


def ledger_items(inspection: Inspection, user=None) -> list[RectificationItem]:
    """The items of the inspection's ledger, in order: those `user` may see (every one, from the
    command line), without the withdrawn ones (撤销: they leave every list and count, as they
    leave the dashboard)."""
    item = RectificationItem
    held = [state.id for state in LIFECYCLE.states if state.suspends]
    query = sa.select(item).where(
        item.inspection_id == inspection.id, getattr(item, LIFECYCLE.state_attribute).not_in(held)
    )
    if user is not None:
        query = query.where(visible(user, item))
    return db.session.scalars(query.order_by(item.id)).all()


def ledger_rows(inspection: Inspection, items: list[RectificationItem]) -> list[LedgerRow]:
    """One row per item (a fixed number of queries whatever the number of items)."""
    ids = [i.id for i in items]
    categories = {
        c.id: c
        for c in db.session.scalars(sa.select(Category).where(Category.inspection_id == inspection.id))
    }
    measures: dict[int, list[Measure]] = {}
    for m in db.session.scalars(
        sa.select(Measure).where(Measure.item_id.in_(ids)).order_by(Measure.position, Measure.id)
    ):
        measures.setdefault(m.item_id, []).append(m)
    evidence = dict(
        db.session.execute(
            sa.select(Evidence.item_id, sa.func.count())
            .where(Evidence.item_id.in_(ids), Evidence.withdrawn_at.is_(None))
            .group_by(Evidence.item_id)
        ).all()
    )
    progress = dict(
        db.session.execute(
            sa.select(RectificationItem.id, progress_expression()).where(RectificationItem.id.in_(ids))
        ).all()
    )
    people = {u.id: u.display_name for u in db.session.scalars(sa.select(User))}
    departments = {d.id: d.name for d in db.session.scalars(sa.select(Department))}
    rows = []
    for n, item in enumerate(items, start=1):
        category = categories.get(item.category_id)
        rows.append(
            LedgerRow(
                number=item.number or str(n),
                category=(
                    f"{category.label}、{category.title}"
                    if category and category.label
                    else (category.title if category else "")
                ),
                title=item.title,
                measures=[(m.label, m.text) for m in measures.get(item.id, [])],
                leader=people.get(item.responsible_leader_id, ""),
                department=departments.get(item.department_id, ""),
                staff=people.get(item.staff_id, ""),
                deadline=item.deadline,
                status=RECTIFICATION.state(item.state).title_zh,
                progress=int(progress.get(item.id) or 0),
                completion_summary=item.completion_summary,
                evidence_count=evidence.get(item.id, 0),
            )
        )
    return rows


def not_carried(ledger: Ledger) -> list[LedgerRow]:
    """Rows whose reported state or 100% progress the import cannot carry over.

    State changes only through the workflow (evidence, approvals), so imported items begin in
    its first state (已交办); progress below 100% is kept as reported, 100% is not, since an item
    is complete only when its measures are closed and its leaders have approved it.
    """
    first = RECTIFICATION.state(RECTIFICATION.initial)
    return [
        row
        for row in ledger.rows
        if (row.status and row.status not in (first.title_zh, first.title_en)) or row.progress == 100
    ]


def _people_by_name(role: str) -> dict[str, User]:
    users = active_users_with(role)
    found: dict[str, User] = {}
    for user in users:
        found.setdefault(user.display_name, user)
        found.setdefault(user.login, user)
    return found


def import_ledger(actor: Actor, ledger: Ledger, title: str) -> Inspection:
    """Create an inspection from a ledger; any error anywhere means nothing is written."""
    errors = list(ledger.errors)
    leaders, staff = _people_by_name("leader"), _people_by_name("staff")
    departments = {d.name: d for d in db.session.scalars(sa.select(Department))}
    states = {s.title_zh for s in RECTIFICATION.states} | {s.title_en for s in RECTIFICATION.states}
    resolved = []
    for row in ledger.rows:
        leader = leaders.get(row.leader) if row.leader else None
        person = staff.get(row.staff) if row.staff else None
        department = departments.get(row.department) if row.department else None
        if row.leader and leader is None:
            errors.append(LedgerError(row.row, "责任领导", f"no active leader named {row.leader}"))
        if row.staff and person is None:
            errors.append(LedgerError(row.row, "责任人", f"no active staff member named {row.staff}"))
        if row.department and department is None:
            errors.append(LedgerError(row.row, "责任部门", f"no department named {row.department}"))
        if row.status and row.status not in states:
            errors.append(LedgerError(row.row, "整改状态", f"unknown state {row.status}"))
        resolved.append((row, leader, person, department))
    if not ledger.rows and not errors:
        errors.append(LedgerError(0, "", "the ledger has no rows"))
    if errors:
        raise LedgerInvalid(errors)

    inspection = create_inspection(actor, title=title.strip() or ledger.title or "整改台账")
    categories: dict[str, Category] = {}
    for row, leader, person, department in resolved:
        category = None
        if row.category:
            category = categories.get(row.category)
            if category is None:
                match = CATEGORY_TEXT.match(row.category)
                label, cat_title = (match.group(1), match.group(2)) if match else ("", row.category)
                category = create_category(
                    actor, inspection, label=label, title=cat_title, position=len(categories)
                )
                categories[row.category] = category
        create_item(
            actor,
            inspection,
            category=category,
            number=row.number,
            title=row.title,
            responsible_leader=leader,
            staff=person,
            department=department,
            deadline=row.deadline,
            completion_summary=row.completion_summary,
            # imported measures are not ticked: keep the progress reported, below 100%
            progress_override=row.progress if row.progress and row.progress < 100 else None,
            measures=[(label, text, None) for label, text in row.measures],
        )
    db.session.flush()
    record_event(
        actor,
        "ledger.import",
        "inspection",
        inspection.id,
        {
            "rows": len(resolved),
            "title": inspection.title,
            # what the ledger reported but the workflow did not take over (kept for the record)
            "not_carried": [
                {"row": r.row, "status": r.status or "", "progress": r.progress} for r in not_carried(ledger)
            ],
        },
        inspection_id=inspection.id,
    )
    return inspection
