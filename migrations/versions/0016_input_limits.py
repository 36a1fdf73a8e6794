"""Input limits the database holds to: free text no longer than the forms allow, money in range.

Revision ID: 0016_input_limits
Revises: 0015_follow_up_schedule
Create Date: 2026-12-12

- ``ck_<table>_<column>_length``: ``CHECK (length(column) <= limit)`` on every free-text column
  people or imports fill (SQLite ignores the n of VARCHAR(n); the check holds on both databases).
- ``ck_items_money_to_recover_range``, ``ck_items_money_recovered_range``: amounts are yuan with
  fen, ``0 <= amount < 10^12`` (NUMERIC(14, 2) on PostgreSQL; SQLite stores any number).

Rows written before this revision that break a limit are not shortened or changed here (that
would rewrite what the audit chain recorded): the upgrade stops and lists them, to be corrected
through the portal first.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_input_limits"
down_revision = "0015_follow_up_schedule"
branch_labels = None
depends_on = None

#: table → {column: limit}; the models declare the same (portal.core.models.max_lengths).
LENGTHS = {
    "inspections": {
        "title": 300,
        "inspected_unit": 200,
        "inspection_team": 200,
        "contact_phone": 60,
        "contact_address": 200,
        "contact_email": 254,
        "source_text": 100_000,
    },
    "categories": {"label": 20, "title": 300},
    "items": {
        "number": 20,
        "title": 300,
        "feedback_text": 10_000,
        "completion_summary": 10_000,
        "public_summary": 10_000,
    },
    "measures": {"label": 20, "text": 10_000, "status_reason": 500},
    "workflow_history": {"comment": 4000},
    "extension_requests": {"reason": 2000, "progress_note": 4000},
    "evidence": {"note": 4000, "filename": 200},
    "feedback": {
        "text": 2000,
        "original_text": 2000,
        "name": 60,
        "phone": 30,
        "email": 254,
        "reply": 4000,
    },
    "fix_checks": {"comment": 500},
    "notice_previews": {"source_text": 100_000, "filename": 255},
    "item_chases": {"text": 500},
    "document_versions": {"note": 500},
}
MONEY = {"items": ("money_to_recover", "money_recovered")}
MONEY_LIMIT = 10**12


def _money_check(column: str) -> str:
    return f"{column} >= 0 AND {column} < {MONEY_LIMIT}"


def _offending_rows(bind) -> list[str]:
    """Rows that break a limit, as "table id column: what" lines (at most 20 per column)."""
    found = []
    for table, columns in LENGTHS.items():
        key = "token_sha256" if table == "notice_previews" else "id"
        for column, limit in columns.items():
            rows = bind.execute(
                sa.text(
                    f"SELECT {key}, length({column}) FROM {table} "  # noqa: S608 - names from this file
                    f"WHERE length({column}) > :limit ORDER BY {key} LIMIT 20"
                ),
                {"limit": limit},
            ).all()
            found += [f"{table} {row[0]} {column}: {row[1]} characters (at most {limit})" for row in rows]
    for table, columns in MONEY.items():
        for column in columns:
            rows = bind.execute(
                sa.text(
                    f"SELECT id, {column} FROM {table} "  # noqa: S608 - names from this file
                    f"WHERE {column} IS NOT NULL AND NOT ({_money_check(column)}) ORDER BY id LIMIT 20"
                )
            ).all()
            found += [f"{table} {row[0]} {column}: {row[1]} (0 to 999999999999.99)" for row in rows]
    return found


def upgrade():
    offending = _offending_rows(op.get_bind())
    if offending:
        raise RuntimeError(
            "0016_input_limits: these rows break the new input limits; correct them through the "
            "portal (or with the previous release) and upgrade again:\n  " + "\n  ".join(offending)
        )
    for table, columns in LENGTHS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, limit in columns.items():
                batch_op.create_check_constraint(
                    op.f(f"ck_{table}_{column}_length"), sa.text(f"length({column}) <= {limit}")
                )
            for column in MONEY.get(table, ()):
                batch_op.create_check_constraint(
                    op.f(f"ck_{table}_{column}_range"), sa.text(_money_check(column))
                )


def downgrade():
    for table, columns in reversed(LENGTHS.items()):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in reversed(MONEY.get(table, ())):
                batch_op.drop_constraint(op.f(f"ck_{table}_{column}_range"), type_="check")
            for column in reversed(columns):
                batch_op.drop_constraint(op.f(f"ck_{table}_{column}_length"), type_="check")
