"""The dashboard's filter, read from the query string (a GET form needs no CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import ValidationError

from portal.core.forms import PortalSubForm


class DashboardFilterForm(PortalSubForm):
    inspection = SelectField(_l("Inspection"), validate_choice=False)

    def setup_choices(self, inspections) -> None:
        self.inspection.choices = [("", _l("All inspections"))] + [(str(i.id), i.title) for i in inspections]

    def validate_inspection(self, field) -> None:
        if (field.data or "") not in {value for value, _label in field.choices}:
            raise ValidationError(
                _l(
                    "There is no such inspection among those you may see; "
                    "the figures below are for all of them."
                )
            )

    def inspection_id(self) -> int | None:
        return int(self.inspection.data) if self.inspection.data else None
