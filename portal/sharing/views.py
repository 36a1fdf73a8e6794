"""The Sharing tab of an inspection, category or item."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField

from portal.accounts.models import Department, User
from portal.audit.chain import Actor
from portal.core.errors import OperationError
from portal.core.extensions import db
from portal.core.forms import choices
from portal.core.loading import load
from portal.core.models import LocalRole
from portal.core.pages import attempt
from portal.core.policy import can, grant_scope
from portal.core.security import INTERNAL, roles_required
from portal.core.titles import ROLE_LABELS, person_labels
from portal.inspections.models import APPROVAL_DUAL, Inspection, RectificationItem
from portal.sharing.operations import (
    MODELS,
    grantable_roles,
    grants_on,
    may_block,
    may_revoke,
    revoke,
    set_inheritance_blocked,
    share,
)
from workflows.roles import LOCAL_ROLES

bp = Blueprint("sharing", __name__, url_prefix="/sharing")


class GrantForm(FlaskForm):
    principal = SelectField(_l("User or department"))
    role = SelectField(_l("Role"))


class BlockForm(FlaskForm):
    blocked = BooleanField(_l("Do not inherit roles granted above"))


def _load(kind: str, object_id: int, permission: str = "view"):
    model = MODELS.get(kind) or abort(404)
    return load(model, object_id, permission)


def _ancestors(obj) -> list:
    """Objects whose grants reach `obj`, nearest first (respecting blocks): the policy's scope."""
    return [db.session.get(MODELS[kind], object_id) for kind, object_id in grant_scope(obj)[1:]]


def _derived(obj) -> list[tuple[str, str, str]]:
    """(who, role, why) rows that follow from fields, shown for completeness."""
    rows = []
    inspection = obj if isinstance(obj, Inspection) else obj.inspection
    if inspection.approval_policy == APPROVAL_DUAL and inspection.party_secretary:
        rows.append((inspection.party_secretary.display_name, "Reviewer", _("party secretary")))
    if isinstance(obj, RectificationItem):
        if obj.staff:
            rows.append((obj.staff.display_name, "Editor", _("responsible staff")))
        if obj.responsible_leader:
            rows.append((obj.responsible_leader.display_name, "Reviewer", _("responsible leader")))
    return rows


def _grant_form(obj) -> GrantForm:
    form = GrantForm()
    users = db.session.scalars(sa.select(User).where(User.active.is_(True)).order_by(User.display_name)).all()
    departments = db.session.scalars(sa.select(Department).order_by(Department.name)).all()
    form.principal.choices = choices(
        [(f"u:{user_id}", label) for user_id, label in person_labels(users).items()]
        + [(f"d:{d.id}", _("Department: %(name)s", name=d.name)) for d in departments]
    )
    # Every local role validates, so that a role one does not hold gets the operation's clear
    # message; the page offers only the grantable ones.
    form.role.choices = choices([(r, ROLE_LABELS[r]) for r in LOCAL_ROLES])
    return form


@bp.route("/<kind>/<int:object_id>", methods=["GET", "POST"])
@roles_required(*INTERNAL)
def page(kind: str, object_id: int):
    # Auditors read every object's sharing (who could see and do what); they change nothing.
    reading = request.method == "GET" and current_user.has_role("auditor")
    obj = _load(kind, object_id, "view" if reading else "share")
    form = _grant_form(obj)
    if form.validate_on_submit():
        prefix, _sep, raw_id = form.principal.data.partition(":")
        principal = db.session.get(User if prefix == "u" else Department, int(raw_id))
        try:
            share(
                Actor.of(current_user),
                obj,
                form.role.data,
                **({"user": principal} if prefix == "u" else {"department": principal}),
            )
            db.session.commit()
        except OperationError as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
        else:
            flash(
                _(
                    "%(who)s now holds the role “%(role)s” on “%(title)s”.",
                    who=principal.display_name if prefix == "u" else principal.name,
                    role=ROLE_LABELS[form.role.data],
                    title=obj.title,
                ),
                "success",
            )
            return redirect(url_for("sharing.page", kind=kind, object_id=object_id))
    inherited = [(ancestor, grants_on(ancestor)) for ancestor in _ancestors(obj)]
    return render_template(
        "sharing/page.html",
        obj=obj,
        kind=kind,
        form=form,
        grantable=grantable_roles(current_user, obj),
        can_manage=can(current_user, "share", obj),
        can_block=may_block(current_user, obj),
        revocable={g.id for g in grants_on(obj) if may_revoke(current_user, obj, g)},
        grants=grants_on(obj),
        inherited=inherited,
        derived=_derived(obj),
        block_form=BlockForm(formdata=None, blocked=getattr(obj, "local_roles_blocked", False)),
        role_labels=ROLE_LABELS,
        revoke_form=FlaskForm(formdata=None),
    )


@bp.route("/grants/<int:grant_id>/revoke", methods=["POST"])
@roles_required(*INTERNAL)
def revoke_grant(grant_id: int):
    grant = db.session.get(LocalRole, grant_id) or abort(404)
    obj = _load(grant.object_type, grant.object_id, "share")
    if not FlaskForm().validate_on_submit():
        abort(400)
    attempt(
        lambda: revoke(Actor.of(current_user), obj, grant),
        _(
            "%(who)s no longer holds the role “%(role)s” on “%(title)s”.",
            who=grant.user.display_name if grant.user else grant.department.name,
            role=ROLE_LABELS[grant.role],
            title=obj.title,
        ),
        "info",
    )
    return redirect(url_for("sharing.page", kind=grant.object_type, object_id=grant.object_id))


@bp.route("/<kind>/<int:object_id>/inheritance", methods=["POST"])
@roles_required(*INTERNAL)
def inheritance(kind: str, object_id: int):
    obj = _load(kind, object_id, "share")
    if kind == "inspection":
        abort(404)  # nothing above an inspection to inherit from
    form = BlockForm()
    if not form.validate_on_submit():
        abort(400)
    attempt(
        lambda: set_inheritance_blocked(Actor.of(current_user), obj, bool(form.blocked.data)),
        _("“%(title)s” no longer inherits the roles granted above it.", title=obj.title)
        if form.blocked.data
        else _("“%(title)s” inherits the roles granted above it again.", title=obj.title),
    )
    return redirect(url_for("sharing.page", kind=kind, object_id=object_id))
