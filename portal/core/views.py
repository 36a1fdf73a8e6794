"""Home page and language switch."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField

from portal.security import safe_next
from portal.timeutil import today

bp = Blueprint("core", __name__)


class LanguageForm(FlaskForm):
    lang = HiddenField()
    next = HiddenField()


WORKLISTS = ("awaiting_review", "my_items", "overdue", "due_soon")


@bp.route("/")
def home():
    lists = {}
    if current_user.is_authenticated:
        from portal.workflow import worklists

        day = today()
        lists = {
            "awaiting_review": worklists.awaiting_my_review(current_user, per_page=5),
            "my_items": worklists.my_items(current_user, per_page=5),
            "overdue": worklists.overdue(current_user, day, per_page=5),
            "due_soon": worklists.due_within(current_user, 7, day, per_page=5),
        }
        if current_user.has_role("office", "leader"):
            lists["not_fixed"] = worklists.reported_not_fixed(current_user, per_page=5)
    return render_template("home.html", lists=lists)


@bp.route("/language", methods=["POST"])
def set_language():
    form = LanguageForm()
    if not form.validate_on_submit() or form.lang.data not in current_app.config["LANGUAGES"]:
        abort(400)
    session["lang"] = form.lang.data
    session.permanent = True
    return redirect(safe_next(form.next.data, url_for("core.home")))


def language_form() -> LanguageForm:
    """A language switch form for the current page, used by the base template."""
    path = request.full_path if request.query_string else request.path
    return LanguageForm(formdata=None, next=path)
