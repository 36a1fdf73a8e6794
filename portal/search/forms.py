"""The forms of the search pages: saving a search and removing a saved one."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import InputRequired

from portal.core.forms import PortalForm, max_length
from portal.search.models import NAME_MAX_LENGTH, QUERY_MAX_LENGTH


class SaveSearchForm(PortalForm):
    name = StringField(
        _l("Name of the saved search"),
        validators=[InputRequired(message=_l("Give the search a name.")), max_length(NAME_MAX_LENGTH)],
    )
    #: the search's parameters as a query string (the page's own search, carried along)
    query = HiddenField(validators=[max_length(QUERY_MAX_LENGTH)])


class RemoveSavedSearchForm(PortalForm):
    """Only the CSRF token: the saved search is named by the URL."""
