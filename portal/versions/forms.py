"""The revert form of the version history."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Optional

from portal.core.forms import PortalForm, max_length
from portal.versions.models import NOTE_MAX_LENGTH


class RevertForm(PortalForm):
    change_note = StringField(_l("Change note"), validators=[Optional(), max_length(NOTE_MAX_LENGTH)])
