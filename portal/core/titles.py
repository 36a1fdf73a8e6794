"""Names of states, transitions, workflows and roles in the user's language (Jinja globals).

Written once here; templates call `state_title(workflow_id, state_id)`,
`transition_title(transition)`, `action_title(workflow_id, transition_id)` and `role_label(role)`.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from workflows import WORKFLOWS

#: Global and local roles, as menus, forms and the Sharing tab name them.
ROLE_LABELS = {
    "admin": _l("Administrator"),
    "office": _l("Inspection office"),
    "leader": _l("Party group leader"),
    "staff": _l("Staff"),
    "auditor": _l("Auditor"),
    "Reader": _l("Reader"),
    "Editor": _l("Editor"),
    "Reviewer": _l("Reviewer"),
}


def _chinese() -> bool:
    return str(get_locale()).startswith("zh")


def title_of(thing) -> str:
    """A definition's title (workflow, state, transition, worklist) in the user's language."""
    return thing.title_zh if _chinese() else thing.title_en


def state_title(workflow_id: str, state_id: str) -> str:
    """The state's name; a stored value the workflow does not know is shown as "?"."""
    try:
        return title_of(WORKFLOWS[workflow_id].state(state_id))
    except KeyError:
        return "?"


def transition_title(transition) -> str:
    return title_of(transition)


def action_title(workflow_id: str, transition_id: str) -> str:
    try:
        return title_of(WORKFLOWS[workflow_id].transition(transition_id))
    except KeyError:
        return transition_id


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def register_titles(app: Flask) -> None:
    app.jinja_env.globals.update(
        state_title=state_title,
        transition_title=transition_title,
        action_title=action_title,
        role_label=role_label,
        title_of=title_of,
    )
