"""Keeping the search index: rewritten for an item by the flush that changes its text.

A flush that adds, changes (in an indexed column) or deletes an item, a measure, a piece of
evidence or a piece of feedback rewrites the documents of the items concerned, on the same
connection, in the same transaction: a search never finds what a rolled-back write said, and
always finds what a committed one says. The index is derived data, as the cached figures are:
the operation's own audit event stands for it.

The sources are read here through light table constructs, not the models, so that the
migration that builds the index for an existing database (0021) can use the same code.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.engine import Connection

from portal.search import tokens

_items = sa.table(
    "items",
    sa.column("id"),
    sa.column("number"),
    sa.column("title"),
    sa.column("feedback_text"),
    sa.column("completion_summary"),
    sa.column("public_summary"),
)
_measures = sa.table("measures", sa.column("id"), sa.column("item_id"), sa.column("text"))
_evidence = sa.table(
    "evidence",
    sa.column("id"),
    sa.column("item_id"),
    sa.column("note"),
    sa.column("filename"),
    sa.column("public"),
    sa.column("withdrawn_at"),
)
_feedback = sa.table("feedback", sa.column("id"), sa.column("item_id"), sa.column("text"), sa.column("reply"))
_fts = sa.table("search_fts", sa.column("rowid"), sa.column("tokens"))
_documents = sa.table(
    "search_documents",
    sa.column("id"),
    sa.column("item_id"),
    sa.column("kind"),
    sa.column("source_id"),
    sa.column("public"),
    sa.column("text"),
)

#: the columns whose change rewrites an item's documents, by table
WATCHED = {
    "items": ("number", "title", "feedback_text", "completion_summary", "public_summary"),
    "measures": ("text", "item_id"),
    "evidence": ("note", "filename", "public", "withdrawn_at", "item_id"),
    "feedback": ("text", "reply", "item_id"),
}
#: items per batch when the whole index is built
BATCH = 500


def _sources(conn: Connection, item_ids: list[int]) -> list[dict]:
    """The documents of these items, as rows for search_documents (without ids)."""
    found: list[dict] = []

    def add(item_id, kind, source_id, text, public):
        if text and text.strip():
            found.append(
                {
                    "item_id": item_id,
                    "kind": kind,
                    "source_id": source_id,
                    "public": bool(public),
                    "text": text,
                }
            )

    for row in conn.execute(sa.select(_items).where(_items.c.id.in_(item_ids))):
        title = f"{row.number}. {row.title}" if row.number else row.title
        add(row.id, "title", row.id, title, True)
        add(row.id, "finding", row.id, row.feedback_text, False)
        add(row.id, "completion", row.id, row.completion_summary, False)
        add(row.id, "public_summary", row.id, row.public_summary, True)
    for row in conn.execute(sa.select(_measures).where(_measures.c.item_id.in_(item_ids))):
        add(row.item_id, "measure", row.id, row.text, True)
    evidence = sa.select(_evidence).where(
        _evidence.c.item_id.in_(item_ids), _evidence.c.withdrawn_at.is_(None)
    )
    for row in conn.execute(evidence):
        add(row.item_id, "evidence", row.id, " ".join(filter(None, (row.note, row.filename))), row.public)
    feedback = sa.select(_feedback).where(_feedback.c.item_id.in_(item_ids))
    for row in conn.execute(feedback):
        add(row.item_id, "feedback", row.id, "\n".join(filter(None, (row.text, row.reply))), False)
    return found


def reindex(conn: Connection, item_ids: Iterable[int]) -> None:
    """Rewrite the documents of these items (an item that is gone loses them)."""
    ids = sorted(set(item_ids))
    for start in range(0, len(ids), BATCH):
        _reindex(conn, ids[start : start + BATCH])


def _reindex(conn: Connection, ids: list[int]) -> None:
    sqlite = conn.dialect.name == "sqlite"
    old = sa.select(_documents.c.id).where(_documents.c.item_id.in_(ids))
    if sqlite:
        conn.execute(sa.delete(_fts).where(_fts.c.rowid.in_(old)))
    conn.execute(sa.delete(_documents).where(_documents.c.item_id.in_(ids)))
    rows = _sources(conn, ids)
    if not rows:
        return
    if sqlite:
        # one writer at a time: the ids after the largest are this transaction's to take
        last = conn.execute(sa.select(sa.func.coalesce(sa.func.max(_documents.c.id), 0))).scalar_one()
        for offset, row in enumerate(rows, start=1):
            row["id"] = last + offset
        conn.execute(sa.insert(_documents), rows)
        conn.execute(
            sa.text("INSERT INTO search_fts (rowid, tokens) VALUES (:id, :tokens)"),
            [{"id": row["id"], "tokens": tokens.document(row["text"])} for row in rows],
        )
    else:
        conn.execute(
            sa.text(
                "INSERT INTO search_documents (item_id, kind, source_id, public, text, tsv) "
                "VALUES (:item_id, :kind, :source_id, :public, :text, CAST(:tsv AS tsvector))"
            ),
            [{**row, "tsv": tokens.tsvector(row["text"])} for row in rows],
        )


def rebuild(conn: Connection) -> int:
    """Build the whole index again; return the number of items indexed."""
    if conn.dialect.name == "sqlite":
        conn.execute(sa.text("DELETE FROM search_fts"))
    conn.execute(sa.delete(_documents))
    ids = conn.execute(sa.select(_items.c.id).order_by(_items.c.id)).scalars().all()
    reindex(conn, ids)
    return len(ids)


def _changed(obj, names) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _item_ids_of(obj) -> set[int]:
    """The item (and, when it moved, the former item) whose documents `obj` is in."""
    state = sa.inspect(obj)
    if obj.__table__.name == "items":
        return {obj.id}
    ids = {obj.item_id}
    ids.update(state.attrs.item_id.history.deleted or ())
    return {i for i in ids if i is not None}


@sa.event.listens_for(so.Session, "after_flush")
def _rewrite_changed_items(session: so.Session, _context) -> None:
    touched: set[int] = set()
    for obj in (*session.new, *session.deleted):
        if getattr(obj, "__table__", None) is not None and obj.__table__.name in WATCHED:
            touched |= _item_ids_of(obj)
    for obj in session.dirty:
        table = getattr(obj, "__table__", None)
        if table is not None and table.name in WATCHED and _changed(obj, WATCHED[table.name]):
            touched |= _item_ids_of(obj)
    if touched:
        reindex(session.connection(), touched)
