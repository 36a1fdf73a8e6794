"""Version lists, field-by-field diffs and revert."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.core.loading import load
from portal.core.pages import flash_errors
from portal.core.policy import can
from portal.core.security import INTERNAL, roles_required
from portal.inspections.models import Measure, RectificationItem
from portal.versions.display import document_name, shown_diff
from portal.versions.forms import RevertForm
from portal.versions.operations import MODELS, latest_number, revert_to, versions_of

bp = Blueprint("versions", __name__, url_prefix="/versions")


@bp.app_template_global()
def version_badge(obj) -> int:
    """The number of the document's current version, as its version history counts them."""
    return latest_number(obj)


def _object(kind: str, object_id: int, permission: str = "view"):
    model = MODELS.get(kind) or abort(404)
    return load(model, object_id, permission)


def back_url(obj) -> str:
    if isinstance(obj, RectificationItem):
        return url_for("inspections.item", item_id=obj.id)
    if isinstance(obj, Measure):
        return url_for("inspections.item", item_id=obj.item_id)
    inspection_id = getattr(obj, "inspection_id", None) or obj.id
    return url_for("inspections.inspection", inspection_id=inspection_id)


@bp.route("/<kind>/<int:object_id>")
@roles_required(*INTERNAL)
def history(kind: str, object_id: int):
    obj = _object(kind, object_id)
    versions = versions_of(obj)
    numbers = [v.number for v in versions]
    a = request.args.get("a", type=int) or (numbers[-2] if len(numbers) > 1 else None)
    b = request.args.get("b", type=int) or (numbers[-1] if numbers else None)
    by_number = {v.number: v for v in versions}
    if (a is not None and a not in by_number) or (b is not None and b not in by_number):
        abort(404)
    fields = shown_diff(kind, by_number[a].data, by_number[b].data) if a and b else []
    return render_template(
        "versions/history.html",
        obj=obj,
        kind=kind,
        name=document_name(obj),
        versions=versions,
        a=a,
        b=b,
        fields=fields,
        back=back_url(obj),
        can_revert=_can_edit(obj),
        revert_form=RevertForm(formdata=None),
    )


def _can_edit(obj) -> bool:
    return can(current_user, "edit", obj)


@bp.route("/<kind>/<int:object_id>/<int:number>/revert", methods=["POST"])
@roles_required(*INTERNAL)
def revert(kind: str, object_id: int, number: int):
    obj = _object(kind, object_id, "edit")
    form = RevertForm()
    if not form.validate_on_submit():  # a change note that cannot be kept: say why, revert nothing
        flash_errors(form)
        return redirect(url_for("versions.history", kind=kind, object_id=object_id))
    changes = revert_to(
        Actor.of(current_user), obj, number, form.change_note.data or _("Reverted to version %(n)d", n=number)
    )
    db.session.commit()
    if changes:
        flash(
            _(
                "“%(name)s” now has the content of version %(n)d again, saved as version %(m)d.",
                name=document_name(obj),
                n=number,
                m=latest_number(obj),
            ),
            "success",
        )
    else:
        flash(
            _(
                "Version %(n)d of “%(name)s” is the same as the current one; nothing was changed.",
                n=number,
                name=document_name(obj),
            ),
            "info",
        )
    return redirect(url_for("versions.history", kind=kind, object_id=object_id))
