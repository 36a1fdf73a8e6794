"""The ledger upload form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import Optional, ValidationError

from portal.core.forms import PortalForm, max_length
from portal.inspections.models import TITLE_MAX_LENGTH


class LedgerUploadForm(PortalForm):
    file = FileField(_l("Ledger (.xlsx)"))
    title = StringField(
        _l("Title of the new inspection"), validators=[Optional(), max_length(TITLE_MAX_LENGTH)]
    )

    def validate_file(self, field) -> None:
        if not (field.data and field.data.filename):
            raise ValidationError(_l("Choose a file."))
