"""The kinds of notification, declared once: a label for the list and a message template.

A notification stores its kind and the message's parameters (JSON), never its text, so that
each reader sees it in their own language. To add a kind, declare it here (label and message
as English msgids, translated in the catalog) and call `notify(users, "<kind>", item, …)`
with the parameters its message names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from portal.core.titles import action_title, title_of
from portal.supervision.levels import BY_ID
from workflows.extension import EXTENSION


@dataclass(frozen=True)
class Kind:
    id: str
    label: object  # a lazy string: short, for the list and the mail's subject
    message: object  # a lazy string with %(name)s parameters (the item's title is %(title)s)
    #: the parameter holding someone's own words, shown as a quote beneath the message
    quote: str = ""
    #: where on the item page the notification leads
    anchor: str = ""


KINDS: dict[str, Kind] = {
    k.id: k
    for k in (
        Kind("assigned", _l("Assigned to me"), _l("The item “%(title)s” has been assigned to you.")),
        Kind(
            "returned",
            _l("Returned to me"),
            _l("The item “%(title)s” has been returned to you; the reason is in its timeline."),
            anchor="timeline",
        ),
        Kind(
            "review",
            _l("Awaiting my review"),
            _l("The item “%(title)s” has been submitted for your review."),
            anchor="transitions",
        ),
        Kind(
            "not_fixed",
            _l("Reported not fixed"),
            _l("A member of the public reports that the item “%(title)s” is not fixed."),
            quote="comment",
        ),
        Kind(
            "chase",
            _l("Chase (催办)"),
            _l("The item “%(title)s” is being chased (催办)."),
            quote="text",
            anchor="timeline",
        ),
        Kind(
            "warning",
            _l("Deadline warning"),
            _l("Deadline warning (%(level)s) for the item “%(title)s”: its deadline is %(deadline)s."),
            anchor="warnings",
        ),
        Kind(
            "follow_up_due",
            _l("Follow-up check due (回头看)"),
            _l(
                "The item “%(title)s” was completed %(months)s months ago and is due for its follow-up "
                "check (回头看): confirm that the rectification has held, or reopen it."
            ),
            anchor="transitions",
        ),
        Kind(
            "extension_decided",
            _l("Extension decision"),
            _l("Extension request for the item “%(title)s” (to %(proposed)s): %(decision)s."),
            quote="comment",
            anchor="deadlines",
        ),
    )
}


def _level_title(level_id: str) -> str | None:
    level = BY_ID.get(level_id)
    return title_of(level) if level is not None else None


def _decision_title(transition_id: str) -> str | None:
    return action_title(EXTENSION.id, transition_id) if EXTENSION.has_transition(transition_id) else None


#: Parameters stored as ids and shown by name in the reader's language: id parameter ->
#: (the message's parameter, its name; None keeps what was stored).
LOCALISED = {"level_id": ("level", _level_title), "decision_id": ("decision", _decision_title)}


class _Params(dict):
    """Parameters for a message; one that is missing reads as a dash, never as an error."""

    def __missing__(self, key: str) -> str:
        return "—"


def render_message(kind_id: str, params: Mapping) -> str:
    """The message in the current language; an unknown kind is named by its id."""
    kind = KINDS.get(kind_id)
    if kind is None:
        return kind_id
    values = dict(params)
    for source, (target, name_of) in LOCALISED.items():
        if source in values and (name := name_of(values[source])) is not None:
            values[target] = name
    return str(kind.message) % _Params({k: v if v not in (None, "") else "—" for k, v in values.items()})


def quote_of(kind_id: str, params: Mapping) -> str:
    """Someone's own words that come with the message (a chase note, a public comment)."""
    kind = KINDS.get(kind_id)
    return str(params.get(kind.quote) or "") if kind and kind.quote else ""


def kind_label(kind_id: str) -> str:
    kind = KINDS.get(kind_id)
    return str(kind.label) if kind else kind_id
