"""Searching: a query and facets in, a page of items with snippets and facet counts out.

The items found are those the searcher may view (the policy's generated filter, as the
worklists use: `visible`, or for the public `view_public`), each of whose terms is found in one
of the item's documents the searcher may read: a signed-in user reads every document of an
item they may view, except feedback, which they read when they may view that feedback; the
public reads what the public item page shows (title, public summary, measures, public evidence)
and published feedback. Everything is one SQL statement per figure; the index is matched by
FTS5 on SQLite and by a GIN-indexed tsvector on PostgreSQL (portal.search.tokens).

Pages go by keyset (`after`: the last row's sort key), never by offset.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR

from portal.accounts.models import Department, User
from portal.core.extensions import db
from portal.core.filters import all_of, permitted, visible
from portal.core.policy import ANONYMOUS
from portal.feedback.models import Feedback
from portal.inspections.models import Inspection, RectificationItem
from portal.search import tokens
from portal.search.models import KINDS, SearchDocument
from portal.supervision.levels import BY_ID as LEVELS
from portal.supervision.levels import level_expression
from workflows import RECTIFICATION

Item = RectificationItem
Doc = SearchDocument

SORTS = ("deadline", "newest", "oldest")
#: the facets, in the order the page shows them; the public side has only the first three
FACETS = ("inspection", "state", "department", "level", "leader", "staff")
PUBLIC_FACETS = ("inspection", "state", "department")
#: values shown per facet (the most frequent first)
FACET_VALUES = 12
PER_PAGE = 20


@dataclass(frozen=True)
class Search:
    """What is searched for: the words and the narrowing, as a URL carries them."""

    q: str = ""
    inspection: int | None = None
    state: str | None = None
    department: int | None = None
    level: str | None = None
    leader: int | None = None
    staff: int | None = None
    due_from: date | None = None
    due_to: date | None = None
    sort: str = "deadline"

    def args(self, **changes) -> dict[str, str]:
        """The search as URL parameters (empty ones left out), with `changes` made."""
        chosen = replace(self, **changes) if changes else self
        found = {}
        for name in ("q", *FACETS, "due_from", "due_to", "sort"):
            value = getattr(chosen, name)
            if value in (None, "") or (name == "sort" and value == "deadline"):
                continue
            found[name] = value.isoformat() if isinstance(value, date) else str(value)
        return found

    @property
    def narrowed(self) -> bool:
        return any(getattr(self, name) is not None for name in (*FACETS, "due_from", "due_to"))


@dataclass(frozen=True)
class Problem:
    """A parameter that could not be used: which, and why (the views say it in words)."""

    name: str
    kind: str
    args: dict = field(default_factory=dict)


def parse_args(args, public: bool = False) -> tuple[Search, list[tokens.Term], list[Problem]]:
    """The search a request's parameters ask for; what cannot be used is left out and said."""
    problems: list[Problem] = []
    values: dict = {
        "q": " ".join((args.get("q") or "").split())[: 2 * tokens.MAX_TERMS * tokens.MAX_TERM_LENGTH]
    }
    allowed = PUBLIC_FACETS if public else FACETS
    for name in ("inspection", "department", "leader", "staff"):
        raw = (args.get(name) or "").strip()
        if raw and name in allowed:
            if raw.isascii() and raw.isdigit() and int(raw) < 2**31:
                values[name] = int(raw)
            else:
                problems.append(Problem(name, "not_a_number"))
    state = (args.get("state") or "").strip()
    if state:
        if state in {s.id for s in RECTIFICATION.states}:
            values["state"] = state
        else:
            problems.append(Problem("state", "unknown"))
    level = (args.get("level") or "").strip()
    if level and "level" in allowed:
        if level in LEVELS:
            values["level"] = level
        else:
            problems.append(Problem("level", "unknown"))
    for name in ("due_from", "due_to"):
        raw = (args.get(name) or "").strip()
        if raw:
            try:
                values[name] = date.fromisoformat(raw)
            except ValueError:
                problems.append(Problem(name, "not_a_date"))
    sort = (args.get("sort") or "deadline").strip()
    values["sort"] = sort if sort in SORTS else "deadline"
    if sort not in SORTS:
        problems.append(Problem("sort", "unknown"))
    search = Search(**values)
    if search.due_from and search.due_to and search.due_from > search.due_to:
        problems.append(Problem("due_to", "before_from"))
        search = replace(search, due_to=None)
    try:
        terms = tokens.parse(search.q)
    except tokens.QueryProblem as exc:
        problems.append(Problem("q", exc.kind, exc.args_))
        terms = []
    return search, terms, problems


# --- the SQL -----------------------------------------------------------------------------------


_fts = sa.table("search_fts", sa.column("rowid", sa.Integer), sa.column("tokens", sa.Text))
#: (a literal column: the models do not know it, and a table construct would add a FROM)
_tsv = sa.literal_column("search_documents.tsv", TSVECTOR)


