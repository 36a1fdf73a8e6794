"""What the search says in words: the facets', kinds' and sorts' titles, and what is wrong with
a parameter that could not be used (the pages and the API say the same)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.search import query
from portal.search.models import KINDS

FACET_TITLES = {
    "inspection": _l("Inspection"),
    "state": _l("State"),
    "department": _l("Department"),
    "level": _l("Deadline level"),
    "leader": _l("Responsible leader"),
    "staff": _l("Responsible staff"),
    "due_from": _l("Deadline from"),
    "due_to": _l("Deadline to"),
    "sort": _l("Sort by"),
}
KIND_TITLES = {
    "title": _l("Title"),
    "finding": _l("Finding"),
    "measure": _l("Measure"),
    "completion": _l("Completion summary"),
    "public_summary": _l("Public summary"),
    "evidence": _l("Evidence"),
    "feedback": _l("Feedback"),
}
SORT_TITLES = {"deadline": _l("Deadline first"), "newest": _l("Newest first"), "oldest": _l("Oldest first")}
assert set(KIND_TITLES) == set(KINDS)


def problem_message(problem: query.Problem) -> str:
    """What is wrong with one parameter, in the user's language."""
    if problem.name == "q":
        if problem.kind == "too_short":
            return _(
                "“%(term)s” is a single Chinese character: search for terms of two characters or more.",
                term=problem.args.get("term", ""),
            )
        if problem.kind == "too_many":
            return _("Search for at most %(n)d terms at a time.", n=problem.args.get("limit", 0))
        return _("A search term may have at most %(n)d characters.", n=problem.args.get("limit", 0))
    if problem.kind == "before_from":
        return _("The deadline range ends before it begins; its end was left out.")
    return _("The filter “%(name)s” was not understood and was left out.", name=FACET_TITLES[problem.name])
