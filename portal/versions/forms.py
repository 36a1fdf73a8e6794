"""The revert form of the version history."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional


class RevertForm(FlaskForm):
    change_note = StringField(_l("Change note"), validators=[Optional(), Length(max=500)])