def _match(term: tokens.Term) -> sa.ColumnElement[bool]:
    """SQL on search_documents: the document holds every phrase of `term`."""
    if db.session.get_bind().dialect.name == "sqlite":
        expression = " AND ".join(tokens.fts5_match(p) for p in term.phrases)
        return Doc.id.in_(sa.select(_fts.c.rowid).where(_fts.c.tokens.op("MATCH")(expression)))
    expression = " & ".join(f"({tokens.tsquery(p)})" for p in term.phrases)
    return _tsv.op("@@")(sa.cast(expression, TSQUERY))


def _readable(user) -> sa.ColumnElement[bool]:
    """SQL on search_documents: documents the searcher may read, on an item they may view."""
    if user is None:
        feedback = sa.select(Feedback.id).where(permitted(ANONYMOUS, Feedback, "view"))
        return sa.or_(Doc.public, sa.and_(Doc.kind == "feedback", Doc.source_id.in_(feedback)))
    feedback = sa.select(Feedback.id).where(visible(user, Feedback))
    return sa.or_(Doc.kind != "feedback", Doc.source_id.in_(feedback))


def items_viewable(user) -> sa.ColumnElement[bool]:
    """SQL on items: the searcher may view the item (None: the public, published items only)."""
    if user is None:
        return permitted(ANONYMOUS, Item, "view_public")
    return visible(user, Item)


def _facet_column(name: str, today: date):
    return {
        "inspection": Item.inspection_id,
        "state": Item.state,
        "department": Item.department_id,
        "level": level_expression(Item, today),
        "leader": Item.responsible_leader_id,
        "staff": Item.staff_id,
    }[name]


def condition(search: Search, terms: list[tokens.Term], user, today: date, without: str | None = None):
    """SQL on items: what `search` finds for `user` (the facet `without` left open)."""
    readable = _readable(user)
    parts = [items_viewable(user)]
    for term in terms:
        parts.append(Item.id.in_(sa.select(Doc.item_id).where(_match(term), readable)))
    for name in FACETS:
        value = getattr(search, name)
        if value is not None and name != without:
            parts.append(_facet_column(name, today) == value)
    if search.due_from is not None:
        parts.append(Item.deadline >= search.due_from)
    if search.due_to is not None:
        parts.append(Item.deadline <= search.due_to)
    return all_of(*parts)


def _order(sort: str) -> list:
    if sort == "newest":
        return [Item.id.desc()]
    if sort == "oldest":
        return [Item.id]
    return [Item.deadline.is_(None), Item.deadline, Item.id]


def _after(sort: str, cursor: str) -> sa.ColumnElement[bool]:
    """SQL: rows after the one `cursor` names in this sort order. Raises ValueError."""
    if sort in ("newest", "oldest"):
        last = _row_id(cursor)
        return Item.id < last if sort == "newest" else Item.id > last
    raw_deadline, _, raw_id = cursor.partition("~")
    last = _row_id(raw_id)
    if not raw_deadline:
        return sa.and_(Item.deadline.is_(None), Item.id > last)
    deadline = date.fromisoformat(raw_deadline)
    return sa.or_(
        Item.deadline > deadline,
        sa.and_(Item.deadline == deadline, Item.id > last),
        Item.deadline.is_(None),
    )


def _row_id(text: str) -> int:
    """A row id from a cursor (what a database can compare with ids). Raises ValueError."""
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise ValueError(text)
    return int(text)


def cursor_of(sort: str, item: Item) -> str:
    if sort in ("newest", "oldest"):
        return str(item.id)
    return f"{item.deadline.isoformat() if item.deadline else ''}~{item.id}"


@dataclass
class Hit:
    item: Item
    #: (kind, pieces of a snippet: (text, marked)) for the documents that matched
    snippets: list[tuple[str, list[tuple[str, bool]]]]
    title: list[tuple[str, bool]]


@dataclass
class Results:
    hits: list[Hit]
    total: int
    #: the cursor of the next page, None on the last
    next_after: str | None
    facets: dict[str, list[tuple[object, int]]]


def first(search: Search, terms, user, today: date, n: int) -> list[Item]:
    """The first `n` items `search` finds for `user`, in its order."""
    select = sa.select(Item).where(condition(search, terms, user, today)).order_by(*_order(search.sort))
    return db.session.scalars(select.limit(n)).all()


def count(search: Search, terms, user, today: date) -> int:
    return db.session.scalar(sa.select(sa.func.count(Item.id)).where(condition(search, terms, user, today)))


def results(
    search: Search,
    terms: list[tokens.Term],
    user,
    today: date,
    after: str | None = None,
    per_page: int = PER_PAGE,
    facets: tuple[str, ...] = FACETS,
) -> Results:
    """One page of what `search` finds for `user` (None: the public), with facet counts.
    Raises ValueError for a cursor that is not one."""
    where = condition(search, terms, user, today)
    select = sa.select(Item).where(where).options(so.selectinload(Item.inspection))
    if after:
        select = select.where(_after(search.sort, after))
    rows = db.session.scalars(select.order_by(*_order(search.sort)).limit(per_page + 1)).all()
    more = len(rows) > per_page
    rows = rows[:per_page]
    total, counts = _counts(search, terms, user, today, facets)
    return Results(
        hits=_hits(rows, terms, user),
        total=total,
        next_after=cursor_of(search.sort, rows[-1]) if more else None,
        facets=counts,
    )


