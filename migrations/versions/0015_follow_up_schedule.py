"""回头看 on schedule: the day an item's follow-up check falls due.

Revision ID: 0015_follow_up_schedule
Revises: 0014_supervision_warnings
Create Date: 2026-12-05

- ``items.follow_up_due_on``: set when an item is completed (its ``complete`` transition) to the
  completion day plus the inspection's ``follow_up_months``, cleared when the item enters
  follow-up (回头看). The supervision pass moves completed items whose day has come.
  Items completed before this revision, and not followed up since, are scheduled from the
  (UTC) day of their last ``complete`` history entry.
"""

import calendar
from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

revision = "0015_follow_up_schedule"
down_revision = "0014_supervision_warnings"
branch_labels = None
depends_on = None


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _as_datetime(value):
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def upgrade():
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("follow_up_due_on", sa.Date(), nullable=True))
    items = sa.table(
        "items",
        sa.column("id", sa.Integer),
        sa.column("inspection_id", sa.Integer),
        sa.column("state", sa.String),
        sa.column("follow_up_due_on", sa.Date),
    )
    inspections = sa.table(
        "inspections", sa.column("id", sa.Integer), sa.column("follow_up_months", sa.Integer)
    )
    history = sa.table(
        "workflow_history",
        sa.column("object_type", sa.String),
        sa.column("object_id", sa.Integer),
        sa.column("workflow", sa.String),
        sa.column("action", sa.String),
        sa.column("to_state", sa.String),
        sa.column("at", sa.DateTime),
    )

    def last(where):
        return (
            sa.select(sa.func.max(history.c.at))
            .where(
                history.c.object_type == "item",
                history.c.object_id == items.c.id,
                history.c.workflow == "rectification",
                where,
            )
            .scalar_subquery()
        )

    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            items.c.id,
            inspections.c.follow_up_months,
            last(history.c.action == "complete").label("completed_at"),
            last(history.c.to_state == "follow_up").label("followed_up_at"),
        )
        .join(inspections, inspections.c.id == items.c.inspection_id)
        .where(items.c.state == "completed")
    ).all()
    for item_id, months, completed_at, followed_up_at in rows:
        completed_at, followed_up_at = _as_datetime(completed_at), _as_datetime(followed_up_at)
        if completed_at is None or (followed_up_at is not None and followed_up_at >= completed_at):
            continue  # confirmed after a follow-up check: nothing is scheduled
        bind.execute(
            items.update()
            .where(items.c.id == item_id)
            .values(follow_up_due_on=_add_months(completed_at.date(), months))
        )


def downgrade():
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("follow_up_due_on")
