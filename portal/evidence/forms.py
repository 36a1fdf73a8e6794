"""The evidence form of the item page (佐证材料: a file, a note or a link)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, TextAreaField
from wtforms.validators import ValidationError

from portal.core.forms import PortalForm, blank, max_length
from portal.evidence.models import NOTE_MAX_LENGTH

EVIDENCE_MISSING = _l("Choose a file or write a note.")


class EvidenceForm(PortalForm):
    file = FileField(_l("File"))
    note = TextAreaField(_l("Note or link"), validators=[max_length(NOTE_MAX_LENGTH)])
    public = BooleanField(_l("May be shown on the public page"))

    def has_file(self) -> bool:
        """A file part that names a file (a browser sends one without a name when none is chosen)."""
        return bool(self.file.data and (self.file.data.filename or "").strip())

    def validate_note(self, field) -> None:
        # Not a field validator after Optional(): that would skip it for an empty note. A note of
        # white space, or a file part without a file name, is no evidence.
        if blank(field.data) and not self.has_file():
            raise ValidationError(EVIDENCE_MISSING)
