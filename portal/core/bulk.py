"""Bulk INSERTs that give back each row's id, in the order of the rows, on both databases.

SQLAlchemy's `returning(…, sort_by_parameter_order=True)` does this portably, but on
PostgreSQL it pays for the ordering with a sentinel join (about 3× a plain INSERT at 25,000
rows). There the ids are taken from the column's sequence first, in one query, and the rows are
sent with them by COPY, each value bound by its column's type as an INSERT would bind it.
SQLite runs the ordered form one row at a time; there the ids after the largest are taken (one
writer at a time) and the rows go in one executemany.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from portal.core.extensions import db


def insert_many(table: sa.Table, rows: list[dict], *, chunk: int = 5_000) -> list[int]:
    """INSERT `rows` into `table` (integer primary key `id`) in the session's transaction;
    return their new ids, in the order of `rows`."""
    if not rows:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        ids = db.session.scalars(
            sa.text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
            {"table": table.name, "n": len(rows)},
        ).all()
        _copy(table, [{"id": i, **row} for row, i in zip(rows, ids, strict=True)])
        return list(ids)
    # SQLite has one writer at a time: the ids after the largest are the ones its own INSERT
    # would give (no AUTOINCREMENT table here), so they are taken first and the rows sent in
    # one executemany. A writer that committed since this transaction read would make the
    # INSERT fail (busy snapshot; the primary key besides), never share an id.
    last = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0)))
    ids = list(range(last + 1, last + 1 + len(rows)))
    for start in range(0, len(rows), chunk):
        db.session.execute(
            sa.insert(table),
            [{"id": i, **row} for row, i in zip(rows[start : start + chunk], ids[start:], strict=False)],
        )
    return ids


def insert_rows(table: sa.Table, rows: list[dict]) -> None:
    """INSERT `rows`, which name their keys, into `table` in the session's transaction: by
    COPY on PostgreSQL, as one executemany elsewhere."""
    if not rows:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        _copy(table, rows)
    else:
        db.session.execute(sa.insert(table), rows)


def _copy(table: sa.Table, rows: list[dict]) -> None:
    """COPY `rows` into `table` on the session's connection (PostgreSQL); every row names the
    same columns, each value bound by its column's type as an INSERT would bind it (a JSON value
    that many rows share, a batch's notification parameters say, is serialised once)."""
    from psycopg import sql

    connection = db.session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    if any(row.keys() != rows[0].keys() for row in rows):
        raise ValueError("bulk insert: every row must name the same columns")
    bind = [_binder(table.c[name].type, dialect) for name in names]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(
                [value if p is None else p(value) for p, value in zip(bind, row.values(), strict=True)]
            )


def _binder(type_: sa.types.TypeEngine, dialect):
    """What turns a value of `type_` into what COPY sends (None: the value as it is)."""
    if isinstance(type_, sa.JSON):
        serialise, seen = dialect._json_serializer or json.dumps, {}

        def json_text(value):
            if value is None:  # as SQLAlchemy binds None to a JSON column
                return None if type_.none_as_null else "null"
            key = id(value)
            if key not in seen:
                seen[key] = (value, serialise(value))  # (the value kept alive: its id stays its own)
            return seen[key][1]

        return json_text
    return type_.dialect_impl(dialect).bind_processor(dialect)
