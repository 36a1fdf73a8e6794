"""Item transitions, the declared worklists' pages and the workflow diagrams."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from portal.audit.chain import Actor
from portal.core import worklists
from portal.core.extensions import db
from portal.core.handlers import keep_input
from portal.core.http_cache import private_page
from portal.core.loading import load
from portal.core.policy import workflow_defining
from portal.core.security import INTERNAL, roles_required
from portal.core.timeutil import today
from portal.core.titles import (
    PERMISSION_LABELS,
    condition_label,
    listed,
    permission_label,
    roles_text,
    title_of,
    transition_title,
)
from portal.core.transitions import fire
from portal.inspections.item_page import render_item
from portal.inspections.models import RectificationItem
from portal.supervision.levels import item_levels
from portal.workflow.diagram import render_svg
from portal.workflow.forms import TransitionForm
from portal.workflow.recent import worklist_notes
from workflows import WORKFLOWS

bp = Blueprint("workflow", __name__)


@bp.route("/items/<int:item_id>/transitions/<transition_id>", methods=["POST"])
@roles_required(*INTERNAL)
def transition(item_id: int, transition_id: str):
    item = load(RectificationItem, item_id)
    form = TransitionForm()

    def refused(exc):
        """The item page again, with the comment typed and what is missing or wrong."""
        form.show_refusal(exc)
        return render_item(item, form, failed=transition_id, status=exc.status)

    keep_input(refused)
    if not form.validate_on_submit():
        return render_item(item, form, failed=transition_id, status=400)
    steps = fire(
        Actor.of(current_user),
        item,
        transition_id,
        comment=form.comment.data,
        expected_version=form.expected_version(),
    )
    db.session.commit()
    flash(done_message(item, steps), "success")
    return redirect(url_for("inspections.item", item_id=item.id))


def done_message(item: RectificationItem, steps) -> str:
    """What happened, as a sentence: the step taken, the automatic ones it led to, the state."""
    first, *automatic = steps
    last = steps[-1]
    workflow = workflow_defining(type(item), last.transition.id)
    values = {
        "title": item.title,
        "action": transition_title(first.transition),
        "state": title_of(workflow.state(last.to_state)),
    }
    if automatic:
        return _(
            "“%(action)s” done for the item “%(title)s”, and then automatically “%(automatic)s”; "
            "it is now “%(state)s”.",
            automatic=listed(transition_title(s.transition) for s in automatic),
            **values,
        )
    return _("“%(action)s” done for the item “%(title)s”; it is now “%(state)s”.", **values)


@bp.route("/worklists/<name>")
@roles_required(*INTERNAL)
@private_page
def worklist(name: str):
    """Every declared worklist has this page (or, for other content, its own) and a count."""
    declared = worklists.declared().get(name) or abort(404)
    own_page = getattr(declared.model, "__worklist_page__", None)
    if own_page:
        return redirect(url_for(own_page, state=declared.worklist.states[0]))
    day = today()
    page = worklists.page(name, current_user, day, request.args.get("page", 1, type=int))
    return render_template(
        getattr(declared.model, "__worklist_template__", "workflow/worklist.html"),
        name=name,
        worklist=declared.worklist,
        page=page,
        levels=item_levels(page.items, day) if declared.model is RectificationItem else {},
        notes=worklist_notes(name, page.items, day) if declared.model is RectificationItem else {},
    )


@bp.route("/workflows/")
@roles_required(*INTERNAL)
def workflows():
    lang = str(get_locale())
    # render_svg escapes every label, so its output is safe to inline.
    diagrams = {
        wf_id: Markup(render_svg(wf, lang))  # noqa: S704
        for wf_id, wf in WORKFLOWS.items()
    }
    return render_template(
        "workflow/workflows.html",
        workflows=WORKFLOWS.values(),
        diagrams=diagrams,
        who_may=who_may,
        permission_columns=permission_columns,
        state_names=state_names,
        worklist_text=worklist_text,
    )


def permission_columns(wf) -> list[str]:
    """The workflow's permissions in the order a reader follows them (view, edit, work …)."""
    order = list(PERMISSION_LABELS)
    return sorted(wf.permissions, key=lambda p: (order.index(p) if p in order else len(order), p))


def state_names(wf, state_ids) -> str:
    return listed(title_of(wf.state(s)) for s in state_ids)


def _conditions(guard, joined: bool = False) -> str:
    """The guard's conditions as clauses (甲；乙), or `joined` inside a sentence (甲、且乙)."""
    labels = [condition_label(c) for c in guard.conditions]
    if not joined:
        return listed(labels, clauses=True)
    text = str(labels[0]) if labels else ""
    for label in labels[1:]:
        text = _("%(first)s and %(then)s", first=text, then=label)
    return text


def who_may(wf, t) -> list[tuple[str, str]]:
    """The transition's guard in words, one (part, sentence) per line.

    The guard holds when the user has any of its permissions in the source state, any of its
    roles, and every condition.
    """
    guard, lines = t.guard, []
    if t.automatic:
        lines.append(("automatic", _("The system takes this step by itself.")))
    if guard.permissions:
        holders = {r for s in t.sources for p in guard.permissions for r in wf.state(s).roles_with(p)}
        lines.append(
            (
                "permissions",
                _(
                    "Whoever may “%(permission)s” there: %(roles)s.",
                    permission=listed((permission_label(p) for p in guard.permissions), alternatives=True),
                    roles=roles_text(holders) or "—",
                ),
            )
        )
    if guard.roles:
        lines.append(
            ("roles", _("They must also be: %(roles)s.", roles=roles_text(guard.roles, alternatives=True)))
        )
    if guard.conditions:
        lines.append(("conditions", _("Only when %(conditions)s.", conditions=_conditions(guard))))
    return lines


def worklist_text(wf, w) -> str:
    """A worklist in words: which states it gathers, under which conditions."""
    title, states = title_of(w), state_names(wf, w.states)
    if w.guard.conditions:
        return _(
            "%(title)s: documents in %(states)s when %(conditions)s.",
            title=title,
            states=states,
            conditions=_conditions(w.guard, joined=True),
        )
    return _("%(title)s: documents in %(states)s.", title=title, states=states)
