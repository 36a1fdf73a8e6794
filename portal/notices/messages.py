"""The parser's warnings in the user's language.

The parser is pure Python and writes its warnings in English (`ParseWarning`, a string that
also carries a code and parameters); here each code gets its message in the catalogue.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.core.titles import listed, state_title
from portal.notices.parser import ParseWarning
from portal.notices.status import START_STATES
from workflows.rectification import RECTIFICATION

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
    "cut_heading": _l(
        "The text ends with the heading “%(heading)s”: it looks cut off there, so it was left out."
    ),
    "uncertain_date": _l(
        "“%(text)s”: the digits of a date ran together in the source; it was not read as a date."
    ),
    "aspect_count": _l("The text states %(stated)d aspects (方面), but %(found)d categories were found."),
    "in_progress_count": _l(
        "The text counts %(stated)d problems still being rectified; the problems' own status gives %(found)d."
    ),
}

# Why an uploaded file gives no text (portal.notices.formats.NoticeFormatError and
# portal.notices.text.NoticeInputError codes), for the upload form.
INPUT_ERRORS = {
    "empty": _l("The file is empty."),
    "binary": _l("This is not a text file. Save the notice as plain text (.txt) and try again."),
    "encoding": _l("The text is neither UTF-8 nor GB18030 encoded."),
    "unsupported": _l(
        "This file type cannot be read. Upload the notice as .txt, .docx or .pdf (with a text layer)."
    ),
    "no_text_layer": _l(
        "This PDF has no text layer (it is a scan). Upload the notice as .docx or .txt, or a PDF with text."
    ),
    "unreadable": _l("The file could not be read: it is damaged or protected."),
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


def input_error_text(error: Exception) -> str:
    """Why an upload gives no text, in the current locale (its English message when the code is
    unknown)."""
    message = INPUT_ERRORS.get(getattr(error, "code", None))
    return str(message) if message is not None else str(error)


def start_states_text() -> str:
    """已交办、整改中或已完成: the states an imported item may start in, as one phrase."""
    *first, last = (state_title(RECTIFICATION.id, s) for s in START_STATES)
    return _l("%(first)s or %(last)s") % {"first": listed(first), "last": last}
