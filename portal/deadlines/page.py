"""The deadline section of the item page: history, open requests and what the user may do."""

from __future__ import annotations

from portal.core.policy import allowed_transitions, can
from portal.deadlines.forms import ExtensionRequestForm
from portal.deadlines.history import deadline_history
from portal.workflow.forms import TransitionForm


def extension_panel(item, user, form=None, decision_form=None, failed=None) -> dict:
    """What templates/deadlines/_item_section.html shows.

    `form`: the filing form as posted (kept when refused); `decision_form` and `failed`
    ((request id, transition id)): a refused decision, shown with its comment.
    """
    history = deadline_history(item)
    offered = {
        record.request.id: allowed_transitions(user, record.request)
        for record in history.requests
        if record.request.is_open
    }
    return {
        "history": history,
        "offered": offered,
        "can_request": can(user, "request_extension", item),
        "form": form or ExtensionRequestForm(formdata=None, version=item.version),
        "decision_form": decision_form or TransitionForm(formdata=None),
        "failed": failed,
    }
