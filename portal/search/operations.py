"""Saved searches (Plone's Collections): saving one, removing one, and their counts.

A saved search is the parameters of a search as its URL carries them; opening it runs the
search again, so it always lists what it finds now, through the same permission filter. Each
save and removal is an audited operation.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from portal.audit.chain import Actor, record_event, utcnow
from portal.core.cache import computed_once, data_head, request_memo
from portal.core.errors import NotFound, OperationError
from portal.core.extensions import db
from portal.search import query as search_query
from portal.search.models import MAX_SAVED, NAME_MAX_LENGTH, QUERY_MAX_LENGTH, SavedSearch


def saved_of(user) -> list[SavedSearch]:
    return db.session.scalars(
        sa.select(SavedSearch).where(SavedSearch.user_id == user.id).order_by(SavedSearch.id)
    ).all()


def search_of(saved: SavedSearch):
    """The saved search's Search and terms (parameters that no longer parse are left out)."""
    search, terms, _problems = search_query.parse_args(MultiDict(parse_qsl(saved.query)))
    return search, terms


def save_search(actor: Actor, user, name: str, search: search_query.Search) -> SavedSearch:
    """Keep `search` for `user` under `name`. Raises OperationError with the reason."""
    name = " ".join((name or "").split())
    if not name:
        raise OperationError(_("Give the search a name."))
    if len(name) > NAME_MAX_LENGTH:
        raise OperationError(_("The name may have at most %(n)d characters.", n=NAME_MAX_LENGTH))
    args = search.args()
    if not args or set(args) == {"sort"}:
        raise OperationError(_("Search for something or choose a filter before saving the search."))
    encoded = urlencode(sorted(args.items()))
    if len(encoded) > QUERY_MAX_LENGTH:
        raise OperationError(_("This search is too long to save."))
    mine = saved_of(user)
    if any(s.name == name for s in mine):
        raise OperationError(_("You already have a saved search named “%(name)s”.", name=name))
    if len(mine) >= MAX_SAVED:
        raise OperationError(_("You can keep at most %(n)d saved searches; remove one first.", n=MAX_SAVED))
    saved = SavedSearch(user_id=user.id, name=name, query=encoded, created_at=utcnow())
    db.session.add(saved)
    db.session.flush()
    record_event(actor, "search.saved", "saved_search", saved.id, {"name": name, "query": encoded})
    return saved


def remove_saved_search(actor: Actor, user, saved_id: int) -> str:
    """Remove one of `user`'s saved searches (another's is not found); return its name."""
    saved = db.session.get(SavedSearch, saved_id)
    if saved is None or saved.user_id != user.id:
        raise NotFound(_("No such saved search."))
    record_event(
        actor, "search.removed", "saved_search", saved.id, {"name": saved.name, "query": saved.query}
    )
    db.session.delete(saved)
    db.session.flush()
    return saved.name


def saved_count(saved: SavedSearch, user, today: date) -> int:
    """How many items the saved search finds for `user` now; kept with the figures for this
    state of the data, user and day (as the worklists' counts are)."""
    memo = request_memo()
    key = ("saved-search-count", saved.id, saved.query, user.id, today.isoformat())
    if memo is not None and key in memo:
        return memo[key]

    def compute() -> int:
        search, terms = search_of(saved)
        return search_query.count(search, terms, user, today)

    found = computed_once((*key, data_head().key), compute)
    if memo is not None:
        memo[key] = found
    return found


def saved_worklists(user, today: date, rows: int = 5) -> list[tuple[SavedSearch, int, list]]:
    """The user's saved searches as the home page shows them: each with its count and its
    first rows."""
    found = []
    for saved in saved_of(user):
        search, terms = search_of(saved)
        found.append(
            (saved, saved_count(saved, user, today), search_query.first(search, terms, user, today, rows))
        )
    return found
