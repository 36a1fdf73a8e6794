"""The ledger upload form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import Length, Optional, ValidationError


class LedgerUploadForm(FlaskForm):
    file = FileField(_l("Ledger (.xlsx)"))
    title = StringField(_l("Title of the new inspection"), validators=[Optional(), Length(max=300)])

    def validate_file(self, field) -> None:
        if not (field.data and field.data.filename):
            raise ValidationError(_l("Choose a file."))
