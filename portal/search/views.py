"""The search pages (全文检索): `/search` for the office, `/public/search` for the public, and
saving and removing a search (Plone's Collections).

Both pages take everything from the URL (a GET form), so a search can be bookmarked, shared and
saved; what cannot be used is said above the results and left out, and the box keeps what was
typed. The results are one page at a time by keyset (`after`).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.core.handlers import keep_input
from portal.core.http_cache import private_page, public_page
from portal.core.security import INTERNAL, has_role, roles_required, safe_next
from portal.core.timeutil import today
from portal.search import (
    index,  # noqa: F401  (keeps the index: its flush listener)
    query,
)
from portal.search.forms import RemoveSavedSearchForm, SaveSearchForm
from portal.search.messages import FACET_TITLES, KIND_TITLES, SORT_TITLES, problem_message
from portal.search.operations import remove_saved_search, save_search, saved_of
from portal.supervision.levels import BY_ID as LEVELS
from portal.supervision.levels import item_levels

bp = Blueprint("search", __name__)


@bp.app_context_processor
def _search_box():
    def search_action() -> str:
        """Where the header's search box searches: the office's search for internal users."""
        return url_for("search.search") if has_role(*INTERNAL) else url_for("search.public_search")

    return {"search_action": search_action}


@bp.route("/search")
@roles_required(*INTERNAL)
@private_page
def search():
    return render_search(request.args, current_user)


@bp.route("/public/search")
@public_page
def public_search():
    return render_search(request.args, None)


def render_search(args, user, save_form: SaveSearchForm | None = None, status: int = 200):
    """The search page for `args` as `user` sees it (None: the public)."""
    public = user is None
    search, terms, problems = query.parse_args(args, public=public)
    messages = [problem_message(p) for p in problems]
    day = today()
    facets = query.PUBLIC_FACETS if public else query.FACETS
    after = (args.get("after") or "").strip() or None
    try:
        found = query.results(search, terms, user, day, after=after, facets=facets)
    except ValueError:
        messages.append(_("That page of results is no longer there: here is the first page."))
        after = None
        found = query.results(search, terms, user, day, facets=facets)
    saved = []
    if not public:
        saved = saved_of(user)
        if save_form is None:
            save_form = SaveSearchForm(formdata=None, query=urlencode(sorted(search.args().items())))
    return render_template(
        "search/search.html",
        public=public,
        search=search,
        terms=terms,
        found=found,
        after=after,
        messages=messages,
        facets=facets,
        labels=query.facet_labels(found.facets),
        levels=item_levels([hit.item for hit in found.hits], day),
        level_of=LEVELS,
        saved=saved,
        save_form=save_form,
        remove_form=RemoveSavedSearchForm(formdata=None),
        facet_titles=FACET_TITLES,
        kind_titles=KIND_TITLES,
        sort_titles=SORT_TITLES,
        endpoint="search.public_search" if public else "search.search",
    ), status


@bp.route("/search/saved", methods=["POST"])
@roles_required(*INTERNAL)
def save():
    form = SaveSearchForm()
    args = MultiDict(parse_qsl(form.query.data or ""))

    def refused(exc):
        """The search page again, with the name typed and what is wrong with it."""
        form.name.errors = [*form.name.errors, exc.message]
        return render_search(args, current_user, save_form=form, status=exc.status)

    keep_input(refused)
    if not form.validate_on_submit():
        return render_search(args, current_user, save_form=form, status=400)
    search, _terms, _problems = query.parse_args(args)
    saved = save_search(Actor.of(current_user), current_user, form.name.data, search)
    db.session.commit()
    flash(
        _("Search saved as “%(name)s”: your home page shows it with its count.", name=saved.name), "success"
    )
    return redirect(url_for("search.search", **search.args()))


@bp.route("/search/saved/<int:saved_id>/delete", methods=["POST"])
@roles_required(*INTERNAL)
def remove(saved_id: int):
    form = RemoveSavedSearchForm()
    if not form.validate_on_submit():
        abort(400)
    name = remove_saved_search(Actor.of(current_user), current_user, saved_id)
    db.session.commit()
    flash(_("Saved search “%(name)s” removed.", name=name), "success")
    return redirect(safe_next(request.form.get("next"), url_for("search.search")))
