"""Withdrawal (撤销) of inspections and items; a measure's status replaces its done flag.

Revision ID: 0010_withdrawal_measure_status
Revises: 0009_notice_previews
Create Date: 2026-12-01

- ``lifecycle_state`` (active | withdrawn) on inspections and items: the lifecycle workflow.
  Inspections gain a ``version``, on which their transitions update conditionally.
- ``measures.status`` (open | done | long_term | not_applicable) and ``status_reason``
  replace ``measures.done``; long-term (长期坚持) and not applicable need a reason.
  Done measures become ``done``, the others ``open``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_withdrawal_measure_status"
down_revision = "0009_notice_previews"
branch_labels = None
depends_on = None

REASONED = ("long_term", "not_applicable")


def upgrade():
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lifecycle_state", sa.String(length=32), server_default="active", nullable=False)
        )
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lifecycle_state", sa.String(length=32), server_default="active", nullable=False)
        )
    with op.batch_alter_table("measures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=20), server_default="open", nullable=False))
        batch_op.add_column(sa.Column("status_reason", sa.Text(), server_default="", nullable=False))
    measures = sa.table("measures", sa.column("done", sa.Boolean), sa.column("status", sa.String))
    op.execute(measures.update().where(measures.c.done == sa.true()).values(status="done"))
    with op.batch_alter_table("measures", schema=None) as batch_op:
        batch_op.drop_column("done")
        batch_op.create_check_constraint(
            op.f("ck_measures_known_measure_status"), sa.column("status").in_(("open", "done", *REASONED))
        )
        batch_op.create_check_constraint(
            op.f("ck_measures_measure_status_reason"),
            sa.or_(sa.column("status").not_in(REASONED), sa.column("status_reason") != ""),
        )


def downgrade():
    with op.batch_alter_table("measures", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_measures_measure_status_reason"), type_="check")
        batch_op.drop_constraint(op.f("ck_measures_known_measure_status"), type_="check")
        batch_op.add_column(sa.Column("done", sa.Boolean(), server_default=sa.false(), nullable=False))
    measures = sa.table("measures", sa.column("done", sa.Boolean), sa.column("status", sa.String))
    op.execute(measures.update().where(measures.c.status == "done").values(done=True))
    with op.batch_alter_table("measures", schema=None) as batch_op:
        batch_op.drop_column("status_reason")
        batch_op.drop_column("status")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("lifecycle_state")
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("lifecycle_state")
