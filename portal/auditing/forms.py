"""The audit log's filter form (GET), the export form and the verification form (POST)."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from portal.auditing.log import OBJECT_TYPES, LogFilter
from portal.auditing.register import ActorMatch, Person, match_action, match_actor, object_label
from portal.core.forms import PortalForm, PortalSubForm, choices

FORMATS = {"csv": "CSV", "jsonl": "JSON Lines"}


def _date(field) -> date | None:
    text = (field.data or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(_l("Please enter a date as YYYY-MM-DD, e.g. 2026-11-28.")) from None


class _FilterFields:
    """The filter, shared by the page's GET form and the export's POST form."""

    # a person's name or login; an action's name or code (see register.match_actor, match_action)
    actor = StringField(_l("Actor"), validators=[Optional(), Length(max=120)])
    action = StringField(_l("Action"), validators=[Optional(), Length(max=64)])
    # Choices are checked below, with messages in the user's language (a plain GET form has
    # no WTForms translations).
    object_type = SelectField(_l("Object type"), validate_choice=False)
    object_id = StringField(_l("Object number"), validators=[Optional(), Length(max=120)])
    inspection = SelectField(_l("Inspection"), validate_choice=False)
    since = StringField(_l("From (date)"), validators=[Optional(), Length(max=10)])
    until = StringField(_l("To (date, inclusive)"), validators=[Optional(), Length(max=10)])

    def setup_choices(self, inspections, people: list[Person]) -> None:
        """`people`: every account (register.people), for the person filter."""
        self.people = people
        self.object_type.choices = choices([("", _l("Any")), *((t, object_label(t)) for t in OBJECT_TYPES)])
        self.inspection.choices = choices(
            [("", _l("Any")), *((str(i.id), f"{i.id} · {i.title}") for i in inspections)]
        )

    def validate_action(self, field) -> None:
        if field.data and field.data.strip() and not match_action(field.data):
            raise ValidationError(
                _(
                    "No action is called “%(text)s”: choose one from the list, or type its code "
                    "(e.g. workflow.approve).",
                    text=field.data.strip(),
                )
            )

    def actor_match(self) -> ActorMatch | None:
        """Whom the person filter names (call after `validate()`)."""
        text = (self.actor.data or "").strip()
        return match_actor(text, self.people) if text else None

    def validate_object_type(self, field) -> None:
        if field.data and field.data not in OBJECT_TYPES:
            raise ValidationError(_l("Unknown object type."))

    def validate_inspection(self, field) -> None:
        if field.data and field.data not in {c.value for c in field.choices}:
            raise ValidationError(_l("No such inspection."))

    def validate_since(self, field) -> None:
        _date(field)

    def validate_until(self, field) -> None:
        until = _date(field)
        since = _date(self.since) if self.since.data else None
        if since and until and until < since:
            raise ValidationError(_l("The end date is before the start date."))

    def validate_object_id(self, field) -> None:
        if field.data and not self.object_type.data:
            raise ValidationError(_l("Choose the object type as well."))

    def log_filter(self) -> LogFilter:
        """The validated filter (call after `validate()`)."""
        actor, action = (self.actor.data or "").strip(), (self.action.data or "").strip()
        return LogFilter(
            actor=actor,
            action=action,
            object_type=self.object_type.data or "",
            object_id=(self.object_id.data or "").strip(),
            inspection=int(self.inspection.data) if self.inspection.data else None,
            since=_date(self.since),
            until=_date(self.until),
            actors=self.actor_match().logins if actor else (),
            actions=match_action(action) if action else (),
        )


class LogFilterForm(_FilterFields, PortalSubForm):
    """Read from the query string: a GET form needs no CSRF token."""


class ExportForm(_FilterFields, PortalForm):
    format = HiddenField(validators=[Optional()])

    def validate_format(self, field) -> None:
        if field.data not in FORMATS:
            raise ValidationError(_l("Unknown export format."))


class VerifyForm(PortalForm):
    scope = SelectField(_l("What to verify"), validate_choice=True)

    def setup_choices(self, inspections) -> None:
        self.scope.choices = choices(
            [("all", _l("Everything")), *((str(i.id), f"{i.id} · {i.title}") for i in inspections)]
        )
