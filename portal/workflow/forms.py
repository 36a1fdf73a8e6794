"""The transition form: a comment and the version the user saw."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length, Optional


class TransitionForm(FlaskForm):
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=4000)])
    version = HiddenField()

    def expected_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None
