"""The notification list, reading notifications, the e-mail preference and the chase form."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.core.handlers import keep_input
from portal.core.loading import load
from portal.core.pages import attempt, flash_errors
from portal.core.security import roles_required
from portal.inspections.item_page import render_item
from portal.inspections.models import RectificationItem
from portal.notifications import triggers  # noqa: F401  (registers the workflow step listener)
from portal.notifications.forms import ChaseForm, EmailPreferenceForm, MarkReadForm
from portal.notifications.kinds import KINDS, kind_label, quote_of, render_message
from portal.notifications.models import Notification
from portal.notifications.operations import (
    chase_item,
    mark_all_read,
    mark_read,
    set_email_preference,
    unread_count,
)

bp = Blueprint("notifications", __name__)

PAGE_SIZE = 20


def _own(notification_id: int) -> Notification:
    """One of the current user's notifications; anyone else's is not found (404)."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != current_user.id:
        abort(404)
    return notification


def _page() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


@bp.route("/notifications")
@login_required
def index():
    page = _page()
    mine = Notification.user_id == current_user.id
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(mine))
    rows = db.session.scalars(
        sa.select(Notification)
        .where(mine)
        .order_by(Notification.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return render_template(
        "notifications/index.html",
        rows=[
            {
                "n": n,
                "label": kind_label(n.kind),
                "message": render_message(n.kind, n.params),
                "quote": quote_of(n.kind, n.params),
                "actor": n.params.get("actor") or "",
            }
            for n in rows
        ],
        page=page,
        pages=pages,
        total=total,
        unread=unread_count(current_user),
        form=MarkReadForm(formdata=None),
    )


def _back():
    return redirect(url_for("notifications.index", page=request.args.get("page", type=int) or None))


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def read(notification_id: int):
    notification = _own(notification_id)
    if MarkReadForm().validate_on_submit():
        attempt(
            lambda: mark_read(Actor.of(current_user), notification), _("The notification is marked read.")
        )
    return _back()


@bp.route("/notifications/<int:notification_id>/open", methods=["POST"])
@login_required
def open_item(notification_id: int):
    """Mark the notification read and go to what it is about."""
    notification = _own(notification_id)
    if not MarkReadForm().validate_on_submit():
        return _back()
    mark_read(Actor.of(current_user), notification)
    db.session.commit()
    if notification.item_id is None:
        return _back()
    kind = KINDS.get(notification.kind)
    anchor = f"#{kind.anchor}" if kind and kind.anchor else ""
    return redirect(url_for("inspections.item", item_id=notification.item_id) + anchor)


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def read_all():
    if MarkReadForm().validate_on_submit():
        count = mark_all_read(Actor.of(current_user))
        db.session.commit()
        if count:
            flash(_("%(n)d notification(s) marked read.", n=count), "success")
        else:
            flash(_("There were no unread notifications."), "info")
    return _back()


@bp.route("/account/notifications", methods=["POST"])
@login_required
def email_preference():
    form = EmailPreferenceForm()
    if form.validate_on_submit():
        wanted = form.email_notifications.data
        attempt(
            lambda: set_email_preference(Actor.of(current_user), current_user, wanted),
            _("Notifications will also be sent to you by e-mail.")
            if wanted
            else _("Notifications will no longer be sent to you by e-mail."),
        )
    else:
        flash_errors(form)
    return redirect(url_for("accounts.account") + "#notification-preference")


@bp.route("/items/<int:item_id>/chase", methods=["POST"])
@roles_required("office", "leader")
def chase(item_id: int):
    item = load(RectificationItem, item_id)
    form = ChaseForm()
    keep_input(lambda exc: _refused_chase(item, form, exc))
    if not form.validate_on_submit():
        flash_errors(form)
        return render_item(item, chase_form=form, status=400)
    chase_item(Actor.of(current_user), item, form.text.data)
    db.session.commit()
    flash(_("The chase (催办) has been sent on the item “%(title)s”.", title=item.title), "success")
    return redirect(url_for("inspections.item", item_id=item.id) + "#timeline")


def _refused_chase(item, form, exc):
    db.session.rollback()
    flash(exc.message, "danger")
    return render_item(item, chase_form=form, status=exc.status)
