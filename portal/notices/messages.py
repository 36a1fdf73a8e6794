"""The parser's warnings in the user's language.

The parser is pure Python and writes its warnings in English (`ParseWarning`, a string that
also carries a code and parameters); here each code gets its message in the catalogue.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.notices.parser import ParseWarning

WARNINGS = {
    "no_title": _l("No notice title (…整改情况的通报) was found; the first line is used as the title."),
    "outside_problem": _l("Text outside any problem: “%(text)s…”"),
    "measure_labels": _l(
        "Problem %(number)s “%(title)s”: the measure labels %(labels)s are not consecutive (kept as written)."
    ),
    "no_problems": _l("No problems were found. Is this a rectification notice?"),
    "problem_count": _l("The text states %(stated)d problems, but %(found)d were found."),
    "status_count": _l(
        "The text counts %(stated_completed)d completed and %(stated_partial)d partly completed "
        "problems; the problems' own status lines give %(completed)d and %(partial)d."
    ),
    "internal_error": _l("The parser failed part-way; the result is incomplete (%(error)s)."),
}


def warning_text(warning: str) -> str:
    """`warning` in the current locale; a warning without a known code stays as written."""
    message = WARNINGS.get(getattr(warning, "code", None))
    if message is None:
        return str(warning)
    try:
        return str(message) % warning.params
    except (KeyError, TypeError, ValueError):  # a translation that lost a placeholder
        return str(warning)


def warning_texts(warnings: list[ParseWarning]) -> list[str]:
    return [warning_text(w) for w in warnings]
