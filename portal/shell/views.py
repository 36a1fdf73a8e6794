"""Home page (the user's worklists) and language switch."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField

from portal.core import worklists
from portal.core.http_cache import private_page
from portal.core.security import safe_next
from portal.core.timeutil import today
from portal.inspections.models import RectificationItem
from portal.search.operations import saved_worklists
from portal.supervision.levels import item_levels
from portal.workflow.recent import worklist_notes

bp = Blueprint("shell", __name__)


class LanguageForm(FlaskForm):
    lang = HiddenField()
    next = HiddenField()


#: Worklists the home page always shows for the roles they are for, even when empty.
ALWAYS_SHOWN = {
    "awaiting_review": ("leader",),
    "my_items": ("staff", "leader"),
    "extensions_to_decide": ("leader", "office"),
}


@bp.route("/")
@private_page
def home():
    """The signed-in user's worklists of items (the first rows of each), then the menu."""
    lists, levels, notes, saved = {}, {}, {}, []
    if current_user.is_authenticated:
        day = today()
        for name, declared in worklists.declared().items():
            if getattr(declared.model, "__worklist_page__", None):
                continue  # shown on its own page (the moderation queue)
            page = worklists.page(name, current_user, day, per_page=5)
            if page.total or current_user.has_role(*ALWAYS_SHOWN.get(name, ())):
                lists[name] = (declared.worklist, page)
        saved = saved_worklists(current_user, day)
        shown = [i for _, page in lists.values() for i in page.items if isinstance(i, RectificationItem)]
        shown += [item for _s, _n, items in saved for item in items]
        levels = item_levels(shown, day)  # one statement for every card
        notes = {name: worklist_notes(name, page.items, day) for name, (_w, page) in lists.items()}
    return render_template("home.html", lists=lists, levels=levels, notes=notes, saved_searches=saved)


@bp.route("/language", methods=["POST"])
def set_language():
    form = LanguageForm()
    if not form.validate_on_submit() or form.lang.data not in current_app.config["LANGUAGES"]:
        abort(400)
    session["lang"] = form.lang.data
    session.permanent = True
    return redirect(safe_next(form.next.data, url_for("shell.home")))


def language_form() -> LanguageForm:
    """A language switch form for the current page, used by the base template."""
    path = request.full_path if request.query_string else request.path
    return LanguageForm(formdata=None, next=path)