#: the facets whose values are ids (the others are state and level names)
_ID_FACETS = frozenset({"inspection", "department", "leader", "staff"})


def _counts(
    search: Search, terms, user, today: date, names
) -> tuple[int, dict[str, list[tuple[object, int]]]]:
    """The number found and each facet's (value, count) pairs over what the search finds with
    that facet left open, the most frequent first (a chosen value is always among them).

    One statement for the total and the facets not chosen (they share the search's condition:
    the rows found are read once, as a CTE, and grouped for each), and one more for each chosen
    facet (its counts leave it open)."""
    shared = [name for name in names if getattr(search, name) is None]
    found = _grouped(condition(search, terms, user, today), shared, today, with_total=True)
    for name in names:
        if name not in shared:
            found.update(_grouped(condition(search, terms, user, today, without=name), [name], today))
    counts = {}
    for name in names:
        pairs = sorted(found.get(name, {}).items(), key=lambda pair: (-pair[1], pair[0]))[:FACET_VALUES]
        chosen = getattr(search, name)
        if chosen is not None and all(value != chosen for value, _n in pairs):
            pairs.append((chosen, 0))
        counts[name] = pairs
    return found["total"][None], counts


def _grouped(where, names: list[str], today: date, with_total: bool = False) -> dict[str, dict]:
    """{facet: {value: count}} over the items `where` selects (and {"total": {None: n}})."""
    hits = sa.select(Item.id, *(_facet_column(n, today).label(n) for n in names)).where(where).cte("hits")
    parts = [
        sa.select(sa.literal(n).label("facet"), sa.cast(hits.c[n], sa.String).label("value"), sa.func.count())
        .where(hits.c[n].is_not(None))
        .group_by(hits.c[n])
        for n in names
    ]
    if with_total:
        parts.append(
            sa.select(sa.literal("total"), sa.cast(sa.null(), sa.String), sa.func.count()).select_from(hits)
        )
    found: dict[str, dict] = {n: {} for n in names}
    if not parts:
        return found
    for facet, value, n in db.session.execute(sa.union_all(*parts)):
        if facet == "total":
            found["total"] = {None: n}
        elif value != "none":  # the level of an item with no deadline level
            found[facet][int(value) if facet in _ID_FACETS else value] = n
    return found


def facet_labels(facets: dict[str, list[tuple[object, int]]]) -> dict[tuple[str, object], str]:
    """Names for the facets' ids: inspections' titles, departments' and people's names (one
    query each, for the values shown)."""
    labels: dict[tuple[str, object], str] = {}
    sources = {"inspection": (Inspection, Inspection.title), "department": (Department, Department.name)}
    for name, (model, title) in sources.items():
        ids = [v for v, _n in facets.get(name, ())]
        if ids:
            for i, text in db.session.execute(sa.select(model.id, title).where(model.id.in_(ids))):
                labels[name, i] = text
    people = {v for name in ("leader", "staff") for v, _n in facets.get(name, ())}
    if people:
        names = dict(
            db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(people))).all()
        )
        for name in ("leader", "staff"):
            for v, _n in facets.get(name, ()):
                labels[name, v] = names.get(v, "?")
    return labels


def _hits(rows: list[Item], terms: list[tokens.Term], user) -> list[Hit]:
    """The page's items with a snippet of each document kind that matched (one query)."""
    by_item: dict[int, dict[str, str]] = {item.id: {} for item in rows}
    if rows and terms:
        matched = _any_match(terms)
        documents = db.session.execute(
            sa.select(Doc.item_id, Doc.kind, Doc.text)
            .where(Doc.item_id.in_(list(by_item)), _readable(user), matched, Doc.kind != "title")
            .order_by(Doc.item_id, Doc.id)
        ).all()
        for item_id, kind, text in documents:
            by_item[item_id].setdefault(kind, text)
    hits = []
    for item in rows:
        found = by_item[item.id]
        snippets = [(kind, tokens.snippet(found[kind], terms)) for kind in KINDS if kind in found][:3]
        title = f"{item.number}. {item.title}" if item.number else item.title
        hits.append(Hit(item, snippets, _marked(title, terms)))
    return hits


def _any_match(terms: list[tokens.Term]) -> sa.ColumnElement[bool]:
    return sa.or_(*(_match(term) for term in terms))


def _marked(text: str, terms: list[tokens.Term]) -> list[tuple[str, bool]]:
    """The whole of `text` with the terms marked."""
    pieces, at = [], 0
    for start, end in tokens.marks(text, terms):
        if start > at:
            pieces.append((text[at:start], False))
        pieces.append((text[start:end], True))
        at = end
    if at < len(text):
        pieces.append((text[at:], False))
    return pieces
