"""The evidence form of the item page (佐证材料: a file, a note or a link)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError


class EvidenceForm(FlaskForm):
    file = FileField(_l("File"))
    note = TextAreaField(_l("Note or link"), validators=[Optional(), Length(max=4000)])
    public = BooleanField(_l("May be shown on the public page"))

    def validate_note(self, field) -> None:
        if not field.data and not self.file.data:
            raise ValidationError(_l("Choose a file or write a note."))
