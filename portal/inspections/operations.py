"""Creating inspections, categories and items (the documents issue adds editing and versions)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from portal.audit.chain import Actor, record_event, utcnow
from portal.extensions import db
from portal.inspections.models import APPROVAL_SINGLE, Category, Inspection, RectificationItem


def create_inspection(actor: Actor, *, title: str, inspected_unit: str = "",
                      inspection_team: str = "", approval_policy: str = APPROVAL_SINGLE,
                      party_secretary=None, start_date: date | None = None,
                      end_date: date | None = None, feedback_date: date | None = None) -> Inspection:
    inspection = Inspection(
        title=title.strip(), inspected_unit=inspected_unit, inspection_team=inspection_team,
        approval_policy=approval_policy, party_secretary=party_secretary, start_date=start_date,
        end_date=end_date, feedback_date=feedback_date, created_at=utcnow())
    db.session.add(inspection)
    db.session.flush()
    record_event(actor, "inspection.create", "inspection", inspection.id, {
        "title": inspection.title, "inspected_unit": inspected_unit,
        "inspection_team": inspection_team, "approval_policy": approval_policy,
        "party_secretary_id": inspection.party_secretary_id, "start_date": start_date,
        "end_date": end_date, "feedback_date": feedback_date})
    return inspection


def create_category(actor: Actor, inspection: Inspection, *, label: str, title: str,
                    position: int = 0) -> Category:
    category = Category(inspection=inspection, label=label, title=title.strip(),
                        position=position)
    db.session.add(category)
    db.session.flush()
    record_event(actor, "category.create", "category", category.id, {
        "inspection_id": inspection.id, "label": label, "title": category.title,
        "position": position})
    return category


def create_item(actor: Actor, inspection: Inspection, *, title: str,
                category: Category | None = None, number: str = "", feedback_text: str = "",
                responsible_leader=None, staff=None, department=None,
                deadline: date | None = None, completion_summary: str = "",
                money_to_recover: Decimal | None = None) -> RectificationItem:
    """Create an item in the workflows' initial states (assigned, private)."""
    item = RectificationItem(
        inspection=inspection, category=category, number=number, title=title.strip(),
        feedback_text=feedback_text, responsible_leader=responsible_leader, staff=staff,
        department=department, deadline=deadline, completion_summary=completion_summary,
        money_to_recover=money_to_recover, created_at=utcnow())
    db.session.add(item)
    db.session.flush()
    record_event(actor, "item.create", "item", item.id, {
        "inspection_id": inspection.id, "category_id": item.category_id, "number": number,
        "title": item.title, "responsible_leader_id": item.responsible_leader_id,
        "staff_id": item.staff_id, "department_id": item.department_id, "deadline": deadline,
        "completion_summary": completion_summary, "money_to_recover": money_to_recover,
        "state": item.state, "publication_state": item.publication_state})
    return item


def set_completion_summary(actor: Actor, item: RectificationItem, text: str) -> None:
    """Record the 整改成效 text; bumps the version like any edit."""
    before = item.completion_summary
    item.completion_summary = text.strip()
    item.version += 1
    db.session.flush()
    record_event(actor, "item.update", "item", item.id, {
        "changes": {"completion_summary": {"before": before, "after": item.completion_summary}},
        "version": item.version})
